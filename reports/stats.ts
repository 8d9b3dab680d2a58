/**
 * Statistics over samples: pure functions, no I/O. Percentiles interpolate linearly between order statistics
 * (numpy's default, "type 7"): q-th quantile of sorted x at position h = (n - 1) q, x[floor h] + (h - floor h)(x[ceil h] - x[floor h]).
 */

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
