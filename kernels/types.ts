/**
 * Shapes, options and results shared by every attention implementation (reference, WebAssembly, GPU).
 *
 * Tensor layout everywhere: float32, head-major, row-major, no padding.
 *   q[(h * rows + i) * headDim + c]   h < numQueryHeads
 *   k[(g * len  + j) * headDim + c]   g < numKvHeads   (v likewise)
 * Query head h reads KV head g = floor(h / groupSize), groupSize = numQueryHeads / numKvHeads (GQA).
 */

export const SUPPORTED_HEAD_DIMS = [64, 128] as const;
export type HeadDim = (typeof SUPPORTED_HEAD_DIMS)[number];

export interface AttentionShape {
  /** Query heads (Hq). A multiple of numKvHeads. */
  numQueryHeads: number;
  /** Key/value heads (Hkv). */
  numKvHeads: number;
  /** Per-head dimension d (64 or 128). */
  headDim: HeadDim;
}

/**
 * Causal prefill of `seqLen` tokens: query i attends keys 0..i.
 * When `queryTiles` is given only those query tiles (tiles of `blockM` rows) are computed: `q` and the output then
 * hold just those tiles' rows, packed in the listed order (the last tile may be short). This is how long contexts
 * are sampled: the keys and values are complete, the queries are a deterministic subset.
 */
export interface PrefillInputs extends AttentionShape {
  seqLen: number;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  /** Ascending, unique query-tile indices in [0, ceil(seqLen / blockM)). Omitted: all tiles. */
  queryTiles?: readonly number[];
}

/** One query token per head (the token at position kvLen - 1) against kvLen cached keys. */
export interface DecodeInputs extends AttentionShape {
  kvLen: number;
  /** [numQueryHeads][headDim] */
  q: Float32Array;
  /** [numKvHeads][kvLen][headDim] */
  k: Float32Array;
  v: Float32Array;
}

export interface SkipOptions {
  /**
   * Skip Softmax threshold_scale_factor for this phase. lambda = factor / L (L = KV length of the request).
   * 0 disables skipping and takes the dense path.
   */
  thresholdScaleFactor: number;
  /** Softmax scale applied to q·k. Default 1 / sqrt(headDim). */
  scale?: number;
  /** Also return every tile decision in `AttentionResult.decisions` (tests and diagnostics; costs memory). */
  recordDecisions?: boolean;
}

export interface PrefillOptions extends SkipOptions {
  /** Query rows per tile (BLOCK_M), the prefill decision unit's height (DEFAULT_PREFILL_TILES: 64). */
  blockM: number;
  /** Keys per KV tile (BLOCK_N; DEFAULT_PREFILL_TILES: 128). */
  blockN: number;
}

export interface DecodeOptions extends SkipOptions {
  /** Keys per KV tile (DEFAULT_DECODE_TILES: 64). */
  blockN: number;
  /** Split-KV partitions P: KV tile t goes to partition t mod P (DEFAULT_DECODE_TILES: 1). */
  partitions: number;
}

/**
 * Work counters for one decision head: a query head in prefill, a KV head (its whole GQA group) in decode.
 * FLOPs count causal (unmasked) score elements only: q·k costs 2·d per element, exp + p·v another 2·d, so dense
 * causal prefill of one head totals 4·d·N(N+1)/2, the usual 2·N²·d. Bytes are the operand traffic the tiled kernel
 * issues: Q read and O written once per query tile, the K tile per visited tile, the V tile per tile not skipped
 * (in decode this is the DRAM traffic; in prefill most of it hits cache).
 */
export interface HeadCounters {
  /** KV tiles visited (fully masked causal tiles are never visited). With factor 0, equal to the dense count. */
  visitedTiles: number;
  /** Visited tiles that were skipped. Sparsity = skippedTiles / visitedTiles. */
  skippedTiles: number;
  /** FLOPs done. */
  flops: number;
  /** FLOPs the dense path does on the same tiles. */
  denseFlops: number;
  /** Bytes moved. */
  bytes: number;
  /** Bytes the dense path moves. */
  denseBytes: number;
}

export interface AttentionResult {
  /** Same layout as q. */
  out: Float32Array;
  /** Prefill: one entry per query head. Decode: one per KV head. */
  heads: HeadCounters[];
  /**
   * Present when `recordDecisions` was set. One byte per (unit, KV tile): 0 not visited, 1 computed, 2 skipped.
   * Prefill: [numQueryHeads][computed query tiles, in order][ceil(seqLen / blockN)].
   * Decode:  [numKvHeads][ceil(kvLen / blockN)].
   */
  decisions?: Uint8Array;
}

export const TileDecision = { NOT_VISITED: 0, COMPUTED: 1, SKIPPED: 2 } as const;

export const DEFAULT_PREFILL_TILES = { blockM: 64, blockN: 128 } as const;
export const DEFAULT_DECODE_TILES = { blockN: 64, partitions: 1 } as const;

/** A prefill or decode implementation. Every implementation must give the same skip decisions. */
export interface AttentionKernel {
  readonly name: string;
  prefill(inputs: PrefillInputs, options: PrefillOptions): AttentionResult;
  decode(inputs: DecodeInputs, options: DecodeOptions): AttentionResult;
}
