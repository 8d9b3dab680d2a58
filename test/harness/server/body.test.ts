/** The request a spec turns into: URL joining, the streaming body, headers; invalid specs fail with SKB_CONFIG. */
import { describe, expect, it } from 'vitest';
import { prepareRequest, requestBody } from '../../../harness/server/body.js';
import type { RequestSpec } from '../../../harness/server/record.js';
import { ErrorCodes, SkipbenchError } from '../../../kernels/errors.js';

const completion: RequestSpec = { endpoint: 'completions', prompt: [1, 2, 3], maxTokens: 8 };

function codeOf(fn: () => unknown): { code?: string; field?: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SkipbenchError);
    return error as SkipbenchError;
  }
  throw new Error('expected a throw');
}

describe('prepareRequest', () => {
  it('joins the endpoint path to the base URL, accepting a trailing /v1 and a path prefix', () => {
    expect(prepareRequest(completion, { baseUrl: 'http://127.0.0.1:8080' })).toMatchObject({
      origin: 'http://127.0.0.1:8080',
      path: '/v1/completions',
    });
    expect(
      prepareRequest(
        { ...completion, endpoint: 'chat', messages: [{ role: 'user', content: 'hi' }] },
        {
          baseUrl: 'http://h:1/v1/',
        },
      ).path,
    ).toBe('/v1/chat/completions');
    expect(prepareRequest(completion, { baseUrl: 'https://h/proxy/llm' }).path).toBe('/proxy/llm/v1/completions');
  });

  it('sends custom headers and the API key from the named environment variable', () => {
    const p = prepareRequest(completion, {
      baseUrl: 'http://h',
      apiKeyEnv: 'MY_KEY',
      env: { MY_KEY: 'k-1' },
      headers: { 'X-Run': 'r1' },
    });
    expect(p.headers).toMatchObject({ authorization: 'Bearer k-1', 'x-run': 'r1', 'content-type': 'application/json' });
  });

  it('rejects an unset API key variable, naming the variable', () => {
    const e = codeOf(() => prepareRequest(completion, { baseUrl: 'http://h', apiKeyEnv: 'NOPE', env: {} }));
    expect(e).toMatchObject({ code: ErrorCodes.CONFIG, field: 'apiKeyEnv' });
  });

  it('rejects a bad base URL', () => {
    expect(codeOf(() => prepareRequest(completion, { baseUrl: 'ftp://h' }))).toMatchObject({ field: 'baseUrl' });
    expect(codeOf(() => prepareRequest(completion, { baseUrl: 'not a url' }))).toMatchObject({ field: 'baseUrl' });
  });
});

describe('requestBody', () => {
  it('streams with usage, merges extra fields and keeps stream on', () => {
    expect(
      requestBody({ ...completion, model: 'm', extraBody: { ignore_eos: true, min_tokens: 8, stream: false } }),
    ).toEqual({
      model: 'm',
      prompt: [1, 2, 3],
      max_tokens: 8,
      ignore_eos: true,
      min_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('rejects specs that cannot make a request', () => {
    expect(codeOf(() => requestBody({ ...completion, maxTokens: 0 }))).toMatchObject({ field: 'maxTokens' });
    expect(codeOf(() => requestBody({ ...completion, prompt: undefined }))).toMatchObject({ field: 'prompt' });
    expect(codeOf(() => requestBody({ ...completion, prompt: [1.5] }))).toMatchObject({ field: 'prompt' });
    expect(codeOf(() => requestBody({ endpoint: 'chat', maxTokens: 1, messages: [] }))).toMatchObject({
      code: ErrorCodes.CONFIG,
      field: 'messages',
    });
  });
});
