/**
 * Reads one SSE event of an OpenAI-style streaming response (`/v1/completions` or `/v1/chat/completions`) and says
 * what it carries. The central question is whether the event is token-bearing, because t_first and every ITL gap hang
 * on it: a role-only chat chunk, an empty `text`/`content`, a `choices: []` usage chunk and a keep-alive carry no
 * generated token (counting the role chunk as the first token is vLLM #3759 / #15106).
 *
 * Both places servers put `usage` are handled: llama.cpp on the last text event (choices non-empty, text ''),
 * OpenAI-style servers on a separate final chunk with `choices: []`. llama.cpp's `timings` object is kept verbatim
 * so its server-side figures can sit beside the client's.
 */
import type { SseEvent } from './sse.js';

/** Token counts a server reported (OpenAI `usage`). Fields the server left out stay undefined. */
export interface Usage {
  promptTokens?: number;
  completionTokens?: number;
  totalTokens?: number;
  /** `usage.prompt_tokens_details.cached_tokens`: prompt tokens served from the prefix cache (should be 0 in a
   * benchmark; a non-zero value means results are inflated, vLLM #52884). */
  cachedTokens?: number;
}

/**
 * llama.cpp's per-request `timings`, exactly as received. The known fields are typed for convenience; any other
 * field the server adds is kept. prompt_ms runs from the start of processing to the first sampled token;
 * predicted_per_token_ms = predicted_ms / (predicted_n - 1), the same definition as client-side TPOT.
 */
export interface ServerTimings {
  cache_n?: number;
  prompt_n?: number;
  prompt_ms?: number;
  prompt_per_token_ms?: number;
  prompt_per_second?: number;
  predicted_n?: number;
  predicted_ms?: number;
  predicted_per_token_ms?: number;
  predicted_per_second?: number;
  [field: string]: unknown;
}

/** A data chunk of the stream (what every event but `[DONE]`, an error or garbage is). */
export interface StreamChunk {
  kind: 'chunk';
  /** Carries at least one generated token. */
  tokenBearing: boolean;
  /** Generated tokens in this event: the logprobs entries when the server sent them, else 1 per choice with text,
   * 0 when not token-bearing. */
  tokens: number;
  /** Generated text of the event (reasoning, content and completion text of every choice, in order). */
  text: string;
  usage?: Usage;
  timings?: ServerTimings;
  /** The first non-null finish_reason among the choices. */
  finishReason?: string;
}

export type ChunkInfo =
  /** The `[DONE]` sentinel. */
  | { kind: 'done' }
  /** The data is not a JSON object. `excerpt` is its start, for messages. */
  | { kind: 'malformed'; excerpt: string }
  /** The server reported an error inside the stream (`{"error": ...}` or an `event: error`). */
  | { kind: 'error'; message: string }
  | StreamChunk;

const EXCERPT_LENGTH = 200;

/** Interprets one SSE event. */
export function interpretEvent(event: SseEvent): ChunkInfo {
  if (event.done) return { kind: 'done' };
  const data = event.data.trim();
  // an empty `data:` line is a keep-alive some proxies send; it carries nothing
  if (data.length === 0) return { kind: 'chunk', tokenBearing: false, tokens: 0, text: '' };
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { kind: 'malformed', excerpt: data.slice(0, EXCERPT_LENGTH) };
  }
  if (event.event === 'error') return { kind: 'error', message: errorMessage(value, data) };
  return interpretChunk(value, data);
}

/** Interprets a parsed chunk. `raw` (the data text) is only used for messages. */
export function interpretChunk(value: unknown, raw = ''): ChunkInfo {
  if (!isObject(value)) return { kind: 'malformed', excerpt: raw.slice(0, EXCERPT_LENGTH) };
  if (value.error !== undefined && value.error !== null) return { kind: 'error', message: errorMessage(value, raw) };

  let tokens = 0;
  let text = '';
  let finishReason: string | undefined;
  const choices = Array.isArray(value.choices) ? value.choices : [];
  for (const choice of choices) {
    if (!isObject(choice)) continue;
    const choiceText = generatedText(choice);
    const logprobTokens = countLogprobs(choice.logprobs);
    text += choiceText;
    tokens += logprobTokens > 0 ? logprobTokens : choiceText.length > 0 || hasToolCall(choice) ? 1 : 0;
    if (finishReason === undefined && typeof choice.finish_reason === 'string') finishReason = choice.finish_reason;
  }

  const info: StreamChunk = { kind: 'chunk', tokenBearing: tokens > 0, tokens, text };
  const usage = readUsage(value.usage);
  if (usage) info.usage = usage;
  if (isObject(value.timings)) info.timings = value.timings as ServerTimings;
  if (finishReason !== undefined) info.finishReason = finishReason;
  return info;
}

/** Text a choice generated: completions `text`; chat `delta.content`, and the reasoning fields of thinking models
 * (llama.cpp/vLLM `reasoning_content`, newer vLLM `reasoning`), which are generated tokens just the same. */
function generatedText(choice: Record<string, unknown>): string {
  let text = typeof choice.text === 'string' ? choice.text : '';
  const delta = choice.delta;
  if (isObject(delta)) {
    for (const key of ['reasoning_content', 'reasoning', 'content']) {
      const part = delta[key];
      if (typeof part === 'string') text += part;
    }
  }
  return text;
}

/** A tool-call delta is generated output even though it has no `content`. */
function hasToolCall(choice: Record<string, unknown>): boolean {
  const delta = choice.delta;
  return isObject(delta) && Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0;
}

/** Tokens listed in the logprobs: chat `logprobs.content[]`, completions `logprobs.tokens[]`; 0 when absent. */
function countLogprobs(logprobs: unknown): number {
  if (!isObject(logprobs)) return 0;
  if (Array.isArray(logprobs.content)) return logprobs.content.length;
  if (Array.isArray(logprobs.tokens)) return logprobs.tokens.length;
  return 0;
}

/** Reads `usage`; undefined when absent or null (OpenAI sends `usage: null` on every chunk but the last). */
export function readUsage(value: unknown): Usage | undefined {
  if (!isObject(value)) return undefined;
  const usage: Usage = {};
  const prompt = count(value.prompt_tokens);
  const completion = count(value.completion_tokens);
  const total = count(value.total_tokens);
  const details = value.prompt_tokens_details;
  const cached = isObject(details) ? count(details.cached_tokens) : undefined;
  if (prompt !== undefined) usage.promptTokens = prompt;
  if (completion !== undefined) usage.completionTokens = completion;
  if (total !== undefined) usage.totalTokens = total;
  if (cached !== undefined) usage.cachedTokens = cached;
  return usage;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function errorMessage(value: unknown, raw: string): string {
  const error = isObject(value) ? value.error : undefined;
  if (typeof error === 'string') return error;
  if (isObject(error) && typeof error.message === 'string') return error.message;
  if (isObject(value) && typeof value.message === 'string') return value.message;
  return raw.slice(0, EXCERPT_LENGTH);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
