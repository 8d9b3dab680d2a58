/**
 * Statistics over samples: pure functions, no I/O. Percentiles interpolate linearly between order statistics
 * (numpy's default, "type 7"): q-th quantile of sorted x at position h = (n - 1) q, x[floor h] + (h - floor h)(x[ceil h] - x[floor h]).
 */
import type { Distribution } from './schema.js';

export function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Quantile q in [0, 1] of already-sorted values; NaN when empty. */
export function quantileSorted(sortedValues: readonly number[], q: number): number {
  const n = sortedValues.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sortedValues[lo] + (h - lo) * (sortedValues[hi] - sortedValues[lo]);
}

export function quantile(values: readonly number[], q: number): number {
  return quantileSorted(sorted(values), q);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Median absolute deviation from the median, not scaled by 1.4826. */
export function mad(values: readonly number[]): number {
  const m = median(values);
  return median(values.map((x) => Math.abs(x - m)));
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;
}

/** Population standard deviation (divides by n, numpy's default ddof=0). */
export function std(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, x) => a + (x - m) ** 2, 0) / values.length);
}

/** Summary of one latency (ms): count, mean, population std, min, p50/p90/p95/p99 (linear interpolation), max. */
export function distribution(values: readonly number[]): Distribution {
  const s = sorted(values);
  return {
    n: s.length,
    mean: mean(s),
    std: std(s),
    min: s.length ? s[0] : Number.NaN,
    p50: quantileSorted(s, 0.5),
    p90: quantileSorted(s, 0.9),
    p95: quantileSorted(s, 0.95),
    p99: quantileSorted(s, 0.99),
    max: s.length ? s[s.length - 1] : Number.NaN,
  };
}

/** Wilson score interval for a proportion successes / n (z = 1.96: 95%); [0, 1] when n = 0. */
export function wilsonInterval(successes: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = successes / n;
  const z2 = z * z;
  const center = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, center - half), Math.min(1, center + half)];
}
