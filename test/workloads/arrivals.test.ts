/**
 * Arrival schedules: constant spacing is exact; Poisson and gamma intervals have mean 1/rate and the coefficient of
 * variation 1/sqrt(k) that vLLM's --burstiness promises; schedules are a pure function of the seed; bad parameters
 * fail with SKB_CONFIG and the field name.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import { type ArrivalSpec, arrivalOffsets, gammaVariate, UniformStream } from '../../workloads/arrivals.js';

/** Mean and coefficient of variation of the intervals between consecutive offsets. */
function intervalStats(offsets: Float64Array): { mean: number; cv: number } {
  const n = offsets.length - 1;
  let sum = 0;
  for (let i = 1; i <= n; i++) sum += offsets[i] - offsets[i - 1];
  const mean = sum / n;
  let ss = 0;
  for (let i = 1; i <= n; i++) ss += (offsets[i] - offsets[i - 1] - mean) ** 2;
  return { mean, cv: Math.sqrt(ss / (n - 1)) / mean };
}

function expectAscending(offsets: Float64Array): void {
  let descents = 0;
  for (let i = 1; i < offsets.length; i++) if (!(offsets[i] >= offsets[i - 1])) descents++;
  expect(descents).toBe(0);
}

describe('arrivalOffsets', () => {
  it('spaces constant arrivals exactly 1000/rate ms apart, starting at 0', () => {
    const offsets = arrivalOffsets({ kind: 'constant', rate: 4, count: 5 });
    expect(Array.from(offsets)).toEqual([0, 250, 500, 750, 1000]);
    const third = arrivalOffsets({ kind: 'constant', rate: 3, count: 10_001 });
    expect(third[10_000]).toBe((10_000 * 1000) / 3); // no drift from a running sum
  });

  it('sends everything at offset 0 when the rate is Infinity', () => {
    for (const kind of ['constant', 'poisson', 'gamma'] as const) {
      const offsets = arrivalOffsets({ kind, rate: Number.POSITIVE_INFINITY, burstiness: 1, count: 4 });
      expect(Array.from(offsets)).toEqual([0, 0, 0, 0]);
    }
  });

  it('gives Poisson intervals a mean of 1/rate (within 5%) and a CV near 1 over 20000 draws', () => {
    const offsets = arrivalOffsets({ kind: 'poisson', rate: 10, seed: 7, count: 20_001 });
    expect(offsets[0]).toBe(0);
    expectAscending(offsets);
    const { mean, cv } = intervalStats(offsets);
    expect(Math.abs(mean / 100 - 1)).toBeLessThan(0.05);
    expect(cv).toBeGreaterThan(0.95);
    expect(cv).toBeLessThan(1.05);
  });

  it.each([
    [0.25, 2],
    [4, 0.5],
    [1, 1],
  ])('gives gamma intervals with burstiness %f a CV near %f and a mean of 1/rate', (k, expectedCv) => {
    const offsets = arrivalOffsets({ kind: 'gamma', rate: 50, burstiness: k, seed: 3, count: 20_001 });
    expectAscending(offsets);
    const { mean, cv } = intervalStats(offsets);
    expect(Math.abs(mean / 20 - 1)).toBeLessThan(0.05);
    expect(Math.abs(cv / expectedCv - 1)).toBeLessThan(0.07);
  });

  it('samples Gamma(k, 1) with mean k and variance k, also for k < 1', () => {
    for (const k of [0.1, 0.5, 2.5, 30]) {
      const stream = new UniformStream(12345 + Math.round(k * 10));
      const n = 20_000;
      let sum = 0;
      let sumSq = 0;
      let min = Number.POSITIVE_INFINITY;
      for (let i = 0; i < n; i++) {
        const x = gammaVariate(k, stream);
        min = Math.min(min, x);
        sum += x;
        sumSq += x * x;
      }
      const mean = sum / n;
      const variance = sumSq / n - mean * mean;
      expect(min).toBeGreaterThanOrEqual(0);
      expect(Math.abs(mean / k - 1)).toBeLessThan(0.05);
      expect(Math.abs(variance / k - 1)).toBeLessThan(0.12);
    }
  });

  it('is deterministic per seed, different across seeds, and a prefix of any longer schedule', () => {
    const spec: ArrivalSpec = { kind: 'gamma', rate: 5, burstiness: 0.5, seed: 11, count: 200 };
    const a = arrivalOffsets(spec);
    expect(Array.from(arrivalOffsets(spec))).toEqual(Array.from(a));
    const other = arrivalOffsets({ ...spec, seed: 12 });
    expect(Array.from(other)).not.toEqual(Array.from(a));
    const longer = arrivalOffsets({ ...spec, count: 1000 });
    expect(Array.from(longer.subarray(0, 200))).toEqual(Array.from(a));
  });

  it('makes poisson identical to gamma with burstiness 1', () => {
    const poisson = arrivalOffsets({ kind: 'poisson', rate: 2, seed: 5, count: 50 });
    const gamma = arrivalOffsets({ kind: 'gamma', rate: 2, burstiness: 1, seed: 5, count: 50 });
    expect(Array.from(gamma)).toEqual(Array.from(poisson));
  });

  it('returns an empty schedule for count 0', () => {
    expect(arrivalOffsets({ kind: 'poisson', rate: 1, count: 0 }).length).toBe(0);
  });

  it.each<[string, Partial<ArrivalSpec>]>([
    ['kind', { kind: 'uniform' as never }],
    ['rate', { rate: 0 }],
    ['rate', { rate: -1 }],
    ['rate', { rate: Number.NaN }],
    ['burstiness', { kind: 'gamma', burstiness: 0 }],
    ['burstiness', { kind: 'gamma', burstiness: Number.POSITIVE_INFINITY }],
    ['burstiness', { kind: 'poisson', burstiness: 2 }],
    ['burstiness', { kind: 'constant', burstiness: 0.5 }],
    ['seed', { seed: -1 }],
    ['seed', { seed: 1.5 }],
    ['count', { count: -1 }],
    ['count', { count: 2.5 }],
  ])('rejects a bad %s with SKB_CONFIG', (field, patch) => {
    const spec = { kind: 'poisson', rate: 1, count: 3, ...patch } as ArrivalSpec;
    let error: unknown;
    try {
      arrivalOffsets(spec);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SkipbenchError);
    expect((error as SkipbenchError).code).toBe(ErrorCodes.CONFIG);
    expect((error as SkipbenchError).field).toBe(field);
  });
});
