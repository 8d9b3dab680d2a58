import { describe, expect, it } from 'vitest';
import { SkipbenchError } from '../../kernels/errors.js';
import type { AttentionShape } from '../../kernels/types.js';
import { DEFAULT_HEAD_MIX, parseHeadMix, syntheticSource } from '../../workloads/index.js';
import { LOCAL, SINK_KEY_WEIGHTS, SYNTHETIC_VERSION } from '../../workloads/patterns/constants.js';
import { layoutFor } from '../../workloads/patterns/layout.js';

const SHAPE: AttentionShape = { numQueryHeads: 8, numKvHeads: 2, headDim: 128 };
const HEADS = parseHeadMix(DEFAULT_HEAD_MIX, 8);

function source(seed = 7, shape = SHAPE, heads = HEADS) {
  return syntheticSource({ seed, shape, headPatterns: heads });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof SkipbenchError ? error.code : `not a SkipbenchError: ${error}`;
  }
  return undefined;
}

/** Rows [start, end) of head h from a packed [heads][rows][d] array. */
function rowsOf(q: Float32Array, heads: number, d: number, h: number, start: number, end: number): Float32Array {
  const rows = q.length / (heads * d);
  return q.subarray((h * rows + start) * d, (h * rows + end) * d);
}

describe('syntheticSource', () => {
  it('describes itself and has no length limit', () => {
    const src = source(3);
    expect(src.maxLength).toBe(Number.POSITIVE_INFINITY);
    expect(src.description).toContain(`synthetic v${SYNTHETIC_VERSION} seed=3`);
    expect(src.description).toContain('sink:2,local:2');
    expect(src.shape).toEqual(SHAPE);
  });

  it('sink keys are position-free and content-free; every later key carries the band and content', () => {
    const lay = layoutFor(128);
    const bandEnd = lay.pairStart + 2 * lay.omegas.length;
    const L = 4096;
    const { k } = source().keysValues(L);
    const energy = (g: number, j: number, from: number, to: number) => {
      let sum = 0;
      for (let c = from; c < to; c++) sum += k[(g * L + j) * 128 + c] ** 2;
      return sum;
    };
    for (let g = 0; g < 2; g++) {
      for (let j = 0; j < SINK_KEY_WEIGHTS.length; j++) {
        expect(k[(g * L + j) * 128 + lay.sinkDim]).toBeGreaterThan(0);
        expect(energy(g, j, lay.contentStart, bandEnd)).toBe(0);
      }
      for (const j of [SINK_KEY_WEIGHTS.length, 100, L - 1]) {
        expect(k[(g * L + j) * 128 + lay.sinkDim]).toBe(0);
        expect(energy(g, j, lay.pairStart, bandEnd)).toBeGreaterThan(1);
        expect(energy(g, j, lay.contentStart, lay.pairStart)).toBeGreaterThan(0);
      }
    }
  });

  it("the local band's score at distance 0 is the same at every length; the slash's grows with ln L", () => {
    const heads = parseHeadMix('local,slash', 2);
    const src = source(5, { numQueryHeads: 2, numKvHeads: 1, headDim: 128 }, heads);
    const lay = layoutFor(128);
    const slashEnd = lay.pairStart + 2 * lay.slashPairs;
    const bandEnd = slashEnd + 2 * lay.localPairs;
    // q_i . k_i over one block of pairs: the head's band strength T (the kernel is 1 at distance 0)
    const strength = (L: number, h: number, from: number, to: number) => {
      const i = L - 1;
      const { k } = src.keysValues(L);
      const q = src.queries(L, [[i, i + 1]]);
      let dot = 0;
      for (let c = from; c < to; c++) dot += q[h * 128 + c] * k[i * 128 + c];
      return dot / Math.sqrt(128);
    };
    const local = [1024, 8192].map((L) => strength(L, 0, slashEnd, bandEnd));
    expect(local[0]).toBeGreaterThan(Math.log(LOCAL.strengthLength));
    expect(local[1]).toBeCloseTo(local[0], 4);
    const slash = [1024, 8192].map((L) => strength(L, 1, lay.pairStart, slashEnd));
    expect(slash[1] - slash[0]).toBeCloseTo(Math.log(8), 3);
  });

  it('is deterministic: the same spec gives identical bytes, another seed differs', () => {
    const a = source(7).keysValues(1000);
    const b = source(7).keysValues(1000);
    expect(Buffer.from(a.k.buffer).equals(Buffer.from(b.k.buffer))).toBe(true);
    expect(Buffer.from(a.v.buffer).equals(Buffer.from(b.v.buffer))).toBe(true);
    const qa = source(7).queries(1000, [[0, 1000]]);
    expect(Buffer.from(qa.buffer).equals(Buffer.from(source(7).queries(1000, [[0, 1000]]).buffer))).toBe(true);
    const other = source(8).keysValues(1000);
    expect(Buffer.from(a.k.buffer).equals(Buffer.from(other.k.buffer))).toBe(false);
  });

  it('returns the documented sizes, finite float32 values of reasonable magnitude', () => {
    const src = source();
    const L = 2048;
    const { k, v } = src.keysValues(L);
    expect(k).toBeInstanceOf(Float32Array);
    expect(k.length).toBe(2 * L * 128);
    expect(v.length).toBe(2 * L * 128);
    const q = src.queries(L, [
      [0, 64],
      [1000, 1064],
    ]);
    expect(q.length).toBe(8 * 128 * 128);
    for (const t of [k, v, q]) {
      let largest = 0;
      for (const x of t) largest = Number.isFinite(x) ? Math.max(largest, Math.abs(x)) : Number.POSITIVE_INFINITY;
      expect(largest).toBeLessThan(100);
    }
  });

  it('generates query rows independently of the requested ranges', () => {
    const src = source();
    const L = 3000;
    const full = src.queries(L, [[0, L]]);
    const ranges: Array<[number, number]> = [
      [2900, 2964],
      [0, 64],
      [1500, 1501],
      [2999, 3000],
    ];
    const packed = src.queries(L, ranges);
    const total = ranges.reduce((n, [a, b]) => n + b - a, 0);
    for (let h = 0; h < 8; h++) {
      let r = 0;
      for (const [a, b] of ranges) {
        expect(rowsOf(packed, 8, 128, h, r, r + b - a)).toEqual(rowsOf(full, 8, 128, h, a, b));
        r += b - a;
      }
      expect(r).toBe(total);
    }
  });

  it('decodeQuery(L) is row L-1 of the prefill queries', () => {
    const src = source();
    for (const L of [1, 100, 4097]) {
      const full = src.queries(L, [[0, L]]);
      const decode = src.decodeQuery(L);
      expect(decode.length).toBe(8 * 128);
      for (let h = 0; h < 8; h++) expect(rowsOf(decode, 8, 128, h, 0, 1)).toEqual(rowsOf(full, 8, 128, h, L - 1, L));
    }
  });

  it('supports headDim 64 and one KV head', () => {
    const src = source(1, { numQueryHeads: 3, numKvHeads: 1, headDim: 64 }, ['sink', 'local', 'random']);
    const { k } = src.keysValues(500);
    expect(k.length).toBe(500 * 64);
    expect(src.decodeQuery(500).length).toBe(3 * 64);
  });

  it('validates the spec and the arguments', () => {
    expect(codeOf(() => source(1, { numQueryHeads: 8, numKvHeads: 2, headDim: 96 as 64 }))).toBe('SKB_HEAD_DIM');
    expect(codeOf(() => source(1, { numQueryHeads: 6, numKvHeads: 4, headDim: 128 }))).toBe('SKB_SHAPE');
    expect(codeOf(() => source(1, SHAPE, HEADS.slice(1)))).toBe('SKB_CONFIG');
    expect(codeOf(() => source(1, SHAPE, [...HEADS.slice(1), 'bogus' as 'sink']))).toBe('SKB_CONFIG');
    expect(codeOf(() => source(1.5))).toBe('SKB_CONFIG');
    const src = source();
    expect(codeOf(() => src.keysValues(0))).toBe('SKB_LENGTH');
    expect(codeOf(() => src.keysValues(10.5))).toBe('SKB_LENGTH');
    expect(codeOf(() => src.queries(100, [[90, 101]]))).toBe('SKB_LENGTH');
    expect(codeOf(() => src.queries(100, [[50, 50]]))).toBe('SKB_LENGTH');
    expect(codeOf(() => src.queries(100, [[-1, 5]]))).toBe('SKB_LENGTH');
    expect(codeOf(() => src.decodeQuery(-3))).toBe('SKB_LENGTH');
  });
});
