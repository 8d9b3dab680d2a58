/**
 * The Skip Softmax tile rule, checked against an independent, straightforward implementation written from the full
 * score matrix: tile u of a unit is skipped iff it is not the unit's first tile and, for every valid row,
 * local_max[r][u] - max(local_max[r][u'] for earlier visited tiles u' of the same unit / partition) < ln(factor / L).
 */
import { describe, expect, it } from 'vitest';
import { decodeReference, prefillReference } from '../../kernels/reference/index.js';
import type { AttentionResult, DecodeInputs, PrefillInputs } from '../../kernels/types.js';
import { TileDecision } from '../../kernels/types.js';
import { gaussianArray, mulberry32 } from '../helpers/random.js';

const NEG = Number.NEGATIVE_INFINITY;
const D = 64;
const SCALE = 1 / Math.sqrt(D);

/**
 * Attention-sink inputs: keys 0..3 carry a large component along dimension 0 that every query shares, with a
 * strength drawn per (head, query tile or group) so that some units skip at moderate factors and others do not.
 * Keys `peaks` carry a component along dimension 1 that some queries look for (a retrieval peak).
 */
function sinkTensors(seed: number, qRows: number, rowsPerUnit: number, keys: number, kvHeads: number) {
  const rng = mulberry32(seed);
  const q = gaussianArray(qRows * D, rng);
  const k = gaussianArray(kvHeads * keys * D, rng);
  const v = gaussianArray(kvHeads * keys * D, rng);
  let strength = 0;
  for (let r = 0; r < qRows; r++) {
    if (r % rowsPerUnit === 0) strength = 3 + 5 * rng();
    q[r * D] += strength + 0.5 * rng();
    if (rng() < 0.02) q[r * D + 1] += 6; // a few rows look for the peaks
  }
  for (let g = 0; g < kvHeads; g++) {
    for (let j = 0; j < 4; j++) k[(g * keys + j) * D] += 8;
    for (let j = 37; j < keys; j += 211) k[(g * keys + j) * D + 1] += 8;
  }
  return { q, k, v };
}

function sinkPrefill(seed: number): PrefillInputs {
  const n = 640;
  return { numQueryHeads: 2, numKvHeads: 1, headDim: D, seqLen: n, ...sinkTensors(seed, 2 * n, 32, n, 1) };
}

function sinkDecode(seed: number): DecodeInputs {
  const kvLen = 2048;
  return { numQueryHeads: 4, numKvHeads: 2, headDim: D, kvLen, ...sinkTensors(seed, 4, 2, kvLen, 2) };
}

/** Scaled score of query row `qRow` against key row `kRow`, summed in the same order as any plain dot product. */
function score(q: Float32Array, qRow: number, k: Float32Array, kRow: number): number {
  let dot = 0;
  for (let c = 0; c < D; c++) dot += q[qRow * D + c] * k[kRow * D + c];
  return SCALE * dot;
}

/** local_max[r][u] of every row against every KV tile, causal (keys after the row are -Inf). */
function localMaxima(
  q: Float32Array,
  qRow0: number,
  rows: number,
  k: Float32Array,
  kRow0: number,
  n: number,
  blockN: number,
  causalRow0: number | null,
) {
  const tiles = Math.ceil(n / blockN);
  const lm = Array.from({ length: rows }, () => new Array<number>(tiles).fill(NEG));
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < n; j++) {
      if (causalRow0 !== null && j > causalRow0 + i) break;
      const u = Math.floor(j / blockN);
      lm[i][u] = Math.max(lm[i][u], score(q, qRow0 + i, k, kRow0 + j));
    }
  }
  return lm;
}

/** Independent rule: decision of each tile in `order` (the unit's / partition's visiting order). */
function ruleDecisions(lm: number[][], order: number[], lnLambda: number, out: number[]): void {
  order.forEach((u, idx) => {
    if (idx === 0) {
      out[u] = TileDecision.COMPUTED;
      return;
    }
    const skip = lm.every((row) => row[u] - Math.max(...order.slice(0, idx).map((e) => row[e])) < lnLambda);
    out[u] = skip ? TileDecision.SKIPPED : TileDecision.COMPUTED;
  });
}

function expectedPrefill(inp: PrefillInputs, factor: number, blockM: number, blockN: number): number[] {
  const n = inp.seqLen;
  const qTiles = Math.ceil(n / blockM);
  const kvTiles = Math.ceil(n / blockN);
  const all: number[] = [];
  for (let h = 0; h < inp.numQueryHeads; h++) {
    for (let t = 0; t < qTiles; t++) {
      const rows = Math.min(blockM, n - t * blockM);
      const lm = localMaxima(inp.q, h * n + t * blockM, rows, inp.k, 0, n, blockN, t * blockM);
      const visited = [...Array(kvTiles).keys()].filter((u) => u * blockN <= t * blockM + rows - 1);
      const out = new Array<number>(kvTiles).fill(TileDecision.NOT_VISITED);
      ruleDecisions(lm, visited, Math.log(factor / n), out);
      all.push(...out);
    }
  }
  return all;
}

function expectedDecode(inp: DecodeInputs, factor: number, blockN: number, partitions: number): number[] {
  const { kvLen: n, numQueryHeads: hq, numKvHeads: hkv } = inp;
  const group = hq / hkv;
  const tiles = Math.ceil(n / blockN);
  const all: number[] = [];
  for (let g = 0; g < hkv; g++) {
    const lm = localMaxima(inp.q, g * group, group, inp.k, g * n, n, blockN, null);
    const out = new Array<number>(tiles).fill(TileDecision.NOT_VISITED);
    for (let p = 0; p < Math.min(partitions, tiles); p++) {
      const order = [...Array(tiles).keys()].filter((t) => t % partitions === p);
      ruleDecisions(lm, order, Math.log(factor / n), out);
    }
    all.push(...out);
  }
  return all;
}

const sparsityOf = (r: AttentionResult) =>
  r.heads.reduce((a, c) => a + c.skippedTiles, 0) / r.heads.reduce((a, c) => a + c.visitedTiles, 0);

const prefillInputs = sinkPrefill(21);
const decodeInputs = sinkDecode(22);
const PREFILL_TILES = { blockM: 32, blockN: 32 };
const prefillAt = (factor: number, tiles: { blockM: number; blockN: number } = PREFILL_TILES) =>
  prefillReference(prefillInputs, { thresholdScaleFactor: factor, ...tiles, recordDecisions: true });
const decodeAt = (factor: number, partitions: number) =>
  decodeReference(decodeInputs, { thresholdScaleFactor: factor, blockN: 64, partitions, recordDecisions: true });

describe('skip rule: reference agrees with an independent implementation', () => {
  // blockM 64 > blockN 32: the first half of a query tile's rows is fully masked in its last KV tile (they vote skip).
  it.each([
    [30, 32, 32],
    [300, 32, 32],
    [3000, 32, 32],
    [300, 64, 32],
    [300, 32, 64],
  ])('prefill, factor %d, blockM %d, blockN %d', (factor, blockM, blockN) => {
    const res = prefillAt(factor, { blockM, blockN });
    expect(sparsityOf(res)).toBeGreaterThan(0.1);
    expect(sparsityOf(res)).toBeLessThan(0.95);
    expect(Array.from(res.decisions ?? [])).toEqual(expectedPrefill(prefillInputs, factor, blockM, blockN));
  });

  it.each([
    [100, 1],
    [1000, 1],
    [100, 3],
    [1000, 3],
  ])('decode, factor %d, P=%d', (factor, partitions) => {
    const res = decodeAt(factor, partitions);
    expect(sparsityOf(res)).toBeGreaterThan(0.1);
    expect(sparsityOf(res)).toBeLessThan(0.95);
    expect(Array.from(res.decisions ?? [])).toEqual(expectedDecode(decodeInputs, factor, 64, partitions));
  });
});

describe('skip rule: properties', () => {
  const FACTORS = [0, 0.1, 1, 10, 100, 1e3, 1e4, 1e5];

  /** Sparsity never falls as the factor grows, and a tile skipped at one factor stays skipped at every larger one. */
  function expectMonotone(runs: AttentionResult[]): void {
    for (let i = 1; i < runs.length; i++) {
      expect(sparsityOf(runs[i])).toBeGreaterThanOrEqual(sparsityOf(runs[i - 1]));
      const before = runs[i - 1].decisions ?? new Uint8Array();
      const after = runs[i].decisions ?? new Uint8Array();
      for (let x = 0; x < before.length; x++) {
        if (before[x] === TileDecision.SKIPPED) expect(after[x]).toBe(TileDecision.SKIPPED);
      }
    }
    expect(sparsityOf(runs[0])).toBe(0);
    expect(Math.max(...runs.map(sparsityOf))).toBeGreaterThan(0.3); // so that this test can fail
  }

  it('prefill sparsity is monotone in the factor', () => expectMonotone(FACTORS.map((f) => prefillAt(f))));
  it.each([1, 3])('decode sparsity is monotone in the factor (P=%i)', (p) =>
    expectMonotone(FACTORS.map((f) => decodeAt(f, p))),
  );

  it('prefill: the first tile of every query tile is never skipped, even at factor 1e12', () => {
    const res = prefillAt(1e12);
    const n = prefillInputs.seqLen;
    const kvTiles = Math.ceil(n / 32);
    const decisions = res.decisions ?? new Uint8Array();
    for (let unit = 0; unit < 2 * Math.ceil(n / 32); unit++) {
      const t = unit % Math.ceil(n / 32);
      const row = Array.from(decisions.subarray(unit * kvTiles, (unit + 1) * kvTiles));
      // ln(1e12 / 640) ~ 21 is above every score gap here, so every other visited tile is skipped.
      const want = row.map((_, u) =>
        u === 0 ? TileDecision.COMPUTED : u <= t ? TileDecision.SKIPPED : TileDecision.NOT_VISITED,
      );
      expect(row).toEqual(want);
    }
    expect(Array.from(res.out).every(Number.isFinite)).toBe(true);
  });

  it.each([1, 3, 40])('decode: tiles 0..P-1 are never skipped, even at factor 1e12 (P=%i)', (p) => {
    const res = decodeAt(1e12, p);
    const want = Array.from({ length: 32 }, (_, t) => (t < p ? TileDecision.COMPUTED : TileDecision.SKIPPED));
    expect(Array.from(res.decisions ?? [])).toEqual([...want, ...want]);
    expect(Array.from(res.out).every(Number.isFinite)).toBe(true);
  });
});

describe('skip rule: a skipped tile contributes nothing', () => {
  /** float64 softmax over the keys `allowed(key)` only. */
  function restrictedRow(
    q: Float32Array,
    qRow: number,
    k: Float32Array,
    v: Float32Array,
    kvRow0: number,
    keys: number,
    allowed: (j: number) => boolean,
  ): Float64Array {
    const s = new Float64Array(keys).fill(NEG);
    for (let j = 0; j < keys; j++) if (allowed(j)) s[j] = score(q, qRow, k, kvRow0 + j);
    const max = s.reduce((a, x) => Math.max(a, x), NEG);
    const out = new Float64Array(D);
    let sum = 0;
    for (let j = 0; j < keys; j++) {
      if (!allowed(j)) continue;
      const p = Math.exp(s[j] - max);
      sum += p;
      for (let c = 0; c < D; c++) out[c] += p * v[(kvRow0 + j) * D + c];
    }
    return out.map((x) => x / sum);
  }

  function expectClose(got: Float32Array, want: Float64Array, dense: Float32Array): void {
    let num = 0;
    let den = 0;
    let fromDense = 0;
    for (let i = 0; i < want.length; i++) {
      num += (got[i] - want[i]) ** 2;
      den += want[i] ** 2;
      fromDense += (dense[i] - want[i]) ** 2;
    }
    expect(Math.sqrt(num / den)).toBeLessThan(1e-5);
    expect(Math.sqrt(fromDense / den)).toBeGreaterThan(1e-4); // the skips did change the output
  }

  it('prefill output is softmax restricted to the computed tiles', () => {
    const res = prefillAt(300);
    const dense = prefillAt(0).out;
    const n = prefillInputs.seqLen;
    const kvTiles = Math.ceil(n / 32);
    const qTiles = Math.ceil(n / 32);
    const decisions = res.decisions ?? new Uint8Array();
    for (let h = 0; h < 2; h++) {
      const want = new Float64Array(n * D);
      for (let r = 0; r < n; r++) {
        const unit = (h * qTiles + Math.floor(r / 32)) * kvTiles;
        const allowed = (j: number) => j <= r && decisions[unit + Math.floor(j / 32)] === TileDecision.COMPUTED;
        want.set(restrictedRow(prefillInputs.q, h * n + r, prefillInputs.k, prefillInputs.v, 0, n, allowed), r * D);
      }
      expectClose(res.out.subarray(h * n * D, (h + 1) * n * D), want, dense.subarray(h * n * D, (h + 1) * n * D));
    }
  });

  it.each([1, 3])('decode output is softmax restricted to the computed tiles (P=%i)', (p) => {
    // A large factor, so that the skipped tiles carry visible weight (lambda ~ 5: tiles up to e^1.6 above prev).
    const res = decodeAt(1e4, p);
    const dense = decodeAt(0, p).out;
    const { kvLen: n, q, k, v } = decodeInputs;
    const decisions = res.decisions ?? new Uint8Array();
    for (let g = 0; g < 2; g++) {
      const allowed = (j: number) => decisions[g * 32 + Math.floor(j / 64)] === TileDecision.COMPUTED;
      const want = new Float64Array(2 * D);
      for (let i = 0; i < 2; i++) want.set(restrictedRow(q, g * 2 + i, k, v, g * n, n, allowed), i * D);
      expectClose(res.out.subarray(g * 2 * D, (g + 1) * 2 * D), want, dense.subarray(g * 2 * D, (g + 1) * 2 * D));
    }
  });
});

describe('skip rule: the threshold is exactly ln(factor / L), compared strictly', () => {
  it('decode: tile 1 flips exactly at factor = L·exp(local_max - prev)', () => {
    const { kvLen: n } = decodeInputs;
    const lm = localMaxima(decodeInputs.q, 0, 2, decodeInputs.k, 0, n, 64, null); // KV head 0, its 2 query heads
    const gap = Math.max(lm[0][1] - lm[0][0], lm[1][1] - lm[1][0]); // the row least willing to skip decides
    const at = n * Math.exp(gap);
    expect(decodeAt(at * 1.001, 1).decisions?.[1]).toBe(TileDecision.SKIPPED);
    expect(decodeAt(at * 0.999, 1).decisions?.[1]).toBe(TileDecision.COMPUTED);
  });

  it('prefill: tile 1 of query tile 1 flips exactly at factor = seqLen·exp(max over rows of local_max - prev)', () => {
    const n = prefillInputs.seqLen;
    const lm = localMaxima(prefillInputs.q, 32, 32, prefillInputs.k, 0, n, 32, 32); // head 0, query tile 1
    const gap = Math.max(...lm.map((row) => row[1] - row[0]));
    const at = n * Math.exp(gap);
    const decision = (factor: number) => prefillAt(factor).decisions?.[1 * Math.ceil(n / 32) + 1];
    expect(decision(at * 1.001)).toBe(TileDecision.SKIPPED);
    expect(decision(at * 0.999)).toBe(TileDecision.COMPUTED);
  });

  it('a tie (local_max - prev = ln(lambda) = 0) is not skipped', () => {
    // One head, 128 keys in two tiles of 64; key 64 is a copy of key 0, the best-scoring key, and factor = kvLen
    // makes ln(lambda) exactly 0, so tile 1 sits exactly on the threshold.
    const rng = mulberry32(31);
    const kvLen = 128;
    const q = gaussianArray(D, rng);
    const k = gaussianArray(kvLen * D, rng, 0.1);
    for (let c = 0; c < D; c++) k[c] = q[c];
    k.copyWithin(64 * D, 0, D);
    const v = gaussianArray(kvLen * D, rng);
    const inputs: DecodeInputs = { numQueryHeads: 1, numKvHeads: 1, headDim: D, kvLen, q, k, v };
    const res = decodeReference(inputs, {
      thresholdScaleFactor: kvLen,
      blockN: 64,
      partitions: 1,
      recordDecisions: true,
    });
    expect(Array.from(res.decisions ?? [])).toEqual([TileDecision.COMPUTED, TileDecision.COMPUTED]);
    const above = decodeReference(inputs, {
      thresholdScaleFactor: kvLen * 1.0001,
      blockN: 64,
      partitions: 1,
      recordDecisions: true,
    });
    expect(Array.from(above.decisions ?? [])).toEqual([TileDecision.COMPUTED, TileDecision.SKIPPED]);
  });
});
