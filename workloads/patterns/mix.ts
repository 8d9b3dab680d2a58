/** Pattern kinds and the --head-mix syntax that assigns one to each query head. */
import { ErrorCodes, invalid } from '../../kernels/errors.js';

export type PatternKind = 'sink' | 'local' | 'vertical' | 'slash' | 'retrieval' | 'random';

export const PATTERN_KINDS: readonly PatternKind[] = ['sink', 'local', 'vertical', 'slash', 'retrieval', 'random'];

/**
 * Default for the default shape (Hq=8, Hkv=2: two GQA groups of four consecutive heads). Real models have no pure
 * noise heads in most groups and a sink in nearly every head, so the unstructured `random` head is left out of the
 * default; groups are [sink, sink, local, local] and [vertical, slash, retrieval, sink]. A decode tile is skipped only
 * when every head of its group agrees, so one `random` head in a group holds that group's decode sparsity near zero.
 */
export const DEFAULT_HEAD_MIX = 'sink:2,local:2,vertical,slash,retrieval,sink';

function isKind(text: string): text is PatternKind {
  return (PATTERN_KINDS as readonly string[]).includes(text);
}

/**
 * Parses "sink:2,local:2,vertical,slash,retrieval,random" (count defaults to 1) into one kind per query head, in the
 * listed order. Kinds may repeat. Errors are SKB_CONFIG with field 'headMix'.
 */
export function parseHeadMix(text: string, numQueryHeads: number): PatternKind[] {
  const kindsWords = `comma-separated kind[:count] with kinds ${PATTERN_KINDS.join(' | ')}`;
  if (!Number.isInteger(numQueryHeads) || numQueryHeads < 1) {
    throw invalid(ErrorCodes.CONFIG, 'numQueryHeads', 'an integer >= 1', numQueryHeads);
  }
  if (typeof text !== 'string' || text.trim() === '') throw invalid(ErrorCodes.CONFIG, 'headMix', kindsWords, text);
  const entries: Array<[PatternKind, number]> = [];
  let total = 0;
  for (const rawEntry of text.split(',')) {
    const match = /^([a-z]+)(?:\s*:\s*(\d+))?$/.exec(rawEntry.trim().toLowerCase());
    if (!match) throw invalid(ErrorCodes.CONFIG, 'headMix', kindsWords, rawEntry);
    const [, kind, countText] = match;
    if (!isKind(kind)) throw invalid(ErrorCodes.CONFIG, 'headMix', `kinds ${PATTERN_KINDS.join(' | ')}`, kind);
    const count = countText === undefined ? 1 : Number(countText);
    if (!Number.isSafeInteger(count) || count < 1) {
      throw invalid(ErrorCodes.CONFIG, 'headMix', 'counts that are integers >= 1', rawEntry);
    }
    entries.push([kind, count]);
    total += count;
  }
  if (total !== numQueryHeads) {
    throw invalid(
      ErrorCodes.CONFIG,
      'headMix',
      `counts summing to numQueryHeads = ${numQueryHeads} (${kindsWords})`,
      `${text} (sums to ${total})`,
    );
  }
  return entries.flatMap(([kind, count]) => new Array<PatternKind>(count).fill(kind));
}

/** The inverse of parseHeadMix: consecutive runs as kind:count ("sink:2,local:2,vertical"). */
export function formatHeadMix(heads: readonly PatternKind[]): string {
  const parts: string[] = [];
  for (let i = 0; i < heads.length; ) {
    let j = i + 1;
    while (j < heads.length && heads[j] === heads[i]) j++;
    parts.push(j - i > 1 ? `${heads[i]}:${j - i}` : heads[i]);
    i = j;
  }
  return parts.join(',');
}
