/**
 * Attention-shape properties of the synthetic patterns, measured the way a model would see them:
 * softmax(q . k / sqrt(d)) over the causal keys of a few rows, in float64.
 */
import { describe, expect, it } from 'vitest';
import { parseHeadMix, syntheticSource } from '../../workloads/index.js';
import { SLASH } from '../../workloads/patterns/constants.js';
import { needlePosition, stripeWeight } from '../../workloads/patterns/structure.js';

const SEED = 11;
const D = 128;
const KINDS = parseHeadMix('sink,local,vertical,slash,retrieval,random', 6);
const HEAD = Object.fromEntries(KINDS.map((kind, h) => [kind, h])) as Record<(typeof KINDS)[number], number>;
const src = syntheticSource({
  seed: SEED,
  shape: { numQueryHeads: 6, numKvHeads: 1, headDim: D },
  headPatterns: KINDS,
});

interface Sampled {
  length: number;
  rows: number[];
  /** probabilities[head][rowIndex] over keys 0..rows[rowIndex] */
  probabilities: Float64Array[][];
}

const cache = new Map<string, Sampled>();

/** Softmax rows of every head at the given positions of a `length`-token sequence. */
function sample(length: number, rows: number[]): Sampled {
  const cacheKey = `${length}:${rows.join(',')}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const { k } = src.keysValues(length);
  const q = src.queries(
    length,
    rows.map((r) => [r, r + 1] as const),
  );
  const scale = 1 / Math.sqrt(D);
  const probabilities = KINDS.map((_, h) =>
    rows.map((row, r) => {
      const p = new Float64Array(row + 1);
      const qBase = (h * rows.length + r) * D;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j <= row; j++) {
        let s = 0;
        for (let c = 0; c < D; c++) s += q[qBase + c] * k[j * D + c];
        p[j] = s * scale;
        max = Math.max(max, p[j]);
      }
      let sum = 0;
      for (let j = 0; j <= row; j++) sum += p[j] = Math.exp(p[j] - max);
      for (let j = 0; j <= row; j++) p[j] /= sum;
      return p;
    }),
  );
  const result = { length, rows, probabilities };
  cache.set(cacheKey, result);
  return result;
}

/** Eight rows spread over the last quarter of the sequence. */
function lateRows(length: number): number[] {
  return Array.from({ length: 8 }, (_, i) => length - 1 - Math.floor((i * length) / 32));
}

function meanMass(s: Sampled, head: number, keep: (key: number, row: number) => boolean): number {
  let total = 0;
  s.rows.forEach((row, r) => {
    const p = s.probabilities[head][r];
    for (let j = 0; j <= row; j++) if (keep(j, row)) total += p[j];
  });
  return total / s.rows.length;
}

function argmax(p: Float64Array): number {
  let best = 0;
  for (let j = 1; j < p.length; j++) if (p[j] > p[best]) best = j;
  return best;
}

describe('synthetic attention patterns', () => {
  it('sink head: the first four keys hold a large, roughly length-independent share', () => {
    const short = meanMass(sample(4096, lateRows(4096)), HEAD.sink, (j) => j < 4);
    const long = meanMass(sample(16384, lateRows(16384)), HEAD.sink, (j) => j < 4);
    expect(short).toBeGreaterThan(0.3);
    expect(long).toBeGreaterThan(0.3);
    expect(long / short).toBeGreaterThan(0.5);
    expect(long / short).toBeLessThan(2);
  });

  it('local head: most of the mass within the last 256 keys', () => {
    for (const length of [4096, 16384]) {
      expect(meanMass(sample(length, lateRows(length)), HEAD.local, (j, row) => row - j < 256)).toBeGreaterThan(0.5);
    }
  });

  it('vertical head: the stripe keys take most of the mass', () => {
    for (const length of [4096, 16384]) {
      const s = sample(length, lateRows(length));
      expect(meanMass(s, HEAD.vertical, (j) => stripeWeight(SEED, j) > 0)).toBeGreaterThan(0.5);
    }
  });

  it('slash head: peaks at distances that are multiples of the period', () => {
    const s = sample(4096, lateRows(4096));
    const period = SLASH.period;
    const near = (tolerance: number) => (j: number, row: number) => {
      const r = (row - j) % period;
      return Math.min(r, period - r) <= tolerance;
    };
    // 1/16 of the keys lie within period/32 of a multiple of the period; they hold most of the mass.
    expect(meanMass(s, HEAD.slash, near(period / 32))).toBeGreaterThan(0.5);
    for (const [r, row] of s.rows.entries()) {
      expect(near(period / 16)(argmax(s.probabilities[HEAD.slash][r]), row)).toBe(true);
    }
  });

  it('retrieval head: the needle is the argmax after it appears and not before', () => {
    for (const length of [4096, 16384]) {
      const needle = needlePosition(SEED, length);
      const after = [needle + 1, needle + 200, length - 1];
      const before = [needle - 1, Math.floor(needle / 2), Math.floor(needle / 4)];
      const s = sample(length, [...after, ...before]);
      for (const r of after.keys()) expect(argmax(s.probabilities[HEAD.retrieval][r])).toBe(needle);
      for (const r of before.keys()) expect(argmax(s.probabilities[HEAD.retrieval][after.length + r])).not.toBe(needle);
    }
  });

  it('random head: no key holds more than a few percent', () => {
    const s = sample(4096, lateRows(4096));
    for (const p of s.probabilities[HEAD.random]) expect(Math.max(...p)).toBeLessThan(0.05);
  });
});
