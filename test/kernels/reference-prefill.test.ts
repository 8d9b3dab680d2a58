import { describe, expect, it } from 'vitest';
import { prefillReference, referenceKernel } from '../../kernels/reference/index.js';
import { type HeadDim, type PrefillInputs, type PrefillOptions, TileDecision } from '../../kernels/types.js';
import { gaussianArray, mulberry32 } from '../helpers/random.js';
import { relL2 } from '../helpers/error.js';

interface Shape {
  hq: number;
  hkv: number;
  d: HeadDim;
  n: number;
}

function makeInputs(seed: number, { hq, hkv, d, n }: Shape): PrefillInputs {
  const rng = mulberry32(seed);
  return {
    numQueryHeads: hq,
    numKvHeads: hkv,
    headDim: d,
    seqLen: n,
    q: gaussianArray(hq * n * d, rng),
    k: gaussianArray(hkv * n * d, rng),
    v: gaussianArray(hkv * n * d, rng),
  };
}

/** Independent float64 softmax(QK^T)V: materialises the full causal score matrix of each head. */
function naivePrefill(inp: PrefillInputs, scale: number): Float64Array {
  const { numQueryHeads: hq, numKvHeads: hkv, headDim: d, seqLen: n } = inp;
  const out = new Float64Array(hq * n * d);
  const s = new Float64Array(n * n);
  for (let h = 0; h < hq; h++) {
    const g = Math.floor(h / (hq / hkv));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (j > i) {
          s[i * n + j] = Number.NEGATIVE_INFINITY;
          continue;
        }
        let dot = 0;
        for (let c = 0; c < d; c++) dot += inp.q[(h * n + i) * d + c] * inp.k[(g * n + j) * d + c];
        s[i * n + j] = scale * dot;
      }
    }
    for (let i = 0; i < n; i++) {
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j <= i; j++) max = Math.max(max, s[i * n + j]);
      let sum = 0;
      for (let j = 0; j <= i; j++) {
        const p = Math.exp(s[i * n + j] - max);
        sum += p;
        for (let c = 0; c < d; c++) out[(h * n + i) * d + c] += p * inp.v[(g * n + j) * d + c];
      }
      for (let c = 0; c < d; c++) out[(h * n + i) * d + c] /= sum;
    }
  }
  return out;
}


/** KV tiles a causal query tile visits, counted straight from the definition (tiles holding a key <= its last row). */
function visitedTiles(t: number, n: number, blockM: number, blockN: number): number[] {
  const lastRow = Math.min(n, (t + 1) * blockM) - 1;
  const tiles: number[] = [];
  for (let u = 0; u * blockN < n; u++) if (u * blockN <= lastRow) tiles.push(u);
  return tiles;
}

const dense = (blockM: number, blockN: number): PrefillOptions => ({ thresholdScaleFactor: 0, blockM, blockN });

describe('reference prefill, dense (factor 0)', () => {
  const cases = [
    { shape: { hq: 4, hkv: 2, d: 64, n: 300 } as Shape, blockM: 64, blockN: 128 },
    { shape: { hq: 4, hkv: 2, d: 128, n: 300 } as Shape, blockM: 32, blockN: 48 },
    { shape: { hq: 2, hkv: 1, d: 64, n: 301 } as Shape, blockM: 128, blockN: 64 },
  ];
  it.each(cases)('matches a naive float64 softmax(QK^T)V: %o', ({ shape, blockM, blockN }) => {
    const inp = makeInputs(1, shape);
    const res = referenceKernel.prefill(inp, dense(blockM, blockN));
    const want = naivePrefill(inp, 1 / Math.sqrt(shape.d));
    const headLen = shape.n * shape.d;
    for (let h = 0; h < shape.hq; h++) {
      expect(relL2(res.out, want, h * headLen, (h + 1) * headLen)).toBeLessThan(1e-5);
    }
  });

  it('honours an explicit scale', () => {
    const shape: Shape = { hq: 1, hkv: 1, d: 64, n: 70 };
    const inp = makeInputs(2, shape);
    const res = prefillReference(inp, { ...dense(16, 32), scale: 0.3 });
    expect(relL2(res.out, naivePrefill(inp, 0.3), 0, res.out.length)).toBeLessThan(1e-5);
  });

  it('is bit-identical to the skip path when nothing is skipped, and counts every visited tile', () => {
    const shape: Shape = { hq: 4, hkv: 2, d: 64, n: 300 };
    const inp = makeInputs(3, shape);
    const off = prefillReference(inp, { ...dense(64, 32), recordDecisions: true });
    // lambda = 1e-30 / 300: ln(lambda) ~ -75, far below any score gap, so the skip path computes every tile.
    const tiny = prefillReference(inp, { thresholdScaleFactor: 1e-30, blockM: 64, blockN: 32, recordDecisions: true });
    expect(tiny.heads.every((c) => c.skippedTiles === 0)).toBe(true);
    expect(Buffer.from(off.out.buffer).equals(Buffer.from(tiny.out.buffer))).toBe(true);
    expect(off.decisions).toEqual(tiny.decisions);

    let analytic = 0;
    for (let t = 0; t < Math.ceil(300 / 64); t++) analytic += visitedTiles(t, 300, 64, 32).length;
    for (const c of off.heads) {
      expect(c.visitedTiles).toBe(analytic);
      expect(c.skippedTiles).toBe(0);
    }
    const decisions = Array.from(off.decisions ?? []);
    expect(decisions.filter((x) => x === TileDecision.COMPUTED)).toHaveLength(analytic * shape.hq);
    expect(decisions.every((x) => x !== TileDecision.SKIPPED)).toBe(true);
  });
});

describe('reference prefill, structure', () => {
  it('causal: changing keys/values after position i leaves output row i unchanged', () => {
    const shape: Shape = { hq: 2, hkv: 1, d: 64, n: 200 };
    const inp = makeInputs(4, shape);
    const i = 77;
    const changed = { ...inp, k: inp.k.slice(), v: inp.v.slice() };
    const rng = mulberry32(99);
    for (let j = (i + 1) * 64; j < changed.k.length; j++) {
      changed.k[j] = 5 * rng() - 2.5;
      changed.v[j] = 5 * rng() - 2.5;
    }
    const rowOf = (out: Float32Array, h: number, r: number) =>
      Array.from(out.subarray((h * 200 + r) * 64, (h * 200 + r + 1) * 64));
    // Dense: exactly row i is protected.
    const a = prefillReference(inp, dense(32, 32)).out;
    const b = prefillReference(changed, dense(32, 32)).out;
    for (let h = 0; h < 2; h++) {
      for (let r = 0; r <= i; r++) expect(rowOf(b, h, r)).toEqual(rowOf(a, h, r));
      expect(rowOf(b, h, i + 1)).not.toEqual(rowOf(a, h, i + 1));
    }
    // With skipping the decision is shared by a query tile's rows, so rows are protected up to their tile's end:
    // every row of the query tiles that lie wholly at or before position i (here tiles 0 and 1, rows 0..63).
    const skip: PrefillOptions = { thresholdScaleFactor: 500, blockM: 32, blockN: 32 };
    const c = prefillReference(inp, skip).out;
    const e = prefillReference(changed, skip).out;
    for (let h = 0; h < 2; h++) for (let r = 0; r < 64; r++) expect(rowOf(e, h, r)).toEqual(rowOf(c, h, r));
  });

  it('GQA: Hq=4, Hkv=1 equals running each query head alone against the KV head', () => {
    const shape: Shape = { hq: 4, hkv: 1, d: 64, n: 150 };
    const inp = makeInputs(5, shape);
    const opts: PrefillOptions = { thresholdScaleFactor: 300, blockM: 16, blockN: 16, recordDecisions: true };
    const all = prefillReference(inp, opts);
    const perHead = 150 * 64;
    const tiles = Math.ceil(150 / 16) ** 2;
    expect(all.heads.some((c) => c.skippedTiles > 0)).toBe(true);
    for (let h = 0; h < 4; h++) {
      const one = prefillReference({ ...inp, numQueryHeads: 1, q: inp.q.slice(h * perHead, (h + 1) * perHead) }, opts);
      expect(Array.from(all.out.subarray(h * perHead, (h + 1) * perHead))).toEqual(Array.from(one.out));
      expect(all.heads[h]).toEqual(one.heads[0]);
      expect(Array.from(all.decisions?.subarray(h * tiles, (h + 1) * tiles) ?? [])).toEqual(
        Array.from(one.decisions ?? []),
      );
    }
  });

  it('sampled query tiles give the same rows and decisions as the full run', () => {
    const shape: Shape = { hq: 2, hkv: 2, d: 64, n: 230 };
    const inp = makeInputs(6, shape);
    const opts: PrefillOptions = { thresholdScaleFactor: 300, blockM: 32, blockN: 16, recordDecisions: true };
    const full = prefillReference(inp, opts);
    const picked = [1, 4, 7]; // tile 7 is the short last tile (rows 224..229)
    const rowsOf = (t: number) => Math.min(32, 230 - t * 32);
    const rows = picked.reduce((a, t) => a + rowsOf(t), 0);
    const q = new Float32Array(2 * rows * 64);
    let at = 0;
    for (let h = 0; h < 2; h++) {
      for (const t of picked) {
        const from = (h * 230 + t * 32) * 64;
        q.set(inp.q.subarray(from, from + rowsOf(t) * 64), at);
        at += rowsOf(t) * 64;
      }
    }
    const sampled = prefillReference({ ...inp, q, queryTiles: picked }, opts);
    expect(sampled.out.length).toBe(q.length);
    const kvTiles = Math.ceil(230 / 16);
    at = 0;
    for (let h = 0; h < 2; h++) {
      picked.forEach((t, ti) => {
        const from = (h * 230 + t * 32) * 64;
        const len = rowsOf(t) * 64;
        expect(Array.from(sampled.out.subarray(at, at + len))).toEqual(Array.from(full.out.subarray(from, from + len)));
        at += len;
        const fullRow = full.decisions?.subarray((h * 8 + t) * kvTiles, (h * 8 + t + 1) * kvTiles);
        const sampledRow = sampled.decisions?.subarray((h * 3 + ti) * kvTiles, (h * 3 + ti + 1) * kvTiles);
        expect(Array.from(sampledRow ?? [])).toEqual(Array.from(fullRow ?? []));
      });
    }
  });
});

describe('reference prefill counters', () => {
  const n = 300;
  const d = 64;
  const blockM = 64;
  const blockN = 32;
  const shape: Shape = { hq: 2, hkv: 1, d, n };
  const keysIn = (u: number) => Math.min(blockN, n - u * blockN);
  /** Unmasked (row, key) pairs of query tile t x KV tile u, counted one by one. */
  const pairs = (t: number, u: number) => {
    let count = 0;
    for (let r = t * blockM; r < Math.min(n, (t + 1) * blockM); r++) {
      for (let j = u * blockN; j < u * blockN + keysIn(u); j++) if (j <= r) count++;
    }
    return count;
  };

  it('dense prefill equals the closed form: 4·d·N(N+1)/2 FLOPs per head', () => {
    const res = prefillReference(makeInputs(7, shape), dense(blockM, blockN));
    let kvBytes = 0;
    for (let t = 0; t < Math.ceil(n / blockM); t++) {
      for (const u of visitedTiles(t, n, blockM, blockN)) kvBytes += 2 * keysIn(u) * d * 4;
    }
    for (const c of res.heads) {
      expect(c.denseFlops).toBe((4 * d * n * (n + 1)) / 2);
      expect(c.flops).toBe(c.denseFlops);
      expect(c.denseBytes).toBe(2 * n * d * 4 + kvBytes);
      expect(c.bytes).toBe(c.denseBytes);
    }
  });

  it('each skipped tile saves exactly 2·d·pairs FLOPs and its V tile', () => {
    const res = prefillReference(makeInputs(8, shape), {
      thresholdScaleFactor: 1000,
      blockM,
      blockN,
      recordDecisions: true,
    });
    const qTiles = Math.ceil(n / blockM);
    const kvTiles = Math.ceil(n / blockN);
    for (let h = 0; h < 2; h++) {
      const c = res.heads[h];
      let skipped = 0;
      let savedFlops = 0;
      let savedBytes = 0;
      for (let t = 0; t < qTiles; t++) {
        for (let u = 0; u < kvTiles; u++) {
          if (res.decisions?.[(h * qTiles + t) * kvTiles + u] !== TileDecision.SKIPPED) continue;
          skipped++;
          savedFlops += 2 * d * pairs(t, u);
          savedBytes += keysIn(u) * d * 4;
        }
      }
      expect(skipped).toBeGreaterThan(0);
      expect(skipped).toBeLessThan(c.visitedTiles - qTiles); // a mix of skipped and computed non-first tiles
      expect(c.skippedTiles).toBe(skipped);
      expect(c.denseFlops).toBe((4 * d * n * (n + 1)) / 2);
      expect(c.flops).toBe(c.denseFlops - savedFlops);
      expect(c.bytes).toBe(c.denseBytes - savedBytes);
    }
  });
});
