/**
 * Seeded bootstrap confidence intervals for the gate and the reports: pure functions, no I/O, the same answer for
 * the same seed.
 *
 * Method (percentile bootstrap, Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13):
 *  1. draw `resamples` samples of size n from the n values, with replacement (simple-statistics
 *     `sampleWithReplacement`, index = floor(u * n), u from a seeded mulberry32 generator);
 *  2. take the statistic (here the median) of each resample;
 *  3. the interval is the (1 - level) / 2 and (1 + level) / 2 quantiles of those resampled medians.
 * Every median and quantile, of the data and of the resampled medians, is reports/stats.ts's linear interpolation
 * between order statistics (numpy's default, "type 7"), the rule every other figure in the reports uses.
 *
 * Units: the interval has the unit of the values (ms for latencies, a dimensionless ratio for speedups).
 * Small samples give coarse intervals (a median of 5 values moves in steps of one order statistic); the gate refuses
 * cells with fewer samples than its `minSamples`, the reports print "n/a" below MIN_CI_SAMPLES.
 */
import { sampleWithReplacement } from 'simple-statistics';
import { ErrorCodes, invalid } from '../kernels/errors.js';
import type { Cell } from './schema.js';
import { median, quantileSorted } from './stats.js';

export interface BootstrapOptions {
  /** Two-sided confidence level in (0, 1); 0.95 gives the 2.5% and 97.5% quantiles. */
  level?: number;
  /** Bootstrap resamples (integer >= 1). */
  resamples?: number;
  /** Seed of the resampling generator (uint32). Same seed and same values, same interval. */
  seed?: number;
}

export const BOOTSTRAP_DEFAULTS = { level: 0.95, resamples: 2000, seed: 1 } as const;

export interface ConfidenceInterval {
  /** The statistic of the data themselves (the median, linear interpolation). */
  estimate: number;
  /** Lower and upper bound: the (1 - level) / 2 and (1 + level) / 2 quantiles of the resampled statistics. */
  low: number;
  high: number;
  /** Values the interval was computed from (for paired ratios: rounds). */
  n: number;
  level: number;
  resamples: number;
  seed: number;
}

/** Whether a speedup (dense / skip time) interval lies above 1 (skip faster), below 1 (slower) or straddles it. */
export type SpeedupVerdict = 'faster' | 'slower' | 'no difference';

export interface RatioInterval extends ConfidenceInterval {
  verdict: SpeedupVerdict;
}

/** One round of an interleaved A/B run: the baseline (dense) and candidate (skip) time of that round, same unit. */
export interface PairedTimes {
  baseline: number;
  candidate: number;
}

/** mulberry32 (Tommy Ettinger, public domain): a uniform [0, 1) generator from a 32-bit seed, identical everywhere. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Validated options with defaults filled in; throws SKB_OPTION naming the field. */
export function resolveBootstrapOptions(options: BootstrapOptions = {}): Required<BootstrapOptions> {
  const o = { ...BOOTSTRAP_DEFAULTS, ...options };
  if (!(Number.isFinite(o.level) && o.level > 0 && o.level < 1))
    throw invalid(ErrorCodes.OPTION, 'level', 'a number in (0, 1)', o.level);
  if (!(Number.isInteger(o.resamples) && o.resamples >= 1 && o.resamples <= 1_000_000)) {
    throw invalid(ErrorCodes.OPTION, 'resamples', 'an integer in [1, 1000000]', o.resamples);
  }
  if (!(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffffffff)) {
    throw invalid(ErrorCodes.OPTION, 'seed', 'an integer in [0, 4294967295]', o.seed);
  }
  return o;
}

/**
 * Percentile-bootstrap interval of `statistic` over `values`. Empty input or any non-finite value gives NaN
 * estimate and bounds (the caller decides what a missing figure means); n = 1 gives a zero-width interval.
 */
export function bootstrapCI(
  values: readonly number[],
  statistic: (sample: number[]) => number,
  options: BootstrapOptions = {},
): ConfidenceInterval {
  const o = resolveBootstrapOptions(options);
  const n = values.length;
  const base = { n, level: o.level, resamples: o.resamples, seed: o.seed };
  if (n === 0 || !values.every(Number.isFinite))
    return { estimate: Number.NaN, low: Number.NaN, high: Number.NaN, ...base };
  const data = [...values];
  const random = mulberry32(o.seed);
  const stats = new Float64Array(o.resamples);
  for (let b = 0; b < o.resamples; b++) stats[b] = statistic(sampleWithReplacement(data, n, random));
  const sortedStats = Array.from(stats.sort());
  const tail = (1 - o.level) / 2;
  return {
    estimate: statistic([...data]),
    low: quantileSorted(sortedStats, tail),
    high: quantileSorted(sortedStats, 1 - tail),
    ...base,
  };
}

/** Percentile-bootstrap interval of the median (linear interpolation); unit of the values. */
export function bootstrapMedianCI(values: readonly number[], options: BootstrapOptions = {}): ConfidenceInterval {
  return bootstrapCI(values, median, options);
}

/** 'faster' when the whole interval is above 1, 'slower' when below, else 'no difference'. */
export function verdict(interval: Pick<ConfidenceInterval, 'low' | 'high'>): SpeedupVerdict {
  if (interval.low > 1) return 'faster';
  if (interval.high < 1) return 'slower';
  return 'no difference';
}

/**
 * Interval of the median of per-round ratios (dense time / skip time, > 1 = skip faster). Each ratio is one round,
 * so resampling ratios resamples rounds and keeps each round's pairing (the shared drift of a round cancels).
 */
export function ratioMedianCI(ratios: readonly number[], options: BootstrapOptions = {}): RatioInterval {
  const interval = bootstrapMedianCI(ratios, options);
  return { ...interval, verdict: verdict(interval) };
}

/**
 * Interval of the median paired ratio baseline / candidate over rounds (times in any one unit). A pair with a
 * non-positive or non-finite time makes the result NaN, as does an empty list.
 */
export function pairedRatioCI(pairs: readonly PairedTimes[], options: BootstrapOptions = {}): RatioInterval {
  const valid = pairs.every(
    (p) => p.baseline > 0 && p.candidate > 0 && Number.isFinite(p.baseline) && Number.isFinite(p.candidate),
  );
  const interval = ratioMedianCI(valid ? pairs.map((p) => p.baseline / p.candidate) : [Number.NaN], options);
  return { ...interval, n: pairs.length };
}

/** Fewest samples an arm's median interval is computed from; with fewer, reports print "n/a (n<3)" instead. */
export const MIN_CI_SAMPLES = 3;

/**
 * The values a cell's headline median is taken over (ms): the time of one call (timeMs) of every successful kernel
 * sample, or the TTFT (prefill) or TPOT (decode) of every successful non-warmup request; non-finite values are left
 * out. The same set summary.medianMs is the median of (harness/kernel/summarize.ts, harness/bench/cells.ts); the gate
 * (reports/compare.ts) bootstraps it too.
 */
export function headlineSamples(cell: Cell): number[] {
  const values =
    cell.kind === 'kernel'
      ? cell.samples.flatMap((s) => (s?.status === 'ok' ? [s.timeMs] : []))
      : cell.samples.flatMap((s) =>
          s?.status === 'ok' && !s.warmup ? [cell.phase === 'prefill' ? s.ttftMs : s.tpotMs] : [],
        );
  return values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

/**
 * The interval of an arm's headline median, in the unit and scale of summary.estimatedFullMs, or why there is none.
 * `scale` is estimatedFullMs / medianMs: 1, except for sampled kernel cells, whose sample times are scaled to the
 * whole phase by the ratio of dense work; estimate and bounds are multiplied by it (the median and every quantile
 * commute with a positive factor, so this is the interval of the scaled samples).
 */
export type HeadlineInterval =
  | (ConfidenceInterval & { kind: 'interval'; scale: number })
  | { kind: 'too few'; n: number; minSamples: number };

export interface HeadlineOptions extends BootstrapOptions {
  /** Fewest samples for an interval (default MIN_CI_SAMPLES). */
  minSamples?: number;
}

/** Percentile-bootstrap interval of a cell's headline median over headlineSamples(cell) (see HeadlineInterval). */
export function headlineMedianCI(cell: Cell, options: HeadlineOptions = {}): HeadlineInterval {
  const { minSamples = MIN_CI_SAMPLES, ...boot } = options;
  const values = headlineSamples(cell);
  if (values.length < minSamples) return { kind: 'too few', n: values.length, minSamples };
  const { medianMs, estimatedFullMs } = cell.summary;
  const scale = medianMs > 0 && Number.isFinite(estimatedFullMs / medianMs) ? estimatedFullMs / medianMs : 1;
  const ci = bootstrapMedianCI(values, boot);
  return { ...ci, kind: 'interval', scale, estimate: ci.estimate * scale, low: ci.low * scale, high: ci.high * scale };
}
