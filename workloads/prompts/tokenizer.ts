/**
 * The client-side tokenizer the prompt builder counts with, and the check of its count against the server's.
 *
 * A client count is a prediction: the server tokenizes again, adds BOS on /v1/completions and wraps chat messages in
 * its own template, and servers differ (a Llama 3.1+ Jinja template injects a default system block with a date;
 * an engine may or may not trim message content). So the harness compares every prediction with the server's
 * `usage.prompt_tokens` through `promptDrift` instead of trusting it (DESIGN.md §3: prompt-length drift).
 */
import { createRequire } from 'node:module';
import type { Llama3Tokenizer } from 'llama3-tokenizer-js';
import { ErrorCodes, invalid } from '../../kernels/errors.js';

export interface PromptTokenizer {
  /** Short identifier recorded with results, e.g. `llama3`. */
  readonly name: string;
  /** Token IDs of `text` with no BOS/EOS added. */
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** The BOS token the server prepends to a /v1/completions text prompt; absent if it adds none. */
  readonly bosId?: number;
  /**
   * Tokens the chat template adds around one user message (BOS included): with no argument, the constant measured on
   * the template itself; with `content`, measured exactly for that content (costs two encodes of it).
   */
  chatOverhead(content?: string): number;
  /**
   * True when `encode(a + b)` equals `encode(a)` followed by `encode(b)` whenever `a` ends in a printable non-space
   * ASCII character and `b` starts with a space followed by an ASCII letter (see `isCleanSplit`). The prompt builder
   * then tokenizes its corpus a segment at a time instead of re-encoding 100K+ tokens; without it, it encodes in full.
   */
  readonly splitsBeforeSpaceWord?: boolean;
}

/**
 * Why `splitsBeforeSpaceWord` holds for Llama 3 (and the other GPT-style byte-level BPE tokenizers with the same
 * pre-tokenizer): BPE merges never cross a pre-token, and pre-tokens come from this regex, tried left to right:
 *   's|'t|... | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,3} | ␠?[^\s\p{L}\p{N}]+[\r\n]* | \s*[\r\n]+ | \s+(?!\S) | \s+
 * (␠ is a space). Let text[pos-1] be printable non-space ASCII (letter, digit or punctuation), text[pos] a space and
 * text[pos+1] a letter.
 * - No alternative can scan from text[pos-1] through text[pos]: letter, digit and punctuation runs all stop at a
 *   space, and whitespace runs cannot contain text[pos-1]. So the pre-token holding text[pos-1] ends at pos, and every
 *   attempt that starts before pos sees text[pos] only as a "stop" character, for which end of string is equivalent:
 *   the pre-tokens of text[:pos] alone are those of the full text.
 * - At pos, ` letter...` is matched by `[^\r\n\p{L}\p{N}]?\p{L}+`; the regex has no look-behind, so matching from
 *   pos onward is the same as matching text[pos:] alone.
 * Special-token strings (`<|...|>`) are split out before this; the prompt builder's text never contains them.
 */
export function isCleanSplit(text: string, pos: number): boolean {
  if (pos <= 0 || pos + 1 >= text.length) return false;
  const before = text.charCodeAt(pos - 1);
  return before > 32 && before < 127 && text.charCodeAt(pos) === 32 && isAsciiLetter(text.charCodeAt(pos + 1));
}

function isAsciiLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/**
 * The Llama 3 (3.0) instruct template for one user turn with the generation prompt, as llama.cpp's built-in
 * `llama3` template and the Hugging Face chat_template render it. Both trim the content (`| trim`), so the prompt
 * builder never produces content with leading or trailing whitespace.
 */
export const LLAMA3_CHAT_TEMPLATE =
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n{content}<|eot_id|>' +
  '<|start_header_id|>assistant<|end_header_id|>\n\n';

export function renderLlama3Chat(content: string): string {
  return LLAMA3_CHAT_TEMPLATE.replace('{content}', () => content);
}

let llama3: PromptTokenizer | undefined;

/**
 * The Llama 3 tokenizer (llama3-tokenizer-js, vocabulary baked into the package). Loaded on first call and shared:
 * building it decodes a 3 MB bundle (~0.35 s), which the CLI should not pay when no server target runs.
 * The package's CommonJS bundle is loaded with `require` so that this stays synchronous.
 */
export function llama3Tokenizer(): PromptTokenizer {
  if (llama3 === undefined) {
    const require = createRequire(import.meta.url);
    const bundle = require('llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs') as {
      llama3Tokenizer: Llama3Tokenizer;
    };
    llama3 = wrapLlama3(bundle.llama3Tokenizer);
  }
  return llama3;
}

function wrapLlama3(inner: Llama3Tokenizer): PromptTokenizer {
  const encode = (text: string): number[] => inner.encode(text, { bos: false, eos: false });
  // Measured on the template itself: the rendered prompt minus its content. The probe 'x' cannot merge with the
  // '\n\n' before it or the special token after it (see isCleanSplit's regex), so any trimmed content gets the same.
  const probe = 'x';
  const overhead = encode(renderLlama3Chat(probe)).length - encode(probe).length;
  return {
    name: 'llama3',
    encode,
    decode: (ids) => inner.decode(ids as number[]),
    bosId: inner.getSpecialTokenId('<|begin_of_text|>'),
    chatOverhead: (content?: string) =>
      content === undefined ? overhead : encode(renderLlama3Chat(content)).length - encode(content).length,
    splitsBeforeSpaceWord: true,
  };
}

export interface PromptDrift {
  /** The client's predicted prompt tokens. */
  expected: number;
  /** `usage.prompt_tokens` as the server reported it. */
  reported: number;
  /** reported - expected (positive: the server saw more tokens than predicted). */
  diff: number;
  /** diff / expected (0 when both are 0; +-Infinity when only expected is 0). */
  relative: number;
}

/** How far the server's prompt token count is from the client's prediction. */
export function promptDrift(expected: number, reported: number): PromptDrift {
  if (!Number.isSafeInteger(expected) || expected < 0) {
    throw invalid(ErrorCodes.CONFIG, 'expected', 'an integer >= 0', expected);
  }
  if (!Number.isSafeInteger(reported) || reported < 0) {
    throw invalid(ErrorCodes.CONFIG, 'reported', 'an integer >= 0', reported);
  }
  const diff = reported - expected;
  const relative = expected === 0 ? (diff === 0 ? 0 : Math.sign(diff) * Number.POSITIVE_INFINITY) : diff / expected;
  return { expected, reported, diff, relative };
}
