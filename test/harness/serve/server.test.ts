/**
 * The reference server over real HTTP on 127.0.0.1 (WebAssembly kernel, one worker thread, tiny shape): the
 * informational routes, a streaming completion measured by the project's own client, the chat framing, the
 * non-streaming JSON, FIFO service, the 400s, and a client abort that frees the queue.
 */
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestMetrics } from '../../../harness/server/metrics.js';
import type { RequestOk, RequestRecord } from '../../../harness/server/record.js';
import { sendStreamingRequest } from '../../../harness/server/request.js';
import { parseMetrics } from '../../../harness/serve/metrics.js';
import { type ReferenceServer, startReferenceServer } from '../../../harness/serve/server.js';
import { readFixture } from '../server/loopback.js';
import { type Json, postJson, promptText, sseData, TINY, tokenizer } from './helpers.js';

let server: ReferenceServer;
const agent = new Agent();

beforeAll(async () => {
  server = await startReferenceServer({ ...TINY, modelName: 'tiny-ref' });
});
afterAll(async () => {
  await server?.close();
  await agent.close();
});

function ok(record: RequestRecord): RequestOk {
  if (record.status !== 'ok') throw new Error(`request failed: ${record.reason}: ${record.message}`);
  return record;
}

async function metrics(): Promise<Record<string, number>> {
  return parseMetrics(await (await fetch(`${server.url}/metrics`)).text());
}

describe('informational routes', () => {
  it('answers /health, /v1/models, /tokenize and /metrics', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.implementation).toMatch(/^wasm-/);
    const health = await fetch(`${server.url}/health`);
    expect(await health.json()).toEqual(JSON.parse(readFixture('health.json').toString()));

    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as Json;
    expect(models.object).toBe('list');
    expect(models.data[0]).toMatchObject({
      id: 'tiny-ref',
      object: 'model',
      meta: { n_ctx: 8192, n_layer: 2, n_head: 4, n_head_kv: 1, head_dim: 64, head_mix: 'sink:2,local:2' },
    });

    const tokenize = await postJson(`${server.url}/tokenize`, { content: 'The quick brown fox' });
    expect(tokenize.json).toEqual(JSON.parse(readFixture('tokenize.json').toString()));

    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('# TYPE skipbench:prefill_tiles_skipped_total counter');
    const values = parseMetrics(text);
    for (const name of [
      'requests_total',
      'prompt_tokens_total',
      'tokens_predicted_total',
      'prefill_tiles_visited_total',
      'prefill_tiles_skipped_total',
      'decode_tiles_visited_total',
      'decode_tiles_skipped_total',
      'requests_deferred',
      'requests_processing',
    ]) {
      expect(values[`skipbench:${name}`], name).toBeTypeOf('number');
    }
  });

  it('answers 404 / 405 with an error body', async () => {
    const missing = await fetch(`${server.url}/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Json).error.code).toBe(404);
    expect((await fetch(`${server.url}/v1/completions`)).status).toBe(405);
  });
});

describe('streaming completions', () => {
  it("gives max_tokens tokens, the tokenizer's prompt count + BOS, TTFT > 0 and TPOT > 0", async () => {
    const prompt = promptText(300, 1);
    const clientCount = tokenizer.encode(prompt).length;
    const record = ok(
      await sendStreamingRequest(
        { endpoint: 'completions', prompt, maxTokens: 12, promptTokens: clientCount + 1 },
        { baseUrl: server.url, dispatcher: agent, collectText: true },
      ),
    );
    expect(record.nOut).toBe(12);
    expect(record.nOutSource).toBe('usage');
    expect(record.eventTokens).toBe(12);
    expect(record.tokenTimes).toHaveLength(12);
    expect(record.nIn).toBe(clientCount + 1);
    expect(record.cachedTokens).toBe(0);
    expect(record.finishReason).toBe('length');
    expect(record.sawDone).toBe(true);
    expect(tokenizer.encode(record.text ?? '')).toHaveLength(12);
    const m = requestMetrics(record);
    expect(m.ttftMs).toBeGreaterThan(0);
    expect(m.tpotMs).toBeGreaterThan(0);
    const t = record.serverTimings!;
    expect(t).toMatchObject({ cache_n: 0, prompt_n: clientCount + 1, predicted_n: 12 });
    expect(t.prompt_ms).toBeGreaterThan(0);
    expect(t.predicted_per_token_ms).toBeCloseTo((t.predicted_ms as number) / 11, 2);
    expect(t.skipbench).toMatchObject({ prefill_sparsity: 0, decode_sparsity: 0, layers: 2 });
  });

  it('frames the completions stream like llama.cpp: usage and timings on the last (empty) text event', async () => {
    const { status, text } = await postJson(`${server.url}/v1/completions`, {
      prompt: 'The quick brown fox',
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(status).toBe(200);
    const events = sseData(text);
    expect(events).toHaveLength(6);
    expect(events.at(-1)).toBe('[DONE]');
    for (const e of events.slice(0, 4)) {
      expect(e.object).toBe('text_completion');
      expect(e.choices[0].text).toMatch(/^ \w+$/);
      expect(e.usage).toBeUndefined();
    }
    const last = events[4];
    expect(last.choices[0]).toEqual({ text: '', index: 0, logprobs: null, finish_reason: 'length' });
    expect(last.usage).toEqual({
      completion_tokens: 4,
      prompt_tokens: 5,
      total_tokens: 9,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(last.timings.prompt_n).toBe(5);
    // without include_usage: timings still on the last event, no usage
    const bare = sseData(
      (await postJson(`${server.url}/v1/completions`, { prompt: [1, 2, 3], max_tokens: 2, stream: true })).text,
    );
    expect(bare[2].usage).toBeUndefined();
    expect(bare[2].timings.prompt_n).toBe(3); // token ids as given, no BOS
  });
});

describe('chat', () => {
  it('opens the stream with a role-only chunk, then content, finish and a choices: [] usage chunk', async () => {
    const content = 'The quick brown fox';
    const { text } = await postJson(`${server.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content }],
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    const events = sseData(text);
    expect(events.map((e) => (e === '[DONE]' ? e : e.object))).toEqual([
      ...Array(6).fill('chat.completion.chunk'),
      '[DONE]',
    ]);
    expect(events[0].choices).toEqual([{ finish_reason: null, index: 0, delta: { role: 'assistant', content: null } }]);
    for (const e of events.slice(1, 4)) expect(e.choices[0].delta.content).toMatch(/^ \w+$/);
    expect(events[4].choices).toEqual([{ finish_reason: 'length', index: 0, delta: {} }]);
    expect(events[5].choices).toEqual([]);
    expect(events[5].usage.prompt_tokens).toBe(14); // llama.cpp's count for the same chat
    expect(events[5].timings.predicted_n).toBe(3);
  });

  it('sends the role chunk at once, while the client times the first token from the first content chunk', async () => {
    // a long request in front keeps the chat requests queued: only the role chunk can arrive before it ends
    const front = sendStreamingRequest(
      { endpoint: 'completions', prompt: promptText(300, 2), maxTokens: 120 },
      { baseUrl: server.url, dispatcher: agent },
    );
    await waitFor(async () => (await metrics())['skipbench:requests_processing'] === 1);
    const messages = [{ role: 'user', content: promptText(100, 3) }];
    const measured = sendStreamingRequest(
      { endpoint: 'chat', messages, maxTokens: 5 },
      { baseUrl: server.url, dispatcher: agent },
    );
    const raw = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ messages, max_tokens: 2, stream: true }),
    });
    const reader = raw.body!.getReader();
    const firstRead = new TextDecoder().decode((await reader.read()).value);
    const tRole = performance.now();
    const opening = sseData(firstRead);
    expect(opening).toHaveLength(1);
    expect(opening[0].choices[0].delta).toEqual({ role: 'assistant', content: null });
    while (!(await reader.read()).done) {}

    const a = ok(await front);
    const b = ok(await measured);
    expect(tRole).toBeLessThan(a.tLast);
    expect(b.nOut).toBe(5);
    expect(b.eventTokens).toBe(5);
    // At the hand-over the client may read the two sockets in either order, so the chat's first token is compared
    // with the middle of the front request's 120-token stream rather than its very last event.
    expect(b.tFirst).toBeGreaterThan((a.tFirst + a.tLast) / 2);
  });
});

describe('non-streaming', () => {
  it('answers one JSON object like completions.json', async () => {
    const fixture = JSON.parse(readFixture('completions.json').toString());
    const { status, json } = await postJson(`${server.url}/v1/completions`, {
      prompt: 'The quick brown fox',
      max_tokens: 8,
    });
    expect(status).toBe(200);
    expect(Object.keys(json).sort()).toEqual(Object.keys(fixture).sort());
    expect(json.usage).toEqual(fixture.usage);
    expect(json.choices[0].finish_reason).toBe('length');
    expect(tokenizer.encode(json.choices[0].text)).toHaveLength(8);
    expect(Object.keys(json.timings)).toEqual(expect.arrayContaining(Object.keys(fixture.timings)));
    // the same prompt gives the same words
    const again = await postJson(`${server.url}/v1/completions`, { prompt: 'The quick brown fox', max_tokens: 8 });
    expect(again.json.choices[0].text).toBe(json.choices[0].text);

    const chat = await postJson(`${server.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
    });
    expect(chat.json.object).toBe('chat.completion');
    expect(chat.json.choices[0].message.role).toBe('assistant');
    expect(chat.json.usage.completion_tokens).toBe(2);
  });
});

describe('errors', () => {
  it('answers a too-long request with 400 exceed_context_size_error', async () => {
    const before = await metrics();
    const ids = Array.from({ length: 8190 }, (_, i) => 1000 + (i % 5000));
    const { status, json } = await postJson(`${server.url}/v1/completions`, {
      prompt: ids,
      max_tokens: 8,
      stream: true,
    });
    expect(status).toBe(400);
    expect(json.error).toMatchObject({
      code: 400,
      type: 'exceed_context_size_error',
      n_prompt_tokens: 8190,
      n_ctx: 8192,
    });
    const failed = await sendStreamingRequest(
      { endpoint: 'completions', prompt: ids.concat(ids), maxTokens: 1 },
      { baseUrl: server.url, dispatcher: agent },
    );
    expect(failed).toMatchObject({ status: 'failed', reason: 'http_status', httpStatus: 400 });
    const after = await metrics();
    expect(after['skipbench:requests_rejected_total'] - before['skipbench:requests_rejected_total']).toBe(2);
    expect(after['skipbench:prompt_tokens_total']).toBe(before['skipbench:prompt_tokens_total']);
  });

  it('answers malformed JSON and missing fields with 400 invalid_request_error', async () => {
    for (const body of ['{"prompt": ', '[]', { max_tokens: 3 }, { prompt: 'x', max_tokens: -1 }]) {
      const { status, json } = await postJson(`${server.url}/v1/completions`, body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json.error).toMatchObject({ code: 400, type: 'invalid_request_error' });
      expect(json.error.message).toBeTypeOf('string');
    }
    expect((await postJson(`${server.url}/v1/chat/completions`, { prompt: 'x' })).status).toBe(400);
  });
});

describe('scheduling', () => {
  it('serves concurrent requests FIFO: the second TTFT includes the first request', async () => {
    const first = sendStreamingRequest(
      { endpoint: 'completions', prompt: promptText(400, 3), maxTokens: 160 },
      { baseUrl: server.url, dispatcher: agent },
    );
    await waitFor(async () => (await metrics())['skipbench:requests_processing'] === 1);
    const second = sendStreamingRequest(
      { endpoint: 'completions', prompt: promptText(400, 4), maxTokens: 4 },
      { baseUrl: server.url, dispatcher: agent },
    );
    const [a, b] = (await Promise.all([first, second])).map(ok);
    expect(b.tFirst).toBeGreaterThan(a.tLast);
    const ttftB = requestMetrics(b).ttftMs!;
    // B waited for the rest of A: its TTFT covers A's remaining service plus its own prefill
    expect(ttftB).toBeGreaterThan(a.tLast - b.tSend);
    // B was sent while A was in its prefill, so B's wait (TTFT minus its own processing) is most of A's service
    const waitB = ttftB - (b.serverTimings!.prompt_ms as number);
    const serviceA = (a.serverTimings!.prompt_ms as number) + (a.serverTimings!.predicted_ms as number);
    expect(waitB).toBeGreaterThan(0.5 * serviceA);
  });

  it('stops a request whose client disconnects and serves the next one', async () => {
    const before = await metrics();
    const controller = new AbortController();
    const long = fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ prompt: promptText(300, 5), max_tokens: 6000, stream: true }),
      signal: controller.signal,
    });
    const res = await long;
    const reader = res.body!.getReader();
    let seen = '';
    while (!seen.includes('"text"')) seen += new TextDecoder().decode((await reader.read()).value);
    // queue a second request behind the long one, then hang up on the long one
    const next = sendStreamingRequest(
      { endpoint: 'completions', prompt: promptText(100, 6), maxTokens: 3 },
      { baseUrl: server.url, dispatcher: agent },
    );
    await waitFor(async () => (await metrics())['skipbench:requests_deferred'] === 1);
    controller.abort();
    const started = performance.now();
    const record = ok(await next);
    expect(record.nOut).toBe(3);
    expect(performance.now() - started).toBeLessThan(3000);
    const after = await metrics();
    expect(after['skipbench:requests_cancelled_total'] - before['skipbench:requests_cancelled_total']).toBe(1);
    expect(after['skipbench:requests_total'] - before['skipbench:requests_total']).toBe(1);
    // the long request stopped early: far fewer than its 6000 tokens were generated
    expect(after['skipbench:tokens_predicted_total'] - before['skipbench:tokens_predicted_total']).toBeLessThan(1000);
    expect(after['skipbench:requests_processing']).toBe(0);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
