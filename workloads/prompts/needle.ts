/**
 * Needle (passkey) retrieval tasks for servers: a haystack of exact length with one or several pass keys hidden at a
 * depth, a question at the end, and the grading rule. Same exact-length and unique-prefix guarantees as buildPrompt:
 * the needle and the question are joined at clean splits (a space-led word after a non-space character), and the
 * total is verified with one full encode and corrected if the tokenizer disagrees.
 */
import { ErrorCodes, invalid, SkipbenchError } from '../../kernels/errors.js';
import { elementHash, hashKey, unitFromHash } from '../patterns/random.js';
import { type BuiltPrompt, buildPrompt, type PromptEndpoint } from './exact.js';
import type { PromptTokenizer } from './tokenizer.js';

const LABELS = ['amber', 'cobalt', 'violet', 'copper', 'silver', 'scarlet', 'indigo', 'olive'];

export interface NeedleOptions {
  /** Prompt tokens as the server counts them (content + BOS, or + chat template). */
  tokens: number;
  /** Where the needles sit, 0 (start) .. 1 (end of the haystack). */
  depth: number;
  /** Pass keys hidden (1 = single passkey; more = multi-key, all asked for). */
  keys: number;
  seed: number;
  runId: string;
  requestIndex: number;
  endpoint: PromptEndpoint;
  tokenizer: PromptTokenizer;
}

export interface NeedlePrompt extends BuiltPrompt {
  /** The pass keys the answer must contain. */
  answers: string[];
  depth: number;
}

function passkeys(options: NeedleOptions): { label: string; key: string }[] {
  const k = hashKey(options.seed, options.requestIndex + 0x6e656564); // 'need'
  return Array.from({ length: options.keys }, (_, i) => ({
    label: LABELS[i % LABELS.length] + (i >= LABELS.length ? String(i) : ''),
    key: String(10000 + Math.floor(unitFromHash(elementHash(k, i)) * 90000)),
  }));
}

function needleText(keys: { label: string; key: string }[]): string {
  return keys.map((k) => ` The secret pass key for ${k.label} is ${k.key}. Remember it.`).join('');
}

function questionText(keys: { label: string; key: string }[]): string {
  if (keys.length === 1) {
    return ` Question: what is the secret pass key for ${keys[0].label}? Answer: the secret pass key for ${keys[0].label} is`;
  }
  return ` Question: list every secret pass key mentioned above, as numbers. Answer: the secret pass keys are`;
}

/** Inserts `needle` (space-led) before the space nearest to `depth` of `text`, after a non-space character. */
function insertAt(text: string, needle: string, depth: number): string {
  const target = Math.round(depth * text.length);
  for (let d = 0; d < text.length; d++) {
    for (const p of [target - d, target + d]) {
      if (p > 0 && p < text.length && text[p] === ' ' && text[p - 1] !== ' ') return text.slice(0, p) + needle + text.slice(p);
    }
  }
  return text + needle;
}

export function buildNeedlePrompt(options: NeedleOptions): NeedlePrompt {
  const { tokenizer, endpoint } = options;
  if (!(options.depth >= 0 && options.depth <= 1)) throw invalid(ErrorCodes.CONFIG, 'depth', 'a number in [0, 1]', options.depth);
  if (!Number.isInteger(options.keys) || options.keys < 1 || options.keys > 32) {
    throw invalid(ErrorCodes.CONFIG, 'keys', 'an integer in [1, 32]', options.keys);
  }
  const keys = passkeys(options);
  const needle = needleText(keys);
  const question = questionText(keys);
  const extra = tokenizer.encode(needle).length + tokenizer.encode(question).length;
  const overhead = endpoint === 'chat' ? tokenizer.chatOverhead() : tokenizer.bosId === undefined ? 0 : 1;
  let haystackTokens = options.tokens - overhead - extra;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (haystackTokens < 16) {
      throw invalid(ErrorCodes.CONFIG, 'tokens', `at least ${overhead + extra + 16} for this needle task`, options.tokens);
    }
    const hay = buildPrompt({ ...options, tokens: haystackTokens, count: 'content' });
    const text = insertAt(hay.text, needle, options.depth) + question;
    const ids = tokenizer.encode(text);
    const total = ids.length + overhead;
    if (total === options.tokens) {
      return {
        endpoint,
        text,
        tokenIds: ids,
        contentTokens: ids.length,
        promptTokens: total,
        prefix: hay.prefix,
        answers: keys.map((k) => k.key),
        depth: options.depth,
        ...(endpoint === 'chat' ? { messages: [{ role: 'user' as const, content: text }] } : {}),
      };
    }
    haystackTokens += options.tokens - total;
  }
  throw new SkipbenchError(ErrorCodes.CONFIG, `needle prompt missed ${options.tokens} tokens`, { field: 'tokens' });
}

export type Grade = 'exact' | 'partial' | 'wrong' | 'empty';

/**
 * Grades an answer: exact when every pass key appears in it, partial when some do, wrong when it holds other text,
 * empty when it holds nothing but whitespace. The score is the share of keys found.
 */
export function gradePasskey(output: string, answers: readonly string[]): { grade: Grade; score: number } {
  if (output.trim() === '') return { grade: 'empty', score: 0 };
  const digits: string[] = output.match(/\d+/g) ?? [];
  const found = answers.filter((a) => digits.includes(a)).length;
  const score = answers.length ? found / answers.length : 0;
  return { grade: found === answers.length ? 'exact' : found > 0 ? 'partial' : 'wrong', score };
}
