/**
 * What one streaming request to an OpenAI-compatible server is asked to do (RequestSpec) and what it measured
 * (RequestRecord). A failed request is a record too, with whatever timings it got before failing, so that failures
 * are counted in the results instead of silently dropped (guidellm #444).
 *
 * All times are milliseconds on one monotonic clock (performance.now unless a test injects another), stamped at the
 * lowest layer: t_send in undici's request-start hook, just before the request is written on the socket; t_headers,
 * token events and t_end as the bytes are handed over by the HTTP parser. Definitions: DESIGN.md §2.
 */
import type { ServerTimings, Usage } from './chunks.js';

export type Endpoint = 'completions' | 'chat';

export interface ChatMessage {
  role: string;
  content: string;
  /** Any other field the server accepts (name, tool_call_id, ...). */
  [field: string]: unknown;
}

export interface RequestSpec {
  /** The caller's identifier, copied into the record. */
  id?: string;
  /** `completions` -> POST /v1/completions, `chat` -> POST /v1/chat/completions. */
  endpoint: Endpoint;
  /** The `model` body field; left out when undefined (llama.cpp serves one model and ignores it). */
  model?: string;
  /** Completions: the prompt as text or as token ids (ids avoid any re-tokenisation drift, sglang #15732). */
  prompt?: string | readonly number[];
  /** Chat: the messages. */
  messages?: readonly ChatMessage[];
  /** `max_tokens`: an integer >= 1. */
  maxTokens: number;
  /** More body fields, merged last (e.g. `ignore_eos`, `min_tokens`, `cache_prompt`, `temperature`). */
  extraBody?: Readonly<Record<string, unknown>>;
  /** t_sched: when the load schedule meant this request to go (open loop). Default: when the call is made. */
  tSched?: number;
  /** The client's own count of prompt tokens, recorded beside the server's. */
  promptTokens?: number;
}

export type FailureReason =
  /** The server answered with a non-2xx status. */
  | 'http_status'
  /** The total or idle timeout ran out (ours, or undici's own headers/body timeouts). */
  | 'timeout'
  /** The connection could not be made or broke (refused, reset, closed mid-stream). */
  | 'connection'
  /** The stream ended without a token and had lines or data that were not SSE / JSON. */
  | 'malformed'
  /** The caller's AbortSignal fired. */
  | 'aborted'
  /** The stream ended cleanly without any token-bearing event. */
  | 'no_tokens'
  /** The server reported an error inside a 200 stream (`{"error": ...}` data or an `event: error`). */
  | 'server_error';

/** Fields every record has, failed or not. Times the request never reached are undefined. */
export interface RequestRecordBase {
  id?: string;
  endpoint: Endpoint;
  /** Intended send time (ms). */
  tSched: number;
  /** Just before the request was written on the socket (ms); undefined when it never got a connection. */
  tSend?: number;
  /** Response status line and headers received (ms). */
  tHeaders?: number;
  /** First token-bearing event (ms). */
  tFirst?: number;
  /** Last token-bearing event (ms). */
  tLast?: number;
  /** The response body ended, or the request failed (ms). */
  tEnd?: number;
  /** Arrival time (ms) of each token-bearing event, in order; tokenTimes[0] === tFirst. */
  tokenTimes: number[];
  /** Generated tokens carried by each of those events (1 per text chunk unless logprobs list more). */
  tokenCounts: number[];
  /** Sum of tokenCounts. */
  eventTokens: number;
  /** Output tokens: usage.completion_tokens when the server sent usage, else eventTokens. */
  nOut: number;
  nOutSource: 'usage' | 'events';
  /** Prompt tokens according to the server (usage.prompt_tokens). */
  nIn?: number;
  nInSource: 'usage' | 'none';
  /** Prompt tokens according to the client (RequestSpec.promptTokens). */
  nInClient?: number;
  /** usage.prompt_tokens_details.cached_tokens: non-zero means the prefix cache served part of the prompt. */
  cachedTokens?: number;
  usage?: Usage;
  /** llama.cpp's `timings`, verbatim. */
  serverTimings?: ServerTimings;
  finishReason?: string;
  /** Malformed SSE lines plus data events that were not a JSON object. */
  malformedCount: number;
  /** The `[DONE]` sentinel arrived. */
  sawDone: boolean;
  httpStatus?: number;
  /** Response body bytes received. */
  bytesReceived: number;
  /** The generated text, only when RequestOptions.collectText is set (needle/passkey checks). */
  text?: string;
}

export interface RequestOk extends RequestRecordBase {
  status: 'ok';
  tSend: number;
  tHeaders: number;
  tFirst: number;
  tLast: number;
  tEnd: number;
  httpStatus: number;
}

export interface RequestFailed extends RequestRecordBase {
  status: 'failed';
  reason: FailureReason;
  /** Milliseconds the server asked to wait (HTTP Retry-After, seconds or HTTP-date), when it sent one. */
  retryAfterMs?: number;
  /** What went wrong, with the start (<= 4 KiB) of an HTTP error body. */
  message: string;
}

export type RequestRecord = RequestOk | RequestFailed;
