/**
 * The Skip Softmax rule and the causal tile geometry, shared by every implementation so that they count work the
 * same way. Semantics: ../DESIGN (BLASST, arXiv 2512.12087; TensorRT-LLM SkipSoftmaxAttentionConfig).
 */
import type { HeadCounters } from './types.js';

const BYTES_PER_FLOAT = 4;

/**
 * ln(lambda) with lambda = factor / L. A tile is skipped iff, for every row of its decision unit,
 * local_max - running_max < ln(lambda). Factor 0 gives -Infinity: nothing is ever below it (dense).
 */
export function logThreshold(thresholdScaleFactor: number, kvLen: number): number {
  return thresholdScaleFactor > 0 ? Math.log(thresholdScaleFactor / kvLen) : Number.NEGATIVE_INFINITY;
}

/** The last KV tile a causal query tile visits: keys up to its last row. Tiles after it are fully masked. */
export function lastVisitedKvTile(queryTile: number, blockM: number, blockN: number, seqLen: number): number {
  const lastRow = Math.min(seqLen, (queryTile + 1) * blockM) - 1;
  return Math.floor(lastRow / blockN);
}

/** Unmasked (row, key) pairs of the causal block rows [r0, r1) x keys [k0, k1): pairs with key <= row. */
export function causalPairs(r0: number, r1: number, k0: number, k1: number): number {
  let pairs = 0;
  for (let r = r0; r < r1; r++) {
    const keys = Math.min(k1, r + 1) - k0;
    if (keys > 0) pairs += keys;
  }
  return pairs;
}

export function emptyCounters(): HeadCounters {
  return { visitedTiles: 0, skippedTiles: 0, flops: 0, denseFlops: 0, bytes: 0, denseBytes: 0 };
}

/** q·k costs 2·d FLOPs per score element; exp + p·v another 2·d. Bytes: K tile always, V tile unless skipped. */
export function countTile(
  counters: HeadCounters,
  scoreElements: number,
  keys: number,
  headDim: number,
  skipped: boolean,
): void {
  const half = 2 * headDim * scoreElements;
  const tileBytes = keys * headDim * BYTES_PER_FLOAT;
  counters.visitedTiles += 1;
  counters.denseFlops += 2 * half;
  counters.denseBytes += 2 * tileBytes;
  counters.flops += skipped ? half : 2 * half;
  counters.bytes += skipped ? tileBytes : 2 * tileBytes;
  if (skipped) counters.skippedTiles += 1;
}

/** Q rows read and O rows written once per query tile (prefill) or per head group (decode). */
export function countQueryIo(counters: HeadCounters, rows: number, headDim: number): void {
  const bytes = 2 * rows * headDim * BYTES_PER_FLOAT;
  counters.bytes += bytes;
  counters.denseBytes += bytes;
}

/** Adds b into a (merging per-worker counters by sums, never averages). */
export function addCounters(a: HeadCounters, b: HeadCounters): HeadCounters {
  a.visitedTiles += b.visitedTiles;
  a.skippedTiles += b.skippedTiles;
  a.flops += b.flops;
  a.denseFlops += b.denseFlops;
  a.bytes += b.bytes;
  a.denseBytes += b.denseBytes;
  return a;
}

export function sparsity(counters: HeadCounters): number {
  return counters.visitedTiles ? counters.skippedTiles / counters.visitedTiles : 0;
}
