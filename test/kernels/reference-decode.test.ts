import { describe, expect, it } from 'vitest';
import { decodeReference, referenceKernel } from '../../kernels/reference/index.js';
import { type DecodeInputs, type DecodeOptions, type HeadDim, TileDecision } from '../../kernels/types.js';
import { gaussianArray, mulberry32 } from '../helpers/random.js';
import { relL2 } from '../helpers/error.js';

function makeInputs(seed: number, hq: number, hkv: number, d: HeadDim, kvLen: number): DecodeInputs {
  const rng = mulberry32(seed);
  return {
    numQueryHeads: hq,
    numKvHeads: hkv,
    headDim: d,
    kvLen,
    q: gaussianArray(hq * d, rng),
    k: gaussianArray(hkv * kvLen * d, rng),
    v: gaussianArray(hkv * kvLen * d, rng),
  };
}

/** Independent float64 softmax(q K^T) V for every query head: the decode token sees all kvLen keys. */
function naiveDecode(inp: DecodeInputs, scale: number): Float64Array {
  const { numQueryHeads: hq, numKvHeads: hkv, headDim: d, kvLen: n } = inp;
  const out = new Float64Array(hq * d);
  const s = new Float64Array(n);
  for (let h = 0; h < hq; h++) {
    const g = Math.floor(h / (hq / hkv));
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += inp.q[h * d + c] * inp.k[(g * n + j) * d + c];
      s[j] = scale * dot;
    }
    const max = s.reduce((a, x) => Math.max(a, x), Number.NEGATIVE_INFINITY);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const p = Math.exp(s[j] - max);
      sum += p;
      for (let c = 0; c < d; c++) out[h * d + c] += p * inp.v[(g * n + j) * d + c];
    }
    for (let c = 0; c < d; c++) out[h * d + c] /= sum;
  }
  return out;
}


const dense = (blockN: number, partitions: number): DecodeOptions => ({ thresholdScaleFactor: 0, blockN, partitions });

describe('reference decode, dense (factor 0)', () => {
  const cases = [
    { d: 64 as HeadDim, kvLen: 300, blockN: 64, partitions: 1 },
    { d: 64 as HeadDim, kvLen: 300, blockN: 64, partitions: 3 },
    { d: 128 as HeadDim, kvLen: 300, blockN: 32, partitions: 4 },
    { d: 128 as HeadDim, kvLen: 300, blockN: 64, partitions: 8 }, // 5 tiles: partitions 5..7 are empty
    { d: 64 as HeadDim, kvLen: 1, blockN: 64, partitions: 2 },
  ];
  it.each(cases)('matches a naive float64 softmax(qK^T)V: %o', ({ d, kvLen, blockN, partitions }) => {
    const inp = makeInputs(11, 4, 2, d, kvLen);
    const res = referenceKernel.decode(inp, dense(blockN, partitions));
    const want = naiveDecode(inp, 1 / Math.sqrt(d));
    for (let h = 0; h < 4; h++) expect(relL2(res.out, want, h * d, (h + 1) * d)).toBeLessThan(1e-5);
  });

  it.each([1, 3])('is bit-identical to the skip path when nothing is skipped (P=%i)', (partitions) => {
    const inp = makeInputs(12, 4, 2, 64, 500);
    const off = decodeReference(inp, { ...dense(64, partitions), recordDecisions: true });
    const tiny = decodeReference(inp, { thresholdScaleFactor: 1e-30, blockN: 64, partitions, recordDecisions: true });
    expect(Buffer.from(off.out.buffer).equals(Buffer.from(tiny.out.buffer))).toBe(true);
    expect(off.decisions).toEqual(tiny.decisions);
    expect(Array.from(off.decisions ?? [])).toEqual(new Array(2 * 8).fill(TileDecision.COMPUTED));
    for (const c of [...off.heads, ...tiny.heads]) {
      expect(c.visitedTiles).toBe(Math.ceil(500 / 64));
      expect(c.skippedTiles).toBe(0);
    }
  });
});

describe('reference decode, GQA group decisions', () => {
  // One KV head, two query heads. Keys 0..3 are an attention sink both heads share; key 200 (tile 3 of 64 keys)
  // is a retrieval peak only head 1 looks for. Head 0 alone would skip every tile after the first; head 1 needs tile 3.
  const d = 64;
  const kvLen = 512;
  const rng = mulberry32(13);
  const k = gaussianArray(kvLen * d, rng, 0.3);
  for (let j = 0; j < 4; j++) k[j * d] += 8;
  k[200 * d + 1] += 8;
  const q0 = gaussianArray(d, rng, 0.1);
  q0[0] += 8; // sink score ~ 8 * 8 / sqrt(64) = 8
  const q1 = q0.slice();
  q1[1] += 10; // retrieval score ~ 10 > the sink: exp(10 - 8) is far above lambda
  const v = gaussianArray(kvLen * d, rng);
  const opts: DecodeOptions = { thresholdScaleFactor: 10, blockN: 64, partitions: 1, recordDecisions: true };
  const run = (q: Float32Array, hq: number) =>
    decodeReference({ numQueryHeads: hq, numKvHeads: 1, headDim: d, kvLen, q, k, v }, opts);
  const S = TileDecision.SKIPPED;
  const C = TileDecision.COMPUTED;

  it('each head alone votes as constructed', () => {
    expect(Array.from(run(q0, 1).decisions ?? [])).toEqual([C, S, S, S, S, S, S, S]);
    expect(Array.from(run(q1, 1).decisions ?? [])).toEqual([C, S, S, C, S, S, S, S]);
  });

  it('the group skips a tile only when every head votes skip', () => {
    const q = new Float32Array(2 * d);
    q.set(q0, 0);
    q.set(q1, d);
    const both = run(q, 2);
    expect(Array.from(both.decisions ?? [])).toEqual([C, S, S, C, S, S, S, S]);
    expect(both.heads).toHaveLength(1);
    expect(both.heads[0].skippedTiles).toBe(6);
    // Head 0 in the group attends tile 3 too, so its output is the two-tile softmax, not the one-tile one.
    const alone = run(q0, 1).out;
    expect(Array.from(both.out.subarray(0, d))).not.toEqual(Array.from(alone));
  });
});

describe('reference decode counters', () => {
  const d = 64;
  const kvLen = 1000;
  const blockN = 64;
  const keysIn = (t: number) => Math.min(blockN, kvLen - t * blockN);
  const tiles = Math.ceil(kvLen / blockN);

  it('dense decode equals the closed form per KV head', () => {
    const res = decodeReference(makeInputs(14, 8, 2, d, kvLen), dense(blockN, 3));
    expect(res.heads).toHaveLength(2);
    for (const c of res.heads) {
      expect(c.visitedTiles).toBe(tiles);
      expect(c.denseFlops).toBe(4 * d * 4 * kvLen); // group of 4 query heads
      expect(c.flops).toBe(c.denseFlops);
      expect(c.denseBytes).toBe(2 * 4 * d * 4 + 2 * kvLen * d * 4);
      expect(c.bytes).toBe(c.denseBytes);
    }
  });

  it('each skipped tile saves 2·d·group·keys FLOPs and its V tile', () => {
    const res = decodeReference(makeInputs(15, 8, 2, d, kvLen), {
      thresholdScaleFactor: 1e12,
      blockN,
      partitions: 2,
      recordDecisions: true,
    });
    for (let g = 0; g < 2; g++) {
      const c = res.heads[g];
      let skipped = 0;
      let savedFlops = 0;
      let savedBytes = 0;
      for (let t = 0; t < tiles; t++) {
        if (res.decisions?.[g * tiles + t] !== TileDecision.SKIPPED) continue;
        skipped++;
        savedFlops += 2 * d * 4 * keysIn(t);
        savedBytes += keysIn(t) * d * 4;
      }
      expect(skipped).toBe(tiles - 2); // everything but each partition's first tile
      expect(c.skippedTiles).toBe(skipped);
      expect(c.flops).toBe(c.denseFlops - savedFlops);
      expect(c.bytes).toBe(c.denseBytes - savedBytes);
    }
  });
});
