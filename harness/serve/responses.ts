/**
 * Response bodies and SSE events, framed like llama.cpp's (test/fixtures/llamacpp/), one style per endpoint:
 *
 * /v1/completions, stream   one event per token `{choices: [{text, index, logprobs: null, finish_reason: null}]}`;
 *                           then a last event with text '' and finish_reason 'length' carrying `timings` and, when
 *                           stream_options.include_usage is set, `usage` (llama.cpp's shape: usage on the last
 *                           event, choices non-empty); then `data: [DONE]`.
 * /v1/chat/completions, stream
 *                           a role-only chunk `delta: {role: 'assistant', content: null}`, sent as soon as the request
 *                           is accepted (before it waits in the queue: a client that counts it as the first token
 *                           reports a TTFT near 0, vLLM #3759); one content chunk per token; a finish chunk
 *                           `delta: {}`, finish_reason 'length'; with include_usage a separate `choices: []` chunk
 *                           with `usage` and `timings` (OpenAI's shape), else `timings` ride on the finish chunk;
 *                           then `data: [DONE]`.
 * non-streaming             one JSON object with the whole text, `usage` and `timings` (completions.json).
 *
 * `timings` are llama.cpp's fields (prompt_ms: start of processing to the first token; predicted_ms: first to last
 * token; predicted_per_token_ms = predicted_ms / (predicted_n - 1), present with predicted_per_second only when
 * predicted_n >= 2) plus `skipbench`: the tiles visited/skipped per phase, the sparsities and the kernel time.
 */
import type { GenerationCall } from './protocol.js';
import type { GenerationResult, PhaseTotals } from './model.js';

export interface ResponseContext {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
  fingerprint: string;
  endpoint: GenerationCall['endpoint'];
}

/** Server facts reported inside `timings.skipbench`. */
export interface EngineFacts {
  implementation: string;
  threads: number;
  layers: number;
  partitions: number;
  prefillFactor: number;
  decodeFactor: number;
}

export function usageOf(result: GenerationResult) {
  const completion = result.tokens.length;
  return {
    completion_tokens: completion,
    prompt_tokens: result.promptTokens,
    total_tokens: result.promptTokens + completion,
    prompt_tokens_details: { cached_tokens: 0 },
  };
}

const sparsity = (p: PhaseTotals) => (p.visitedTiles > 0 ? p.skippedTiles / p.visitedTiles : 0);
const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

export function timingsOf(result: GenerationResult, facts: EngineFacts) {
  const n = result.tokens.length;
  const promptMs = round3(result.promptMs);
  const predictedMs = round3(result.predictedMs);
  const promptPerToken = result.promptTokens > 0 ? result.promptMs / result.promptTokens : 0;
  const timings: Record<string, unknown> = {
    cache_n: 0,
    prompt_n: result.promptTokens,
    prompt_ms: promptMs,
    prompt_per_token_ms: promptPerToken,
    prompt_per_second: promptPerToken > 0 ? 1000 / promptPerToken : 0,
    predicted_n: n,
    predicted_ms: predictedMs,
  };
  if (n >= 2 && result.predictedMs > 0) {
    const perToken = result.predictedMs / (n - 1);
    timings.predicted_per_token_ms = perToken;
    timings.predicted_per_second = 1000 / perToken;
  }
  timings.skipbench = {
    implementation: facts.implementation,
    threads: facts.threads,
    layers: facts.layers,
    partitions: facts.partitions,
    prefill_threshold_scale_factor: facts.prefillFactor,
    decode_threshold_scale_factor: facts.decodeFactor,
    prefill_tiles_visited: result.prefill.visitedTiles,
    prefill_tiles_skipped: result.prefill.skippedTiles,
    prefill_sparsity: sparsity(result.prefill),
    prefill_attention_ms: round3(result.prefill.attentionMs),
    decode_tiles_visited: result.decode.visitedTiles,
    decode_tiles_skipped: result.decode.skippedTiles,
    decode_sparsity: sparsity(result.decode),
    decode_attention_ms: round3(result.decode.attentionMs),
  };
  return timings;
}

export const sseEvent = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;
export const SSE_DONE = 'data: [DONE]\n\n';

function envelope(ctx: ResponseContext, chunk: boolean) {
  const object =
    ctx.endpoint === 'completions' ? 'text_completion' : chunk ? 'chat.completion.chunk' : 'chat.completion';
  return { created: ctx.created, id: ctx.id, model: ctx.model, system_fingerprint: ctx.fingerprint, object };
}

/** Events sent before the request is queued (chat: the role-only chunk). */
export function streamOpening(ctx: ResponseContext): string {
  if (ctx.endpoint === 'completions') return '';
  return sseEvent({
    choices: [{ finish_reason: null, index: 0, delta: { role: 'assistant', content: null } }],
    ...envelope(ctx, true),
  });
}

/** The event of one generated token. */
export function tokenEvent(ctx: ResponseContext, text: string): string {
  const choice =
    ctx.endpoint === 'completions'
      ? { text, index: 0, logprobs: null, finish_reason: null }
      : { finish_reason: null, index: 0, delta: { content: text } };
  return sseEvent({ choices: [choice], ...envelope(ctx, true) });
}

/** The closing events: finish (+ usage) + timings, then [DONE]. */
export function streamClosing(
  ctx: ResponseContext,
  result: GenerationResult,
  facts: EngineFacts,
  includeUsage: boolean,
): string {
  const timings = timingsOf(result, facts);
  const usage = includeUsage ? { usage: usageOf(result) } : {};
  if (ctx.endpoint === 'completions') {
    const choice = { text: '', index: 0, logprobs: null, finish_reason: 'length' };
    return sseEvent({ choices: [choice], ...envelope(ctx, true), ...usage, timings }) + SSE_DONE;
  }
  const finish = { finish_reason: 'length', index: 0, delta: {} };
  if (!includeUsage) return sseEvent({ choices: [finish], ...envelope(ctx, true), timings }) + SSE_DONE;
  return (
    sseEvent({ choices: [finish], ...envelope(ctx, true) }) +
    sseEvent({ choices: [], ...envelope(ctx, true), ...usage, timings }) +
    SSE_DONE
  );
}

/** The non-streaming response. */
export function fullResponse(ctx: ResponseContext, result: GenerationResult, facts: EngineFacts) {
  const text = result.tokens.join('');
  const choice =
    ctx.endpoint === 'completions'
      ? { text, index: 0, logprobs: null, finish_reason: 'length' }
      : { finish_reason: 'length', index: 0, message: { role: 'assistant', content: text } };
  return { choices: [choice], ...envelope(ctx, false), usage: usageOf(result), timings: timingsOf(result, facts) };
}
