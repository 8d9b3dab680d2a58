/**
 * The WebAssembly SIMD kernel (single-threaded createWasmKernel) against the float64 reference: outputs within f32
 * tolerance, identical tile decisions and counters. The WASM kernel computes scores in f32 and in the log2 domain, so a
 * tile whose decision value sits within MARGIN of ln(lambda) may legitimately go the other way; the test computes that
 * value for every tested tile from the full float64 score matrix and allows a mismatch only there.
 *
 * Runs for both builds (build/attention.wasm and build/attention-relaxed.wasm; `npm run build`).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { referenceKernel } from '../../kernels/reference/index.js';
import { lastVisitedKvTile, sparsity } from '../../kernels/tiling.js';
import {
  type AttentionKernel,
  type AttentionResult,
  type DecodeInputs,
  type DecodeOptions,
  type HeadCounters,
  type HeadDim,
  type PrefillInputs,
  type PrefillOptions,
  TileDecision,
} from '../../kernels/types.js';
import { createWasmKernel } from '../../kernels/wasm/kernel.js';
import { loadKernelModule } from '../../harness/cpu/wasm-module.js';
import { gaussianArray, mulberry32 } from '../helpers/random.js';

const NEG = Number.NEGATIVE_INFINITY;
/** Decision values closer than this (natural-log units) to ln(lambda) may be decided either way. */
const MARGIN = 1e-3;
/** Relative L2 tolerance of an f32 kernel against the float64 reference. */
const TOLERANCE = 1e-4;

/** Both builds of the kernel: plain SIMD and relaxed SIMD (fused multiply-add where the CPU has it). */
const VARIANTS = ['simd', 'relaxed-simd'] as const;

// ---------------------------------------------------------------------------------------------------------------
// Inputs: Gaussian noise plus an attention sink (keys 0..3 carry a large component along dimension 0 that every query
// shares, with a strength drawn per block of query rows so that units differ).
// ---------------------------------------------------------------------------------------------------------------

interface Tensors {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

function sinkTensors(seed: number, hq: number, hkv: number, d: number, qRows: number, keys: number): Tensors {
  const rng = mulberry32(seed);
  const q = gaussianArray(hq * qRows * d, rng);
  const k = gaussianArray(hkv * keys * d, rng);
  const v = gaussianArray(hkv * keys * d, rng);
  // dimension 0 of every query is the shared sink direction: sink score ~ 4 * strength (6..16), strength drawn per
  // block of 16 query rows (decode: per head); the other dimensions and the other keys are N(0, 1) noise
  const block = qRows === 1 ? 1 : 16;
  let strength = 0;
  for (let r = 0; r < hq * qRows; r++) {
    if (r % block === 0) strength = 1.5 + 2.5 * rng();
    q[r * d] = strength + 0.2 * (rng() - 0.5);
  }
  for (let g = 0; g < hkv; g++) {
    for (let j = 0; j < 4; j++) k[(g * keys + j) * d] += 4 * Math.sqrt(d);
  }
  return { q, k, v };
}

/** Copies the rows of `tiles` (tiles of blockM rows) of every head out of a full [hq][seqLen][d] query tensor. */
function packTiles(q: Float32Array, hq: number, seqLen: number, d: number, blockM: number, tiles: number[]) {
  const rows = tiles.reduce((n, t) => n + Math.min(blockM, seqLen - t * blockM), 0);
  const out = new Float32Array(hq * rows * d);
  for (let h = 0; h < hq; h++) {
    let at = h * rows * d;
    for (const t of tiles) {
      const r0 = t * blockM;
      const r1 = Math.min(seqLen, r0 + blockM);
      out.set(q.subarray((h * seqLen + r0) * d, (h * seqLen + r1) * d), at);
      at += (r1 - r0) * d;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Decision values from the full float64 score matrix. For a tested tile (any visited tile but a unit's / partition's
// first), value = max over the unit's rows of (local_max - prev), prev = max of the row's earlier local maxima in the
// same unit / partition (the skip test's max advances on every visited tile, skipped or not, so it does not depend on
// earlier decisions). The tile is skipped iff value < ln(lambda).
// ---------------------------------------------------------------------------------------------------------------

interface TestedTile {
  /** Index into the kernels' decision array. */
  index: number;
  value: number;
}

interface DecisionMap {
  /** Every visited tile's index in the decision array. */
  visited: number[];
  tested: TestedTile[];
  length: number;
}

function dot(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s = 0;
  for (let c = 0; c < d; c++) s += a[ai + c] * b[bi + c];
  return s;
}

/** Folds one unit's per-row local maxima (rows x tiles, in visiting order) into tested-tile values. */
function unitValues(lm: Float64Array[], order: number[], base: number, map: DecisionMap): void {
  const prev = new Float64Array(lm.length).fill(NEG);
  order.forEach((u, position) => {
    map.visited.push(base + u);
    if (position > 0) {
      let value = NEG;
      for (let i = 0; i < lm.length; i++) value = Math.max(value, lm[i][u] - prev[i]);
      map.tested.push({ index: base + u, value });
    }
    for (let i = 0; i < lm.length; i++) prev[i] = Math.max(prev[i], lm[i][u]);
  });
}

function prefillDecisionMap(inp: PrefillInputs, blockM: number, blockN: number, tiles: number[]): DecisionMap {
  const { numQueryHeads: hq, numKvHeads: hkv, headDim: d, seqLen: n } = inp;
  const scale = 1 / Math.sqrt(d);
  const kvTiles = Math.ceil(n / blockN);
  const rowsHeld = tiles.reduce((s, t) => s + Math.min(blockM, n - t * blockM), 0);
  const map: DecisionMap = { visited: [], tested: [], length: hq * tiles.length * kvTiles };
  for (let h = 0; h < hq; h++) {
    const g = Math.floor(h / (hq / hkv));
    let packed = 0;
    tiles.forEach((t, ti) => {
      const r0 = t * blockM;
      const rows = Math.min(blockM, n - r0);
      const last = lastVisitedKvTile(t, blockM, blockN, n);
      const lm = Array.from({ length: rows }, () => new Float64Array(kvTiles).fill(NEG));
      for (let i = 0; i < rows; i++) {
        const qi = (h * rowsHeld + packed + i) * d;
        for (let j = 0; j <= r0 + i; j++) {
          const s = scale * dot(inp.q, qi, inp.k, (g * n + j) * d, d);
          const u = Math.floor(j / blockN);
          if (s > lm[i][u]) lm[i][u] = s;
        }
      }
      unitValues(lm, [...Array(last + 1).keys()], (h * tiles.length + ti) * kvTiles, map);
      packed += rows;
    });
  }
  return map;
}

function decodeDecisionMap(inp: DecodeInputs, blockN: number, partitions: number): DecisionMap {
  const { numQueryHeads: hq, numKvHeads: hkv, headDim: d, kvLen: n } = inp;
  const scale = 1 / Math.sqrt(d);
  const group = hq / hkv;
  const kvTiles = Math.ceil(n / blockN);
  const map: DecisionMap = { visited: [], tested: [], length: hkv * kvTiles };
  for (let g = 0; g < hkv; g++) {
    const lm = Array.from({ length: group }, () => new Float64Array(kvTiles).fill(NEG));
    for (let i = 0; i < group; i++) {
      for (let j = 0; j < n; j++) {
        const s = scale * dot(inp.q, (g * group + i) * d, inp.k, (g * n + j) * d, d);
        const u = Math.floor(j / blockN);
        if (s > lm[i][u]) lm[i][u] = s;
      }
    }
    for (let p = 0; p < Math.min(partitions, kvTiles); p++) {
      const order: number[] = [];
      for (let t = p; t < kvTiles; t += partitions) order.push(t);
      unitValues(lm, order, g * kvTiles, map);
    }
  }
  return map;
}

/**
 * ln(lambda) skipping about `target` of the visited tiles: the midpoint of the widest gap between sorted decision
 * values near the target, so that few tiles sit near the threshold.
 */
function lnLambdaFor(map: DecisionMap, target: number): number {
  const values = map.tested.map((t) => t.value).sort((a, b) => a - b);
  const want = Math.round(target * map.visited.length);
  const lo = Math.max(1, want - Math.ceil(0.04 * map.visited.length));
  const hi = Math.min(values.length - 1, want + Math.ceil(0.04 * map.visited.length));
  let best = lo;
  for (let k = lo; k <= hi; k++) if (values[k] - values[k - 1] > values[best] - values[best - 1]) best = k;
  return (values[best - 1] + values[best]) / 2;
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------------------------

interface Unit {
  /** Decision indices of the unit, and its output range in floats. */
  decisions: [number, number];
  out: [number, number];
}

function relL2(actual: Float32Array, expected: Float32Array, ranges: [number, number][]): number {
  let num = 0;
  let den = 0;
  for (const [a, b] of ranges) {
    for (let i = a; i < b; i++) {
      num += (actual[i] - expected[i]) ** 2;
      den += expected[i] ** 2;
    }
  }
  return Math.sqrt(num / den);
}

function sameBytes(a: Uint8Array, b: Uint8Array, [from, to]: [number, number]): boolean {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}

function total(heads: HeadCounters[]): HeadCounters {
  return heads.reduce(
    (acc, c) => ({
      visitedTiles: acc.visitedTiles + c.visitedTiles,
      skippedTiles: acc.skippedTiles + c.skippedTiles,
      flops: acc.flops + c.flops,
      denseFlops: acc.denseFlops + c.denseFlops,
      bytes: acc.bytes + c.bytes,
      denseBytes: acc.denseBytes + c.denseBytes,
    }),
    { visitedTiles: 0, skippedTiles: 0, flops: 0, denseFlops: 0, bytes: 0, denseBytes: 0 },
  );
}

/**
 * Checks one skip arm: decisions agree outside the margin (and the reference agrees with the independent rule),
 * outputs agree on every unit whose decisions agree, counters agree when every decision does.
 */
function compareSkipArm(
  ref: AttentionResult,
  got: AttentionResult,
  map: DecisionMap,
  lnLambda: number,
  units: Unit[],
): { sparsity: number; nearThreshold: number; mismatches: number } {
  const rd = ref.decisions!;
  const wd = got.decisions!;
  expect(rd.length).toBe(map.length);
  expect(wd.length).toBe(map.length);
  // tiles never visited are 0 in both
  const visited = new Set(map.visited);
  for (let i = 0; i < map.length; i++) {
    if (!visited.has(i)) {
      expect(rd[i]).toBe(TileDecision.NOT_VISITED);
      expect(wd[i]).toBe(TileDecision.NOT_VISITED);
    }
  }
  const tested = new Set(map.tested.map((t) => t.index));
  for (const i of map.visited) {
    if (!tested.has(i)) {
      // a unit's (or partition's) first tile is always computed
      expect(rd[i]).toBe(TileDecision.COMPUTED);
      expect(wd[i]).toBe(TileDecision.COMPUTED);
    }
  }
  let nearThreshold = 0;
  let mismatches = 0;
  for (const { index, value } of map.tested) {
    const margin = Math.abs(value - lnLambda);
    if (margin < MARGIN) nearThreshold++;
    const rule = value < lnLambda ? TileDecision.SKIPPED : TileDecision.COMPUTED;
    // the float64 reference follows the rule wherever summation order cannot matter
    if (margin > 1e-9) expect(rd[index], `reference tile ${index}`).toBe(rule);
    if (rd[index] !== wd[index]) {
      mismatches++;
      expect(margin, `wasm decision of tile ${index} differs outside the margin`).toBeLessThan(MARGIN);
    }
  }
  expect(map.tested.length).toBeGreaterThan(20);
  // few tiles sit near the threshold, so the decision comparison has teeth
  expect(nearThreshold).toBeLessThanOrEqual(Math.max(2, Math.ceil(0.01 * map.tested.length)));

  const agreeing = units.filter((u) => sameBytes(rd, wd, u.decisions));
  expect(agreeing.length).toBeGreaterThanOrEqual(Math.ceil(0.9 * units.length));
  expect(
    relL2(
      got.out,
      ref.out,
      agreeing.map((u) => u.out),
    ),
  ).toBeLessThan(TOLERANCE);
  if (mismatches === 0) expect(got.heads).toEqual(ref.heads);
  else expect(got.heads.map((h) => h.visitedTiles)).toEqual(ref.heads.map((h) => h.visitedTiles));
  return { sparsity: sparsity(total(ref.heads)), nearThreshold, mismatches };
}

// ---------------------------------------------------------------------------------------------------------------
// Prefill
// ---------------------------------------------------------------------------------------------------------------

interface PrefillCase {
  name: string;
  d: HeadDim;
  hq: number;
  hkv: number;
  seqLen: number;
  blockM: number;
  blockN: number;
  queryTiles?: number[];
  /** Target sparsities (the factor is derived from the decision values) and plain factors. */
  targets: number[];
  factors?: number[];
}

const prefillCases: PrefillCase[] = [
  {
    name: 'd64 GQA 4/2, 301 tokens, 32x64 tiles',
    d: 64,
    hq: 4,
    hkv: 2,
    seqLen: 301,
    blockM: 32,
    blockN: 64,
    targets: [0.3, 0.6],
    factors: [3],
  },
  {
    name: 'd128 GQA 4/2, 600 tokens, 64x64 tiles',
    d: 128,
    hq: 4,
    hkv: 2,
    seqLen: 600,
    blockM: 64,
    blockN: 64,
    targets: [0.5],
    factors: [3],
  },
  {
    name: 'd64 GQA 4/1, 1000 tokens, 32x128 tiles, sampled query tiles',
    d: 64,
    hq: 4,
    hkv: 1,
    seqLen: 1000,
    blockM: 32,
    blockN: 128,
    queryTiles: [0, 5, 17, 30, 31],
    targets: [0.4],
  },
  {
    name: 'd128 GQA 4/1, 1000 tokens, 64x128 tiles, sampled query tiles',
    d: 128,
    hq: 4,
    hkv: 1,
    seqLen: 1000,
    blockM: 64,
    blockN: 128,
    queryTiles: [2, 9, 15],
    targets: [0.5],
  },
];

describe.each(VARIANTS)('%s build', (variant) => {
  let wasm: AttentionKernel;

  beforeAll(() => {
    wasm = createWasmKernel(loadKernelModule(variant).module);
  });

  describe.each(prefillCases)('wasm prefill vs reference: $name', (c) => {
    const allTiles = [...Array(Math.ceil(c.seqLen / c.blockM)).keys()];
    const tiles = c.queryTiles ?? allTiles;
    const full = sinkTensors(c.d * 1000 + c.seqLen, c.hq, c.hkv, c.d, c.seqLen, c.seqLen);
    const inputs: PrefillInputs = {
      numQueryHeads: c.hq,
      numKvHeads: c.hkv,
      headDim: c.d,
      seqLen: c.seqLen,
      q: c.queryTiles ? packTiles(full.q, c.hq, c.seqLen, c.d, c.blockM, tiles) : full.q,
      k: full.k,
      v: full.v,
      ...(c.queryTiles ? { queryTiles: c.queryTiles } : {}),
    };
    const options = (factor: number): PrefillOptions => ({
      thresholdScaleFactor: factor,
      blockM: c.blockM,
      blockN: c.blockN,
      recordDecisions: true,
    });
    const kvTiles = Math.ceil(c.seqLen / c.blockN);
    const rowsHeld = tiles.reduce((n, t) => n + Math.min(c.blockM, c.seqLen - t * c.blockM), 0);
    const units: Unit[] = [];
    for (let h = 0; h < c.hq; h++) {
      let packed = 0;
      tiles.forEach((t, ti) => {
        const rows = Math.min(c.blockM, c.seqLen - t * c.blockM);
        const base = (h * tiles.length + ti) * kvTiles;
        units.push({
          decisions: [base, base + kvTiles],
          out: [(h * rowsHeld + packed) * c.d, (h * rowsHeld + packed + rows) * c.d],
        });
        packed += rows;
      });
    }
    let dense: AttentionResult;

    it('dense: output within f32 tolerance, same decisions and counters, bit-identical across calls', () => {
      dense = referenceKernel.prefill(inputs, options(0));
      const got = wasm.prefill(inputs, options(0));
      expect(got.out.length).toBe(inputs.q.length);
      expect(relL2(got.out, dense.out, [[0, dense.out.length]])).toBeLessThan(TOLERANCE);
      expect(got.decisions).toEqual(dense.decisions);
      expect(got.heads).toEqual(dense.heads);
      expect(got.heads.every((h) => h.skippedTiles === 0 && h.flops === h.denseFlops)).toBe(true);
      const again = wasm.prefill(inputs, options(0));
      expect(Buffer.from(again.out.buffer).equals(Buffer.from(got.out.buffer))).toBe(true);
    });

    const arms = [
      ...c.targets.map((target) => ({ label: `target sparsity ${target}`, target, factor: 0 })),
      ...(c.factors ?? []).map((factor) => ({ label: `factor ${factor}`, target: -1, factor })),
    ];
    it.each(arms)('skip arm, $label: same decisions outside the margin, same output and counters', (arm) => {
      const map = prefillDecisionMap(inputs, c.blockM, c.blockN, tiles);
      const lnLambda = arm.target >= 0 ? lnLambdaFor(map, arm.target) : Math.log(arm.factor / c.seqLen);
      const factor = c.seqLen * Math.exp(lnLambda);
      const ref = referenceKernel.prefill(inputs, options(factor));
      const got = wasm.prefill(inputs, options(factor));
      const { sparsity: s } = compareSkipArm(ref, got, map, lnLambda, units);
      expect(s).toBeGreaterThanOrEqual(0.2);
      expect(s).toBeLessThanOrEqual(0.8);
      // the skip arm really skipped: its output moved away from dense
      expect(relL2(got.out, dense.out, [[0, dense.out.length]])).toBeGreaterThan(1e-6);
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  // Decode
  // ---------------------------------------------------------------------------------------------------------------

  interface DecodeCase {
    name: string;
    d: HeadDim;
    hq: number;
    hkv: number;
    kvLen: number;
    blockN: number;
    partitions: number;
    targets: number[];
    factors?: number[];
  }

  const decodeCases: DecodeCase[] = [
    {
      name: 'd64 GQA 4/2, 1000 keys, tile 64, P=1',
      d: 64,
      hq: 4,
      hkv: 2,
      kvLen: 1000,
      blockN: 64,
      partitions: 1,
      targets: [0.3, 0.6],
    },
    {
      name: 'd64 GQA 4/2, 1000 keys, tile 64, P=3',
      d: 64,
      hq: 4,
      hkv: 2,
      kvLen: 1000,
      blockN: 64,
      partitions: 3,
      targets: [0.3, 0.6],
    },
    {
      name: 'd128 GQA 4/1, 4001 keys, tile 128, P=1',
      d: 128,
      hq: 4,
      hkv: 1,
      kvLen: 4001,
      blockN: 128,
      partitions: 1,
      targets: [0.5],
    },
    {
      name: 'd128 GQA 4/1, 4001 keys, tile 128, P=3',
      d: 128,
      hq: 4,
      hkv: 1,
      kvLen: 4001,
      blockN: 128,
      partitions: 3,
      targets: [0.5],
    },
    {
      name: 'd128 GQA 4/2, 3000 keys, tile 64, P=3',
      d: 128,
      hq: 4,
      hkv: 2,
      kvLen: 3000,
      blockN: 64,
      partitions: 3,
      targets: [0.25, 0.75],
      factors: [3],
    },
    {
      name: 'd128 GQA 4/2, 3000 keys, tile 64, P=1',
      d: 128,
      hq: 4,
      hkv: 2,
      kvLen: 3000,
      blockN: 64,
      partitions: 1,
      targets: [],
      factors: [1],
    },
  ];

  function decodeInputs(seed: number, d: HeadDim, hq: number, hkv: number, kvLen: number): DecodeInputs {
    return { numQueryHeads: hq, numKvHeads: hkv, headDim: d, kvLen, ...sinkTensors(seed, hq, hkv, d, 1, kvLen) };
  }

  describe.each(decodeCases)('wasm decode vs reference: $name', (c) => {
    const inputs = decodeInputs(c.d + c.kvLen, c.d, c.hq, c.hkv, c.kvLen); // the same data for every P
    const options = (factor: number): DecodeOptions => ({
      thresholdScaleFactor: factor,
      blockN: c.blockN,
      partitions: c.partitions,
      recordDecisions: true,
    });
    const group = c.hq / c.hkv;
    const kvTiles = Math.ceil(c.kvLen / c.blockN);
    const units: Unit[] = Array.from({ length: c.hkv }, (_, g) => ({
      decisions: [g * kvTiles, (g + 1) * kvTiles],
      out: [g * group * c.d, (g + 1) * group * c.d],
    }));
    let dense: AttentionResult;

    it('dense: output within f32 tolerance, same decisions and counters, bit-identical across calls', () => {
      dense = referenceKernel.decode(inputs, options(0));
      const got = wasm.decode(inputs, options(0));
      expect(relL2(got.out, dense.out, [[0, dense.out.length]])).toBeLessThan(TOLERANCE);
      expect(got.decisions).toEqual(dense.decisions);
      expect(got.heads).toEqual(dense.heads);
      const again = wasm.decode(inputs, options(0));
      expect(Buffer.from(again.out.buffer).equals(Buffer.from(got.out.buffer))).toBe(true);
    });

    const arms = [
      ...c.targets.map((target) => ({ label: `target sparsity ${target}`, target, factor: 0 })),
      ...(c.factors ?? []).map((factor) => ({ label: `factor ${factor}`, target: -1, factor })),
    ];
    it.each(arms)('skip arm, $label: same decisions outside the margin, same output and counters', (arm) => {
      const map = decodeDecisionMap(inputs, c.blockN, c.partitions);
      const lnLambda = arm.target >= 0 ? lnLambdaFor(map, arm.target) : Math.log(arm.factor / c.kvLen);
      const factor = c.kvLen * Math.exp(lnLambda);
      const ref = referenceKernel.decode(inputs, options(factor));
      const got = wasm.decode(inputs, options(factor));
      const { sparsity: s } = compareSkipArm(ref, got, map, lnLambda, units);
      expect(s).toBeGreaterThanOrEqual(0.2);
      expect(s).toBeLessThanOrEqual(0.8);
      expect(relL2(got.out, dense.out, [[0, dense.out.length]])).toBeGreaterThan(1e-6);
    });
  });

  describe('wasm decode edge cases', () => {
    it('more partitions than KV tiles (empty partitions are left out of the merge)', () => {
      const inputs = decodeInputs(7, 64, 4, 1, 300);
      const options: DecodeOptions = { thresholdScaleFactor: 0, blockN: 128, partitions: 8, recordDecisions: true };
      const ref = referenceKernel.decode(inputs, options);
      const got = wasm.decode(inputs, options);
      expect(got.out.every(Number.isFinite)).toBe(true);
      expect(relL2(got.out, ref.out, [[0, ref.out.length]])).toBeLessThan(TOLERANCE);
      expect(got.decisions).toEqual(ref.decisions);
      expect(got.heads).toEqual(ref.heads);
    });

    it('a skip arm that skips nothing gives the dense output bit for bit', () => {
      const inputs = decodeInputs(11, 128, 4, 2, 1000);
      const base = { blockN: 64, partitions: 3, recordDecisions: true };
      const dense = wasm.decode(inputs, { ...base, thresholdScaleFactor: 0 });
      // lambda = 1e-30 / L: ln(lambda) ~ -76, far below any local_max - prev on these inputs
      const skip = wasm.decode(inputs, { ...base, thresholdScaleFactor: 1e-30 });
      expect(skip.heads.every((h) => h.skippedTiles === 0 && h.visitedTiles > 0)).toBe(true);
      expect(Buffer.from(skip.out.buffer).equals(Buffer.from(dense.out.buffer))).toBe(true);
    });

    it('a factor with lambda > 1 skips every tested tile, in both kernels', () => {
      const inputs = decodeInputs(13, 64, 4, 2, 1000);
      const options: DecodeOptions = { thresholdScaleFactor: 1e6, blockN: 64, partitions: 3, recordDecisions: true };
      const ref = referenceKernel.decode(inputs, options);
      const got = wasm.decode(inputs, options);
      expect(got.decisions).toEqual(ref.decisions);
      expect(got.heads).toEqual(ref.heads);
      // 16 tiles per KV head, the first 3 (one per partition) always computed
      expect(got.heads.map((h) => h.skippedTiles)).toEqual([13, 13]);
      expect(relL2(got.out, ref.out, [[0, ref.out.length]])).toBeLessThan(TOLERANCE);
    });
  });
});
