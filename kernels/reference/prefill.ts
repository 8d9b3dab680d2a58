/**
 * Causal prefill with Skip Softmax: the plain-TypeScript reference, written to be read. Every faster kernel must
 * reproduce its tile decisions exactly. Semantics: DESIGN.md section 1 (BLASST, arXiv 2512.12087; TensorRT-LLM
 * SkipSoftmaxAttentionConfig).
 *
 * Numbers: inputs are float32, every score, max, exp and sum is a float64 JS number, the output is rounded to float32
 * once at the end. The per-tile building blocks below (scores, row maxima, the skip test, the online-softmax update)
 * are shared with decode.ts, where a decision unit is a GQA group of query heads instead of a block of query rows.
 */
import { causalPairs, countQueryIo, countTile, emptyCounters, lastVisitedKvTile, logThreshold } from '../tiling.js';
import {
  type AttentionResult,
  type HeadCounters,
  type PrefillInputs,
  type PrefillOptions,
  TileDecision,
} from '../types.js';
import { prefillRowCount, queryTileCount, validatePrefill } from '../validate.js';

// ---------------------------------------------------------------------------------------------------------------
// Per-tile building blocks (shared with decode.ts)
// ---------------------------------------------------------------------------------------------------------------

/** Flash-attention state of one decision unit's rows. */
export interface SoftmaxState {
  /** Running softmax max per row. Advanced only by computed tiles: a skipped tile never touches it. */
  m: Float64Array;
  /** Running row sum of exp(s - m). */
  l: Float64Array;
  /** Running sum of exp(s - m) * v, [rows][headDim]. */
  acc: Float64Array;
  /** The skip test's "prev" per row: advanced to max(prev, local_max) by every visited tile, skipped or not. */
  testMax: Float64Array;
}

export function newSoftmaxState(rows: number, headDim: number): SoftmaxState {
  return {
    m: new Float64Array(rows).fill(Number.NEGATIVE_INFINITY),
    l: new Float64Array(rows),
    acc: new Float64Array(rows * headDim),
    testMax: new Float64Array(rows).fill(Number.NEGATIVE_INFINITY),
  };
}

/** One KV tile as seen by one decision unit. `q` and `k` rows are contiguous in their tensors (see types.ts). */
export interface TileWork {
  q: Float32Array;
  qOffset: number;
  rows: number;
  k: Float32Array;
  v: Float32Array;
  /** Offset of the tile's first key (and value) row. */
  kvOffset: number;
  keys: number;
  headDim: number;
  scale: number;
  /** Causal prefill: absolute positions of the unit's first row and the tile's first key. Decode: null (no mask). */
  causal: { firstRow: number; firstKey: number } | null;
  /** Scratch, [rows][keys] scaled scores and [rows] local maxima. */
  scores: Float64Array;
  localMax: Float64Array;
}

/** scores[i][j] = scale * q_i·k_j, or -Infinity where key j lies after row i (causal mask). */
export function tileScores(w: TileWork): void {
  const { q, k, rows, keys, headDim: d } = w;
  for (let i = 0; i < rows; i++) {
    const qi = w.qOffset + i * d;
    // Keys past this row's position are masked; `visible` counts the unmasked prefix of the tile.
    const visible = w.causal ? Math.min(keys, w.causal.firstRow + i - w.causal.firstKey + 1) : keys;
    for (let j = 0; j < keys; j++) {
      if (j >= visible) {
        w.scores[i * keys + j] = Number.NEGATIVE_INFINITY;
        continue;
      }
      const kj = w.kvOffset + j * d;
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[qi + c] * k[kj + c];
      w.scores[i * keys + j] = w.scale * dot;
    }
  }
}

/** local_max per row: the tile's largest scaled score in that row (-Infinity if the row is fully masked here). */
export function tileRowMaxima(w: TileWork): void {
  for (let i = 0; i < w.rows; i++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < w.keys; j++) max = Math.max(max, w.scores[i * w.keys + j]);
    w.localMax[i] = max;
  }
}

/**
 * The Skip Softmax test: skip iff EVERY row votes local_max - prev < ln(lambda). Never called on a unit's first tile,
 * so prev is finite here (every row's first tile holds key 0 or, in decode, real keys) and -Inf - (-Inf) cannot occur.
 * A fully masked row has local_max = -Inf and so votes "skip".
 */
export function tileIsSkipped(localMax: Float64Array, testMax: Float64Array, rows: number, lnLambda: number): boolean {
  for (let i = 0; i < rows; i++) {
    if (!(localMax[i] - testMax[i] < lnLambda)) return false;
  }
  return true;
}

/** Online-softmax update with one computed tile: rescale by exp(m_old - m_new), then add exp(s - m_new) and P·V. */
export function accumulateTile(state: SoftmaxState, w: TileWork): void {
  const { rows, keys, headDim: d, v } = w;
  for (let i = 0; i < rows; i++) {
    const mNew = Math.max(state.m[i], w.localMax[i]);
    // mNew is finite: a unit's first tile is always computed and gives every row a real score.
    const alpha = Math.exp(state.m[i] - mNew); // 0 on the first tile (m = -Inf)
    const acc = state.acc.subarray(i * d, (i + 1) * d);
    let rowSum = 0;
    for (let c = 0; c < d; c++) acc[c] *= alpha;
    for (let j = 0; j < keys; j++) {
      const p = Math.exp(w.scores[i * keys + j] - mNew); // masked: exp(-Inf) = 0
      rowSum += p;
      const vj = w.kvOffset + j * d;
      for (let c = 0; c < d; c++) acc[c] += p * v[vj + c];
    }
    state.l[i] = state.l[i] * alpha + rowSum;
    state.m[i] = mNew;
  }
}

/**
 * Visits one KV tile. `lnLambda` null is the dense path: no skip logic at all. Returns true if the tile was skipped.
 * A skipped tile does nothing but advance the test max: no exp, no row sum, no P·V, and m is not advanced.
 */
export function visitTile(state: SoftmaxState, w: TileWork, lnLambda: number | null, firstTile: boolean): boolean {
  // -- scores and local maxima (Q·K^T is always computed) --
  tileScores(w);
  tileRowMaxima(w);
  if (lnLambda !== null) {
    // -- skip test; the first tile of a unit is never skipped (prev = -Inf) --
    const skip = !firstTile && tileIsSkipped(w.localMax, state.testMax, w.rows, lnLambda);
    for (let i = 0; i < w.rows; i++) state.testMax[i] = Math.max(state.testMax[i], w.localMax[i]);
    if (skip) return true;
  }
  // -- online softmax and P·V --
  accumulateTile(state, w);
  return false;
}

/** out[i][c] = acc[i][c] / l[i], rounded to float32. */
export function writeRows(state: SoftmaxState, out: Float32Array, outOffset: number, rows: number, d: number): void {
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < d; c++) out[outOffset + i * d + c] = state.acc[i * d + c] / state.l[i];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Prefill
// ---------------------------------------------------------------------------------------------------------------

interface QueryTileJob {
  /** Query tile index and its absolute first row. */
  tile: number;
  firstRow: number;
  rows: number;
  /** Offset of the tile's first row in q/out (packed rows when sampling) and of its KV head in k/v. */
  qOffset: number;
  kvHeadOffset: number;
}

/**
 * The inner KV loop of one decision unit (one query head x one query tile): visits KV tiles 0..last in order
 * (fully masked tiles after `last` are never visited) and returns the final (acc, m, l) state.
 */
function attendQueryTile(
  inputs: PrefillInputs,
  options: PrefillOptions,
  job: QueryTileJob,
  scratch: { scores: Float64Array; localMax: Float64Array },
  lnLambda: number | null,
  counters: HeadCounters,
  decisions: Uint8Array | undefined,
  decisionOffset: number,
): SoftmaxState {
  const { seqLen, headDim: d } = inputs;
  const BLOCK_N = options.blockN;
  const scale = options.scale ?? 1 / Math.sqrt(d);
  const state = newSoftmaxState(job.rows, d);
  const last = lastVisitedKvTile(job.tile, options.blockM, BLOCK_N, seqLen);
  for (let u = 0; u <= last; u++) {
    const firstKey = u * BLOCK_N;
    const keys = Math.min(BLOCK_N, seqLen - firstKey);
    const work: TileWork = {
      q: inputs.q,
      qOffset: job.qOffset,
      rows: job.rows,
      k: inputs.k,
      v: inputs.v,
      kvOffset: job.kvHeadOffset + firstKey * d,
      keys,
      headDim: d,
      scale,
      causal: { firstRow: job.firstRow, firstKey },
      ...scratch,
    };
    const skipped = visitTile(state, work, lnLambda, u === 0);
    // -- counters: only unmasked (row, key) pairs cost FLOPs --
    const pairs = causalPairs(job.firstRow, job.firstRow + job.rows, firstKey, firstKey + keys);
    countTile(counters, pairs, keys, d, skipped);
    if (decisions) decisions[decisionOffset + u] = skipped ? TileDecision.SKIPPED : TileDecision.COMPUTED;
  }
  return state;
}

/**
 * Causal prefill of every query tile (or of `inputs.queryTiles` only). Decision unit: one query head x blockM query
 * rows x one KV tile; lambda = factor / seqLen.
 */
export function prefillReference(inputs: PrefillInputs, options: PrefillOptions): AttentionResult {
  validatePrefill(inputs, options);
  const { numQueryHeads: hq, numKvHeads: hkv, headDim: d, seqLen } = inputs;
  const BLOCK_M = options.blockM;
  const BLOCK_N = options.blockN;
  const groupSize = hq / hkv;
  // Factor 0 is the dense path: lnLambda null switches the skip logic off entirely.
  const lnLambda = options.thresholdScaleFactor > 0 ? logThreshold(options.thresholdScaleFactor, seqLen) : null;

  const tiles = inputs.queryTiles ?? Array.from({ length: queryTileCount(seqLen, BLOCK_M) }, (_, t) => t);
  const rowsHeld = prefillRowCount(seqLen, BLOCK_M, inputs.queryTiles);
  const kvTiles = Math.ceil(seqLen / BLOCK_N);
  const out = new Float32Array(inputs.q.length);
  const heads = Array.from({ length: hq }, emptyCounters);
  const decisions = options.recordDecisions ? new Uint8Array(hq * tiles.length * kvTiles) : undefined;
  const scratch = { scores: new Float64Array(BLOCK_M * BLOCK_N), localMax: new Float64Array(BLOCK_M) };

  for (let h = 0; h < hq; h++) {
    const kvHeadOffset = Math.floor(h / groupSize) * seqLen * d;
    let packedRow = 0;
    for (let ti = 0; ti < tiles.length; ti++) {
      const tile = tiles[ti];
      const firstRow = tile * BLOCK_M;
      // A short last tile has fewer rows; rows past seqLen do not exist (they neither vote nor get output).
      const rows = Math.min(BLOCK_M, seqLen - firstRow);
      const qOffset = (h * rowsHeld + packedRow) * d;
      const job: QueryTileJob = { tile, firstRow, rows, qOffset, kvHeadOffset };
      const decisionOffset = (h * tiles.length + ti) * kvTiles;
      const state = attendQueryTile(inputs, options, job, scratch, lnLambda, heads[h], decisions, decisionOffset);
      writeRows(state, out, qOffset, rows, d);
      countQueryIo(heads[h], rows, d);
      packedRow += rows;
    }
  }
  return decisions ? { out, heads, decisions } : { out, heads };
}
