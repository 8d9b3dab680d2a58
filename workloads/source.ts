/**
 * QkvSource: where attention inputs come from (synthetic patterns or captured tensors). The harness asks a source
 * for K/V of a given length and for the query rows it samples, and never needs to know which kind it holds.
 * Layout: float32, head-major, row-major (kernels/types.ts).
 */
import { ErrorCodes, invalid } from '../kernels/errors.js';
import type { AttentionShape } from '../kernels/types.js';

export interface QkvSource {
  readonly shape: AttentionShape;
  /** Longest context this source can give (Infinity for synthetic). */
  readonly maxLength: number;
  /** Human-readable, e.g. "synthetic seed=1 mix=sink:2,..." or "captured /path (q.npy,k.npy,v.npy)". */
  readonly description: string;
  /** K and V for a sequence of `length` tokens: [numKvHeads][length][headDim] each. */
  keysValues(length: number): { k: Float32Array; v: Float32Array };
  /**
   * Prefill queries at the given row ranges [start, end) of a `length`-token sequence, packed in range order:
   * [numQueryHeads][sum of range lengths][headDim].
   */
  queries(length: number, rowRanges: ReadonlyArray<readonly [number, number]>): Float32Array;
  /** The decode query (position length-1) of every query head: [numQueryHeads][headDim]. */
  decodeQuery(length: number): Float32Array;
  /**
   * Where a retrieval needle key sits in a `length`-token sequence and which query heads look for it (their queries
   * after the needle attend to it). Synthetic sources only: captured tensors have no known needle.
   */
  needle?(length: number): { position: number; heads: number[] };
}

/** `length` must be an integer in [1, maxLength] (SKB_LENGTH, field 'length'). */
export function checkLength(length: number, maxLength: number): void {
  if (!Number.isSafeInteger(length) || length < 1 || length > maxLength) {
    const allowed = Number.isFinite(maxLength) ? `an integer in [1, ${maxLength}]` : 'an integer >= 1';
    throw invalid(ErrorCodes.LENGTH, 'length', allowed, length);
  }
}

/** Every range must satisfy 0 <= start < end <= length (SKB_LENGTH, field 'rowRanges'). Returns the total rows. */
export function checkRowRanges(rowRanges: ReadonlyArray<readonly [number, number]>, length: number): number {
  if (!Array.isArray(rowRanges))
    throw invalid(ErrorCodes.LENGTH, 'rowRanges', 'an array of [start, end) pairs', rowRanges);
  let rows = 0;
  for (const range of rowRanges) {
    const [start, end] = Array.isArray(range) ? range : [Number.NaN, Number.NaN];
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start || end > length) {
      throw invalid(
        ErrorCodes.LENGTH,
        'rowRanges',
        `integer pairs [start, end) with 0 <= start < end <= ${length}`,
        range,
      );
    }
    rows += end - start;
  }
  return rows;
}
