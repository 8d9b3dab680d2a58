/**
 * Needle recall: how much softmax mass a known needle key keeps under a skip arm's tile decisions, against dense.
 * Pure compute over the float32 Q/K tensors and the decision bytes a kernel recorded (kernels/types.ts
 * TileDecision); every score, max and sum is a float64 JS number, as in the reference kernel. No timing, no I/O.
 *
 * For a query row at position p after the needle n (causal: the row sees keys 0..p), with scaled scores
 * s_j = scale * q·k_j:
 *   dense mass  p_dense = exp(s_n - logsumexp_{j <= p} s_j)
 *   skip mass   p_skip  = 0 when the needle's KV tile was not computed for the row's decision unit, else
 *                         exp(s_n - logsumexp_{j <= p, tile(j) computed} s_j)
 * p_skip is exactly the weight the skip kernel's output gives the needle's value: a skipped tile adds nothing to the
 * row sum (DESIGN.md section 1), so the computed tiles renormalise among themselves and p_skip may exceed p_dense.
 */
import { ErrorCodes, invalid } from './errors.js';
import { TileDecision } from './types.js';

/** Query rows checked per head (prefill) or per GQA group (decode) at most: the cost is rows x position x d. */
export const NEEDLE_MAX_ROWS = 16;

/** One query row to check. */
export interface NeedleRow {
  /** The row's query vector: headDim floats. */
  q: Float32Array;
  /** Absolute position of the row; it sees keys 0..position. Must lie after the needle. */
  position: number;
  /**
   * The decision bytes of the row's decision unit, one per KV tile of blockN keys (TileDecision). Undefined: every
   * tile computed (the dense arm).
   */
  decisions?: Uint8Array;
}

/** The keys the rows attend and where the needle sits among them. */
export interface NeedleKeys {
  /** Keys of the rows' KV head, [keys][headDim], at least position + 1 keys for every row. */
  k: Float32Array;
  headDim: number;
  /** Position of the needle key. */
  needle: number;
  /** Keys per KV tile: key j lies in tile floor(j / blockN). */
  blockN: number;
  /** Softmax scale applied to q·k (the kernels' default is 1 / sqrt(headDim)). */
  scale: number;
}

export interface NeedleRowMass {
  position: number;
  denseMass: number;
  skipMass: number;
  /** The needle's KV tile was skipped for this row (skipMass is then 0). */
  lost: boolean;
}

export interface NeedleRecallSummary {
  /** Rows checked. */
  rows: number;
  /** Mean dense and skip mass on the needle over the rows. */
  denseMass: number;
  skipMass: number;
  /** mean(p_skip) / mean(p_dense): 1 when nothing that matters was skipped (or for the dense arm), 0 when lost. */
  recall: number;
  /** Rows whose needle tile was skipped. */
  lostRows: number;
}

/** The needle's dense and skip mass for one row. */
export function needleRowMass(keys: NeedleKeys, row: NeedleRow): NeedleRowMass {
  const { k, headDim: d, needle, blockN, scale } = keys;
  const { q, position, decisions } = row;
  if (!Number.isSafeInteger(position) || position <= needle || k.length < (position + 1) * d) {
    throw invalid(
      ErrorCodes.LENGTH,
      'position',
      `an integer after the needle (${needle}) with keys up to it`,
      position,
    );
  }
  const computed = (j: number) => !decisions || decisions[Math.floor(j / blockN)] === TileDecision.COMPUTED;

  // -- scores and maxima over all causal keys and over the computed tiles' keys --
  const scores = new Float64Array(position + 1);
  let denseMax = Number.NEGATIVE_INFINITY;
  let skipMax = Number.NEGATIVE_INFINITY;
  for (let j = 0; j <= position; j++) {
    let dot = 0;
    for (let c = 0; c < d; c++) dot += q[c] * k[j * d + c];
    const s = scale * dot;
    scores[j] = s;
    denseMax = Math.max(denseMax, s);
    if (computed(j)) skipMax = Math.max(skipMax, s);
  }

  // -- row sums of exp(s - max): all keys, computed keys only --
  let denseSum = 0;
  let skipSum = 0;
  for (let j = 0; j <= position; j++) {
    denseSum += Math.exp(scores[j] - denseMax);
    if (computed(j)) skipSum += Math.exp(scores[j] - skipMax);
  }
  const lost = !computed(needle);
  return {
    position,
    denseMass: Math.exp(scores[needle] - denseMax) / denseSum,
    skipMass: lost || skipSum === 0 ? 0 : Math.exp(scores[needle] - skipMax) / skipSum,
    lost,
  };
}

/** Means over rows and their ratio; recall is NaN for no rows. */
export function summarizeNeedle(masses: readonly NeedleRowMass[]): NeedleRecallSummary {
  const n = masses.length;
  const denseMass = n ? masses.reduce((sum, m) => sum + m.denseMass, 0) / n : Number.NaN;
  const skipMass = n ? masses.reduce((sum, m) => sum + m.skipMass, 0) / n : Number.NaN;
  return {
    rows: n,
    denseMass,
    skipMass,
    recall: skipMass / denseMass,
    lostRows: masses.filter((m) => m.lost).length,
  };
}

/** needleRowMass for every row, summarised. */
export function needleRecall(keys: NeedleKeys, rows: readonly NeedleRow[]): NeedleRecallSummary {
  return summarizeNeedle(rows.map((row) => needleRowMass(keys, row)));
}

/**
 * `max` indices out of `count`, evenly spread: the centre of each of `max` equal shares (all of them when
 * count <= max). Ascending and distinct.
 */
export function spreadIndices(count: number, max = NEEDLE_MAX_ROWS): number[] {
  const m = Math.min(count, max);
  return Array.from({ length: m }, (_, i) => Math.floor(((i + 0.5) * count) / m));
}
