/**
 * Builds the HTTP request for a RequestSpec: URL, headers and the JSON body, all before the clock starts (a 128K-token
 * prompt serialises to ~1 MB; doing that between t_sched and t_send would show up as queue delay, vLLM #39963).
 * Invalid specs are programming or configuration errors and throw SkipbenchError(SKB_CONFIG); they never reach the
 * server.
 */
import { ErrorCodes, invalid, SkipbenchError } from '../../kernels/errors.js';
import type { RequestSpec } from './record.js';

export interface PrepareOptions {
  /** The server's root URL, e.g. `http://127.0.0.1:8080`. A trailing `/v1` (the OpenAI `base_url` convention) is
   * accepted and not doubled. */
  baseUrl: string;
  /** NAME of the environment variable that holds the API key, sent as `Authorization: Bearer <key>`. The key is
   * read at call time and never stored. */
  apiKeyEnv?: string;
  /** Where apiKeyEnv is looked up; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Extra request headers (names are case-insensitive; these win over the defaults). */
  headers?: Readonly<Record<string, string>>;
}

export interface PreparedRequest {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

const ENDPOINT_PATHS = { completions: '/v1/completions', chat: '/v1/chat/completions' } as const;

export function prepareRequest(spec: RequestSpec, options: PrepareOptions): PreparedRequest {
  const { origin, prefix } = baseUrlParts(options.baseUrl);
  const endpointPath = ENDPOINT_PATHS[spec.endpoint];
  if (endpointPath === undefined) throw invalid(ErrorCodes.CONFIG, 'endpoint', "'completions' | 'chat'", spec.endpoint);
  return {
    origin,
    path: prefix + endpointPath,
    headers: requestHeaders(options),
    body: Buffer.from(JSON.stringify(requestBody(spec)), 'utf8'),
  };
}

/** The JSON body: streaming with usage on, then the spec's extra fields; `stream` stays true whatever they say,
 * since everything downstream reads SSE. */
export function requestBody(spec: RequestSpec): Record<string, unknown> {
  if (!Number.isInteger(spec.maxTokens) || spec.maxTokens < 1) {
    throw invalid(ErrorCodes.CONFIG, 'maxTokens', 'an integer >= 1', spec.maxTokens);
  }
  const body: Record<string, unknown> = {};
  if (spec.model !== undefined) body.model = spec.model;
  if (spec.endpoint === 'completions') {
    const prompt = spec.prompt;
    const valid =
      typeof prompt === 'string' ||
      (Array.isArray(prompt) && prompt.length > 0 && prompt.every((t) => Number.isInteger(t) && t >= 0));
    if (!valid) throw invalid(ErrorCodes.CONFIG, 'prompt', 'a string or a non-empty array of token ids', prompt);
    body.prompt = prompt;
  } else {
    if (!Array.isArray(spec.messages) || spec.messages.length === 0) {
      throw invalid(ErrorCodes.CONFIG, 'messages', 'a non-empty array of chat messages', spec.messages);
    }
    body.messages = spec.messages;
  }
  body.max_tokens = spec.maxTokens;
  Object.assign(body, spec.extraBody);
  body.stream = true;
  // usage in the stream gives N_out and N_in from the server; a caller may extend stream_options via extraBody
  body.stream_options ??= { include_usage: true };
  return body;
}

function requestHeaders(options: PrepareOptions): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'text/event-stream',
  };
  if (options.apiKeyEnv !== undefined) {
    const env = options.env ?? process.env;
    const key = env[options.apiKeyEnv];
    if (key === undefined || key.length === 0) {
      // name the variable, never its value
      throw new SkipbenchError(ErrorCodes.CONFIG, `environment variable ${options.apiKeyEnv} (API key) is not set`, {
        field: 'apiKeyEnv',
        allowed: 'the name of a set, non-empty environment variable',
        received: options.apiKeyEnv,
      });
    }
    headers.authorization = `Bearer ${key}`;
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  return headers;
}

/** The last base URL parsed: a run sends every request to one URL, and a burst of 1000 concurrent starts would
 * otherwise parse it 1000 times inside the send burst. One entry, so it cannot grow. */
let lastBaseUrl: { baseUrl: string; origin: string; prefix: string } | undefined;

function baseUrlParts(baseUrl: string): { origin: string; prefix: string } {
  if (lastBaseUrl?.baseUrl === baseUrl) return lastBaseUrl;
  const url = parseBaseUrl(baseUrl);
  lastBaseUrl = { baseUrl, origin: url.origin, prefix: url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '') };
  return lastBaseUrl;
}

function parseBaseUrl(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw invalid(ErrorCodes.CONFIG, 'baseUrl', 'an http(s) URL', baseUrl);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(ErrorCodes.CONFIG, 'baseUrl', 'an http(s) URL', baseUrl);
  }
  return url;
}
