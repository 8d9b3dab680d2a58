/**
 * Split-KV decode with Skip Softmax: the plain-TypeScript reference. One query token per query head (position
 * kvLen - 1, so nothing is masked) against kvLen cached keys.
 *
 * Decision unit: the whole GQA group of query heads sharing a KV head x one KV tile of blockN keys; the tile is
 * skipped only if every head of the group votes skip. lambda = factor / kvLen.
 *
 * Split-KV follows TensorRT-LLM's decode reference (cpp/kernels/xqa/test/refAttention.cpp): KV tile t goes to
 * partition t mod P; each partition keeps its own softmax state and its own test max starting at -Inf, so tiles
 * 0..P-1 are never skipped. Partitions are merged at the end by log-sum-exp.
 */
import { countQueryIo, countTile, emptyCounters, logThreshold } from '../tiling.js';
import {
  type AttentionResult,
  type DecodeInputs,
  type DecodeOptions,
  type HeadCounters,
  TileDecision,
} from '../types.js';
import { validateDecode } from '../validate.js';
import { newSoftmaxState, type SoftmaxState, type TileWork, visitTile } from './prefill.js';

/**
 * The inner KV loop of one partition of one KV-head group: visits tiles p, p + P, p + 2P, ... in order and returns
 * the partition's (acc, m, l) state. A skipped tile would not even read V (counted by countTile).
 */
function attendPartition(
  inputs: DecodeInputs,
  options: DecodeOptions,
  kvHead: number,
  partition: number,
  scratch: { scores: Float64Array; localMax: Float64Array },
  lnLambda: number | null,
  counters: HeadCounters,
  decisions: Uint8Array | undefined,
): SoftmaxState {
  const { kvLen, headDim: d } = inputs;
  const BLOCK_N = options.blockN;
  const P = options.partitions;
  const groupSize = inputs.numQueryHeads / inputs.numKvHeads;
  const kvTiles = Math.ceil(kvLen / BLOCK_N);
  const scale = options.scale ?? 1 / Math.sqrt(d);
  const state = newSoftmaxState(groupSize, d);
  for (let t = partition; t < kvTiles; t += P) {
    const firstKey = t * BLOCK_N;
    const keys = Math.min(BLOCK_N, kvLen - firstKey);
    const work: TileWork = {
      // The group's query heads are consecutive in q, so they are the unit's `rows`.
      q: inputs.q,
      qOffset: kvHead * groupSize * d,
      rows: groupSize,
      k: inputs.k,
      v: inputs.v,
      kvOffset: (kvHead * kvLen + firstKey) * d,
      keys,
      headDim: d,
      scale,
      causal: null, // the decode token sits at kvLen - 1 and sees every key
      ...scratch,
    };
    // Each partition's test max starts at -Inf: its first tile (t = partition) is never skipped.
    const skipped = visitTile(state, work, lnLambda, t === partition);
    countTile(counters, groupSize * keys, keys, d, skipped);
    if (decisions) decisions[kvHead * kvTiles + t] = skipped ? TileDecision.SKIPPED : TileDecision.COMPUTED;
  }
  return state;
}

/**
 * Log-sum-exp merge of the partitions' states: with m = max_p m_p, out = sum_p acc_p e^(m_p - m) / sum_p l_p e^(m_p - m).
 * Every partition given here visited at least one tile, so its m_p is finite.
 */
function mergePartitions(parts: SoftmaxState[], rows: number, d: number, out: Float32Array, outOffset: number): void {
  const acc = new Float64Array(d);
  for (let i = 0; i < rows; i++) {
    let mGlobal = Number.NEGATIVE_INFINITY;
    for (const part of parts) mGlobal = Math.max(mGlobal, part.m[i]);
    let l = 0;
    acc.fill(0);
    for (const part of parts) {
      const rescale = Math.exp(part.m[i] - mGlobal);
      l += part.l[i] * rescale;
      for (let c = 0; c < d; c++) acc[c] += part.acc[i * d + c] * rescale;
    }
    for (let c = 0; c < d; c++) out[outOffset + i * d + c] = acc[c] / l;
  }
}

/** Decode of one token per query head. Counters and decisions are per KV head (its whole GQA group). */
export function decodeReference(inputs: DecodeInputs, options: DecodeOptions): AttentionResult {
  validateDecode(inputs, options);
  const { numQueryHeads: hq, numKvHeads: hkv, headDim: d, kvLen } = inputs;
  const BLOCK_N = options.blockN;
  const P = options.partitions;
  const groupSize = hq / hkv;
  // Factor 0 is the dense path: lnLambda null switches the skip logic off entirely.
  const lnLambda = options.thresholdScaleFactor > 0 ? logThreshold(options.thresholdScaleFactor, kvLen) : null;

  const kvTiles = Math.ceil(kvLen / BLOCK_N);
  const out = new Float32Array(inputs.q.length);
  const heads = Array.from({ length: hkv }, emptyCounters);
  const decisions = options.recordDecisions ? new Uint8Array(hkv * kvTiles) : undefined;
  const scratch = { scores: new Float64Array(groupSize * BLOCK_N), localMax: new Float64Array(groupSize) };

  for (let g = 0; g < hkv; g++) {
    // -- one pass per partition; partitions with no tile (P > tiles) contribute nothing --
    const parts: SoftmaxState[] = [];
    for (let p = 0; p < Math.min(P, kvTiles); p++) {
      parts.push(attendPartition(inputs, options, g, p, scratch, lnLambda, heads[g], decisions));
    }
    // -- merge --
    mergePartitions(parts, groupSize, d, out, g * groupSize * d);
    countQueryIo(heads[g], groupSize, d);
  }
  return decisions ? { out, heads, decisions } : { out, heads };
}
