/**
 * Seeded bootstrap intervals: the same seed gives the same interval, intervals cover a known median at about their
 * level, paired ratios separate a clear speedup from noise, and quantiles follow the reports' linear interpolation.
 */
import { quantileSorted as ssQuantileSorted } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../kernels/errors.js';
import {
  bootstrapCI,
  bootstrapMedianCI,
  headlineMedianCI,
  headlineSamples,
  MIN_CI_SAMPLES,
  mulberry32,
  pairedRatioCI,
  ratioMedianCI,
  verdict,
} from '../../reports/bootstrap.js';
import type { KernelCell, KernelSample, Phase, RequestSample, ServerCell, TimeSummary } from '../../reports/schema.js';
import { median, quantileSorted, sorted } from '../../reports/stats.js';
import { gaussian, mulberry32 as testRng } from '../helpers/random.js';
import { okKernelSample } from '../helpers/samples.js';

function normals(n: number, mean: number, std: number, seed: number): number[] {
  const rng = testRng(seed);
  return Array.from({ length: n }, () => mean + std * gaussian(rng));
}

describe('bootstrapMedianCI', () => {
  const values = normals(40, 10, 2, 7);

  it('is deterministic per seed and differs between seeds', () => {
    const a = bootstrapMedianCI(values, { seed: 3 });
    expect(bootstrapMedianCI(values, { seed: 3 })).toEqual(a);
    const b = bootstrapMedianCI(values, { seed: 4 });
    expect([b.low, b.high]).not.toEqual([a.low, a.high]);
    expect(b.estimate).toBe(a.estimate);
  });

  it('reports the median of the data, the options used, and an interval around it', () => {
    const ci = bootstrapMedianCI(values);
    expect(ci.estimate).toBe(median(values));
    expect(ci).toMatchObject({ n: 40, level: 0.95, resamples: 2000, seed: 1 });
    expect(ci.low).toBeLessThanOrEqual(ci.estimate);
    expect(ci.high).toBeGreaterThanOrEqual(ci.estimate);
  });

  it('does not reorder its input', () => {
    const copy = [...values];
    bootstrapMedianCI(values);
    expect(values).toEqual(copy);
  });

  it('contains the true median of a large normal sample', () => {
    const ci = bootstrapMedianCI(normals(2000, 50, 5, 11));
    expect(ci.low).toBeLessThan(50);
    expect(ci.high).toBeGreaterThan(50);
    // the median's standard error is sqrt(pi / 2) * sigma / sqrt(n) ~ 0.14, so the 95% interval is ~0.55 wide
    expect(ci.high - ci.low).toBeGreaterThan(0.3);
    expect(ci.high - ci.low).toBeLessThan(0.9);
  });

  it('covers the true median at about its level over many samples', () => {
    let covered = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const ci = bootstrapMedianCI(normals(60, 0, 1, 1000 + t), { resamples: 400, seed: t });
      if (ci.low <= 0 && ci.high >= 0) covered++;
    }
    // nominal 95%; the percentile bootstrap of a median runs a little either side of it at n = 60
    expect(covered / trials).toBeGreaterThan(0.88);
    expect(covered / trials).toBeLessThanOrEqual(0.99);
  });

  it('narrows with more data and widens with a higher level', () => {
    const small = bootstrapMedianCI(normals(20, 0, 1, 5));
    const large = bootstrapMedianCI(normals(500, 0, 1, 5));
    expect(large.high - large.low).toBeLessThan(small.high - small.low);
    const v = normals(100, 0, 1, 6);
    const at80 = bootstrapMedianCI(v, { level: 0.8 });
    const at99 = bootstrapMedianCI(v, { level: 0.99 });
    expect(at99.low).toBeLessThanOrEqual(at80.low);
    expect(at99.high).toBeGreaterThanOrEqual(at80.high);
  });

  it('edge cases: empty or non-finite input is NaN, one value is a zero-width interval', () => {
    const empty = bootstrapMedianCI([]);
    expect([empty.estimate, empty.low, empty.high]).toEqual([Number.NaN, Number.NaN, Number.NaN]);
    expect(bootstrapMedianCI([1, Number.NaN, 3]).low).toBeNaN();
    expect(bootstrapMedianCI([1, Number.POSITIVE_INFINITY]).high).toBeNaN();
    expect(bootstrapMedianCI([4.5])).toMatchObject({ estimate: 4.5, low: 4.5, high: 4.5, n: 1 });
    expect(bootstrapMedianCI([2, 2, 2, 2])).toMatchObject({ estimate: 2, low: 2, high: 2 });
  });

  it('rejects bad options with SKB_OPTION naming the field', () => {
    for (const [options, field] of [
      [{ level: 1 }, 'level'],
      [{ level: 0 }, 'level'],
      [{ resamples: 0 }, 'resamples'],
      [{ resamples: 2.5 }, 'resamples'],
      [{ seed: -1 }, 'seed'],
    ] as const) {
      expect(() => bootstrapMedianCI([1, 2, 3], options)).toThrow(
        expect.objectContaining({ code: ErrorCodes.OPTION, field }),
      );
    }
  });

  it('computes the interval as linear-interpolation quantiles of the resampled medians', () => {
    // a replay of the method by hand: same generator, same draws (floor(u * n)), same quantile rule
    const data = [5, 1, 4, 2, 3, 9, 7];
    const random = mulberry32(9);
    const medians = Array.from({ length: 50 }, () => median(data.map(() => data[Math.floor(random() * data.length)])));
    const s = sorted(medians);
    const ci = bootstrapMedianCI(data, { resamples: 50, seed: 9, level: 0.9 });
    expect(ci.low).toBe(quantileSorted(s, 0.05));
    expect(ci.high).toBe(quantileSorted(s, 0.95));
  });

  it('the reports quantile and simple-statistics quantileSorted are the same rule (numpy linear, type 7)', () => {
    const s = sorted(normals(37, 0, 1, 21));
    for (const q of [0, 0.025, 0.1, 0.5, 0.77, 0.975, 1])
      expect(quantileSorted(s, q)).toBeCloseTo(ssQuantileSorted(s, q), 12);
  });

  it('bootstrapCI takes any statistic', () => {
    const v = normals(30, 3, 1, 2);
    const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
    const ci = bootstrapCI(v, mean, { seed: 5 });
    expect(ci.estimate).toBeCloseTo(mean(v), 12);
    expect(ci.low).toBeLessThan(ci.estimate);
    expect(ci.high).toBeGreaterThan(ci.estimate);
  });
});

describe('mulberry32', () => {
  it('is a pure function of the seed with values in [0, 1)', () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(mulberry32(124)()).not.toBe(mulberry32(123)());
  });
});

describe('pairedRatioCI and verdict', () => {
  /** Rounds with a shared drift (both arms slow down together) and independent 3% jitter per arm. */
  function rounds(n: number, speedup: number, seed: number) {
    const rng = testRng(seed);
    return Array.from({ length: n }, (_, i) => {
      const drift = 1 + 0.3 * Math.sin(i);
      return {
        baseline: 10 * drift * (1 + 0.03 * gaussian(rng)),
        candidate: (10 / speedup) * drift * (1 + 0.03 * gaussian(rng)),
      };
    });
  }

  it('excludes 1 for a clear speedup: faster', () => {
    const ci = pairedRatioCI(rounds(12, 1.3, 1));
    expect(ci.verdict).toBe('faster');
    expect(ci.low).toBeGreaterThan(1);
    expect(ci.estimate).toBeGreaterThan(1.2);
    expect(ci.estimate).toBeLessThan(1.4);
    expect(ci.n).toBe(12);
  });

  it('excludes 1 for a clear slowdown: slower', () => {
    expect(pairedRatioCI(rounds(12, 0.8, 2)).verdict).toBe('slower');
  });

  it('includes 1 for pure noise: no difference', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const ci = pairedRatioCI(rounds(12, 1, seed));
      expect(ci.low).toBeLessThanOrEqual(1);
      expect(ci.high).toBeGreaterThanOrEqual(1);
      expect(ci.verdict).toBe('no difference');
    }
  });

  it('pairing cancels the drift rounds share: the paired interval is far narrower than the unpaired times suggest', () => {
    const pairs = rounds(12, 1.1, 3);
    const paired = pairedRatioCI(pairs);
    const base = bootstrapMedianCI(pairs.map((p) => p.baseline));
    expect(paired.verdict).toBe('faster');
    expect((paired.high - paired.low) / paired.estimate).toBeLessThan((base.high - base.low) / base.estimate / 3);
  });

  it('is the median interval of the ratios dense / skip', () => {
    const pairs = rounds(9, 1.2, 4);
    const ratios = pairs.map((p) => p.baseline / p.candidate);
    const { verdict: v, ...ci } = pairedRatioCI(pairs, { seed: 8 });
    expect(ci).toEqual(bootstrapMedianCI(ratios, { seed: 8 }));
    expect(ratioMedianCI(ratios, { seed: 8 }).verdict).toBe(v);
  });

  it('a non-positive or non-finite time, or no pairs, gives NaN and no verdict of faster or slower', () => {
    expect(pairedRatioCI([{ baseline: 1, candidate: 0 }]).estimate).toBeNaN();
    expect(
      pairedRatioCI([
        { baseline: Number.NaN, candidate: 1 },
        { baseline: 1, candidate: 1 },
      ]),
    ).toMatchObject({ n: 2, verdict: 'no difference' });
    expect(pairedRatioCI([]).low).toBeNaN();
  });

  it('verdict looks only at whether the interval excludes 1', () => {
    expect(verdict({ low: 1.01, high: 2 })).toBe('faster');
    expect(verdict({ low: 0.5, high: 0.99 })).toBe('slower');
    expect(verdict({ low: 1, high: 1.5 })).toBe('no difference');
    expect(verdict({ low: 0.9, high: 1 })).toBe('no difference');
    expect(verdict({ low: Number.NaN, high: Number.NaN })).toBe('no difference');
  });
});

describe('headlineMedianCI: the interval of an arm\'s headline median', () => {
  /** Fixed call times (ms): median 10.4, min 9.6, max 13.9. */
  const TIMES = [10.2, 9.6, 10.9, 10.4, 13.9, 10.1, 10.6, 9.9, 11.8];

  function summary(times: number[], scale = 1): TimeSummary {
    const m = median(times);
    return { n: times.length, failed: 0, medianMs: m, minMs: 0, maxMs: 0, madMs: 0, estimatedFullMs: m * scale };
  }

  function kernelCell(samples: KernelSample[], scale = 1): KernelCell {
    const ok = samples.flatMap((s) => (s.status === 'ok' ? [s.timeMs] : []));
    const at = { context: 1024, phase: 'decode', arm: 'skip' } as const;
    return { kind: 'kernel', ...at, samples, summary: summary(ok, scale) } as KernelCell;
  }

  const ok = okKernelSample;
  const failed = (round: number): KernelSample => ({
    status: 'failed',
    round,
    sequence: round,
    error: { code: 'SKB_X', message: 'x' },
  });

  it('kernel: the CI of the ok samples\' timeMs is a direct bootstrapMedianCI call, within min..max', () => {
    const cell = kernelCell([...TIMES.map(ok), failed(99)]);
    expect(headlineSamples(cell)).toEqual(TIMES);
    const ci = headlineMedianCI(cell);
    expect(ci).toEqual({ ...bootstrapMedianCI(TIMES), kind: 'interval', scale: 1 });
    if (ci.kind !== 'interval') throw new Error('expected an interval');
    expect(ci.estimate).toBe(10.4);
    expect(ci.low).toBeLessThanOrEqual(ci.estimate);
    expect(ci.high).toBeGreaterThanOrEqual(ci.estimate);
    expect(ci.low).toBeGreaterThanOrEqual(9.6);
    expect(ci.high).toBeLessThanOrEqual(13.9);
    expect(ci.low).toBeLessThan(ci.high);
    expect(headlineMedianCI(cell, { seed: 7 })).toEqual({
      ...bootstrapMedianCI(TIMES, { seed: 7 }),
      kind: 'interval',
      scale: 1,
    });
  });

  it('kernel, sampled: estimate and bounds scale by estimatedFullMs / medianMs', () => {
    const direct = bootstrapMedianCI(TIMES);
    const ci = headlineMedianCI(kernelCell(TIMES.map(ok), 32));
    expect(ci).toMatchObject({ kind: 'interval', scale: 32, n: 9 });
    if (ci.kind !== 'interval') throw new Error('expected an interval');
    expect(ci.estimate).toBeCloseTo(10.4 * 32, 9);
    expect(ci.low).toBeCloseTo(direct.low * 32, 9);
    expect(ci.high).toBeCloseTo(direct.high * 32, 9);
  });

  function serverCell(phase: Phase, samples: Partial<RequestSample>[]): ServerCell {
    const full = samples.map(
      (s, i): RequestSample => ({ status: 'ok', round: i, sequence: i, request: i, warmup: false, ...s }),
    );
    return { kind: 'server', context: 1024, phase, arm: 'skip', samples: full, summary: summary([1]) } as ServerCell;
  }

  it('server: TTFT (prefill) or TPOT (decode) of the successful non-warmup requests only', () => {
    const requests: Partial<RequestSample>[] = [
      { ttftMs: 500, tpotMs: 50, warmup: true },
      ...TIMES.map((t) => ({ ttftMs: t * 10, tpotMs: t })),
      { status: 'failed', ttftMs: 1, tpotMs: 1, reason: 'timeout' },
      { ttftMs: Number.NaN, tpotMs: Number.NaN },
      {},
    ];
    const prefill = serverCell('prefill', requests);
    const decode = serverCell('decode', requests);
    expect(headlineSamples(prefill)).toEqual(TIMES.map((t) => t * 10));
    expect(headlineSamples(decode)).toEqual(TIMES);
    expect(headlineMedianCI(decode)).toEqual({ ...bootstrapMedianCI(TIMES), kind: 'interval', scale: 1 });
    expect(headlineMedianCI(prefill)).toMatchObject({ ...bootstrapMedianCI(TIMES.map((t) => t * 10)), scale: 1 });
  });

  it(`fewer than ${MIN_CI_SAMPLES} samples: no interval, only the count`, () => {
    expect(MIN_CI_SAMPLES).toBe(3);
    const two = kernelCell([ok(1, 0), ok(2, 1), failed(2)]);
    expect(headlineMedianCI(two)).toEqual({ kind: 'too few', n: 2, minSamples: 3 });
    expect(headlineMedianCI(kernelCell([]))).toEqual({ kind: 'too few', n: 0, minSamples: 3 });
    expect(headlineMedianCI(kernelCell([ok(1, 0), ok(2, 1), ok(3, 2)]))).toMatchObject({ kind: 'interval', n: 3 });
    expect(headlineMedianCI(kernelCell([ok(1, 0), ok(2, 1), ok(3, 2)]), { minSamples: 4 })).toEqual({
      kind: 'too few',
      n: 3,
      minSamples: 4,
    });
  });
});
