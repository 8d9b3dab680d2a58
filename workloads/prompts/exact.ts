/**
 * Prompts of an exact token length, unique per run and per request (DESIGN.md §3: prefix caching inflates results).
 *
 * The text is `[tag run R request I]` followed by corpus text. The tag (8 hex digits hashed from run and request)
 * comes first so that two requests differ within their first 16 tokens, the block size vLLM hashes for prefix
 * caching; the readable run and request follow. The body depends on (seed, requestIndex) only, so the dense and skip
 * arms of an A/B run (different runIds) get the same content for the same request index.
 *
 * Speed (DESIGN.md §3: client collapse on long prompts): with a tokenizer that has `splitsBeforeSpaceWord`, the
 * corpus is tokenized a segment at a time (cached), which equals tokenizing the joined text because every join is a
 * clean split (tokenizer.ts). Only the segment the target length cuts through is re-tokenized, so a 128K-token prompt
 * never goes through the tokenizer at full size.
 */
import { ErrorCodes, invalid, SkipbenchError } from '../../kernels/errors.js';
import { mix32 } from '../patterns/random.js';
import { CORPUS_CHARS_PER_TOKEN, CorpusWriter } from './corpus.js';
import { isCleanSplit, type PromptTokenizer } from './tokenizer.js';

export type PromptEndpoint = 'completions' | 'chat';
export const PROMPT_ENDPOINTS: readonly PromptEndpoint[] = ['completions', 'chat'];

/** Largest content length accepted (2^21 tokens). */
export const MAX_PROMPT_TOKENS = 2_097_152;

/** Padding appended when a cut leaves the text short: one token, and a clean split after any non-space. */
const FILLER = ' the';

export interface BuildPromptOptions {
  /** The target length, counted as `count` says. */
  tokens: number;
  /** Seeds the corpus body (with requestIndex). */
  seed: number;
  /** Identifies the run: 1-64 characters of [A-Za-z0-9._:-]. */
  runId: string;
  requestIndex: number;
  endpoint: PromptEndpoint;
  tokenizer: PromptTokenizer;
  /**
   * What `tokens` counts: 'content' (default) the tokens of the text itself, encode(text).length, like vLLM's
   * `--random-input-len`; 'prompt' the server's `usage.prompt_tokens` (content + BOS or chat template overhead), the
   * KV length L that Skip Softmax's threshold divides by.
   */
  count?: 'content' | 'prompt';
  /** Re-encode the whole text and check it against the segment-wise count (slow: for tests and audits). */
  verify?: boolean;
}

export interface BuiltPrompt {
  endpoint: PromptEndpoint;
  /** The completions prompt, or the chat user message's content. Never starts or ends with whitespace. */
  text: string;
  /** Chat only: the messages array to send. */
  messages?: [{ role: 'user'; content: string }];
  /**
   * encode(text): the content's tokens, no BOS or template. To send a token-ID prompt to a server that adds no BOS
   * to ID prompts (vLLM), prepend `tokenizer.bosId` to keep the same server-side count.
   */
  tokenIds: number[];
  /** tokenIds.length. */
  contentTokens: number;
  /** Expected `usage.prompt_tokens`: content + BOS (completions) or + chat template overhead (chat). */
  promptTokens: number;
  /** The unique run/request prefix at the start of `text` (counted in the length; cut if the target is shorter). */
  prefix: string;
}

/** Builds one prompt; deterministic in (tokens, count, seed, runId, requestIndex, endpoint, tokenizer). */
export function buildPrompt(options: BuildPromptOptions): BuiltPrompt {
  const { tokenizer, endpoint, runId, requestIndex, seed } = options;
  if (!PROMPT_ENDPOINTS.includes(endpoint)) {
    throw invalid(ErrorCodes.CONFIG, 'endpoint', PROMPT_ENDPOINTS.join(' | '), endpoint);
  }
  const count = options.count ?? 'content';
  if (count !== 'content' && count !== 'prompt') throw invalid(ErrorCodes.CONFIG, 'count', 'content | prompt', count);
  if (typeof runId !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(runId)) {
    throw invalid(ErrorCodes.CONFIG, 'runId', '1-64 characters of [A-Za-z0-9._:-]', runId);
  }
  checkInteger('requestIndex', requestIndex, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('seed', seed, 0, Number.MAX_SAFE_INTEGER);
  const overhead = endpoint === 'chat' ? tokenizer.chatOverhead() : tokenizer.bosId === undefined ? 0 : 1;
  const shift = count === 'prompt' ? overhead : 0;
  checkInteger('tokens', options.tokens, 1 + shift, MAX_PROMPT_TOKENS + shift);
  const target = options.tokens - shift;

  const prefix = promptPrefix(runId, requestIndex);
  const writer = new CorpusWriter(seed, requestIndex);
  const { text, ids } = tokenizer.splitsBeforeSpaceWord
    ? buildBySegments(tokenizer, prefix, writer, target)
    : buildBySearch(tokenizer, prefix, writer, target);
  if (ids.length !== target || /^\s|\s$/.test(text)) {
    throw new SkipbenchError(ErrorCodes.CONFIG, `prompt builder missed ${target} tokens (got ${ids.length})`, {
      field: 'tokenizer',
    });
  }
  if (options.verify) verifyPrompt(tokenizer, text, ids, endpoint === 'chat' ? overhead : undefined);

  const built: BuiltPrompt = {
    endpoint,
    text,
    tokenIds: ids,
    contentTokens: target,
    promptTokens: target + overhead,
    prefix,
  };
  if (endpoint === 'chat') built.messages = [{ role: 'user', content: text }];
  return built;
}

/** `[xxxxxxxx run R request I]`: xxxxxxxx = 32-bit hash of (runId, requestIndex) in hex. */
export function promptPrefix(runId: string, requestIndex: number): string {
  let h = mix32(requestIndex >>> 0) ^ mix32(Math.floor(requestIndex / 4294967296) + 0x51ed27);
  for (let i = 0; i < runId.length; i++) h = mix32((h ^ runId.charCodeAt(i)) + 0x9e3779b9);
  return `[${(h >>> 0).toString(16).padStart(8, '0')} run ${runId} request ${requestIndex}]`;
}

// Segment -> token IDs, per tokenizer: the corpus repeats its segments, so after the first prompt almost every lookup
// hits. Cleared when it grows past a bound (paragraph joins make the number of distinct segments unbounded).
const segmentCaches = new WeakMap<PromptTokenizer, Map<string, number[]>>();
const SEGMENT_CACHE_LIMIT = 200_000;

function segmentIds(tokenizer: PromptTokenizer, cache: Map<string, number[]>, segment: string): number[] {
  let ids = cache.get(segment);
  if (ids === undefined) {
    if (cache.size >= SEGMENT_CACHE_LIMIT) cache.clear();
    ids = tokenizer.encode(segment);
    cache.set(segment, ids);
  }
  return ids;
}

/**
 * Exact by construction: prefix and segments are joined at clean splits, so the running count is the count of the
 * joined text. The target cuts at most one piece (the prefix or the last segment); `fitTail` rebuilds that piece.
 */
function buildBySegments(
  tokenizer: PromptTokenizer,
  prefix: string,
  writer: CorpusWriter,
  target: number,
): { text: string; ids: number[] } {
  let cache = segmentCaches.get(tokenizer);
  if (cache === undefined) {
    cache = new Map();
    segmentCaches.set(tokenizer, cache);
  }
  const parts: string[] = [];
  const ids: number[] = [];
  let piece = prefix;
  let pieceIds = tokenizer.encode(prefix);
  while (ids.length + pieceIds.length < target) {
    parts.push(piece);
    for (const id of pieceIds) ids.push(id);
    piece = writer.nextSegment();
    pieceIds = segmentIds(tokenizer, cache, piece);
  }
  const tail = fitTail(tokenizer, pieceIds, target - ids.length);
  // The tail starts with the piece's first tokens (' word...' after a segment join) or with FILLER, so its join to
  // what precedes is clean; for the prefix nothing precedes it.
  if (parts.length > 0 && !isCleanSplit(parts[parts.length - 1].slice(-1) + tail.text.slice(0, 2), 1)) {
    throw new SkipbenchError(ErrorCodes.CONFIG, 'prompt tail does not start at a clean split', { field: 'tokenizer' });
  }
  parts.push(tail.text);
  for (const id of tail.ids) ids.push(id);
  return { text: parts.join(''), ids };
}

/**
 * Text of exactly `need` tokens from the start of a piece. The first k tokens decoded may re-encode to a different
 * count (BPE is not stable at an arbitrary cut, e.g. ' photos|ynthesis'), so try k = need, need-1, ... and take the
 * first whose text ends in a non-space and re-encodes to <= need tokens; each FILLER appended after it is one more
 * token (clean split). k = 0 (all filler) always works, so the loop ends. Cost: a few short encodes.
 */
function fitTail(tokenizer: PromptTokenizer, pieceIds: number[], need: number): { text: string; ids: number[] } {
  const filler = tokenizer.encode(FILLER);
  if (filler.length !== 1) {
    throw new SkipbenchError(ErrorCodes.CONFIG, `'${FILLER}' is not one ${tokenizer.name} token`, {
      field: 'tokenizer',
    });
  }
  for (let k = Math.min(need, pieceIds.length); k >= 0; k--) {
    const text = k === 0 ? '' : tokenizer.decode(pieceIds.slice(0, k));
    if (k > 0 && !isCleanSplit(text + FILLER, text.length)) continue;
    const ids = k === 0 ? [] : tokenizer.encode(text);
    if (ids.length > need) continue;
    const pad = need - ids.length;
    const out = ids.slice();
    for (let i = 0; i < pad; i++) out.push(filler[0]);
    return { text: text + FILLER.repeat(pad), ids: out };
  }
  throw new SkipbenchError(ErrorCodes.CONFIG, 'unreachable: k = 0 always fits', { field: 'tokenizer' });
}

/**
 * For tokenizers without the clean-split property: encode the text in full, cut, and re-encode until the count is
 * exact. Correct whenever it returns (the final check is a full encode) but costs several full encodes.
 */
function buildBySearch(
  tokenizer: PromptTokenizer,
  prefix: string,
  writer: CorpusWriter,
  target: number,
): { text: string; ids: number[] } {
  let source = prefix;
  let sourceIds = tokenizer.encode(source);
  while (sourceIds.length < target + 8) {
    const chars = source.length + (target + 8 - sourceIds.length) * CORPUS_CHARS_PER_TOKEN * 1.1 + 64;
    while (source.length < chars) source += writer.nextSegment();
    sourceIds = tokenizer.encode(source);
  }
  for (let k = target; k >= 1; k--) {
    let text = tokenizer.decode(sourceIds.slice(0, k)).trimEnd();
    let ids = tokenizer.encode(text);
    for (let pad = 0; ids.length < target && pad < 64; pad++) {
      text += FILLER;
      ids = tokenizer.encode(text);
    }
    if (ids.length === target) return { text, ids };
  }
  throw new SkipbenchError(ErrorCodes.CONFIG, `could not build a ${target}-token prompt with ${tokenizer.name}`, {
    field: 'tokenizer',
  });
}

function verifyPrompt(tokenizer: PromptTokenizer, text: string, ids: number[], chatOverhead?: number): void {
  const full = tokenizer.encode(text);
  const same = full.length === ids.length && full.every((id, i) => id === ids[i]);
  if (!same) {
    throw new SkipbenchError(ErrorCodes.CONFIG, `segment-wise tokens differ from a full encode (${tokenizer.name})`, {
      field: 'tokenizer',
    });
  }
  if (chatOverhead !== undefined && tokenizer.chatOverhead(text) !== chatOverhead) {
    throw new SkipbenchError(ErrorCodes.CONFIG, `chat overhead of this prompt differs from the template's`, {
      field: 'tokenizer',
    });
  }
}

function checkInteger(field: string, value: unknown, lo: number, hi: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < lo || value > hi) {
    throw invalid(ErrorCodes.CONFIG, field, `an integer in [${lo}, ${hi}]`, value);
  }
}
