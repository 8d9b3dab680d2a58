import { describe, expect, it } from 'vitest';
import { mad, mean, median, quantile, quantileSorted, sorted } from '../../reports/stats.js';

describe('quantile (numpy linear interpolation)', () => {
  it.each([
    [0, 1],
    [0.25, 1.75],
    [0.5, 2.5],
    [0.75, 3.25],
    [1, 4],
  ])('quantile([1, 2, 3, 4], %d) = %d', (q, expected) => {
    expect(quantile([1, 2, 3, 4], q)).toBeCloseTo(expected, 12);
  });

  it('matches numpy on unsorted input', () => {
    // np.percentile([10, 1, 7, 3], [10, 90]) -> [1.6, 9.1]
    expect(quantile([10, 1, 7, 3], 0.1)).toBeCloseTo(1.6, 12);
    expect(quantile([10, 1, 7, 3], 0.9)).toBeCloseTo(9.1, 12);
    // np.quantile([15, 20, 35, 40, 50], 0.4) -> 29.0
    expect(quantile([50, 15, 40, 20, 35], 0.4)).toBeCloseTo(29, 12);
    // np.quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99) -> 9.91
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBeCloseTo(9.91, 12);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    quantile(values, 0.5);
    expect(values).toEqual([3, 1, 2]);
    expect(sorted(values)).toEqual([1, 2, 3]);
    expect(values).toEqual([3, 1, 2]);
  });

  it('edge cases: empty is NaN, one value is itself, repeated values', () => {
    expect(quantile([], 0.5)).toBeNaN();
    expect(quantileSorted([], 0.1)).toBeNaN();
    expect(quantile([42], 0)).toBe(42);
    expect(quantile([42], 0.73)).toBe(42);
    expect(quantile([5, 5, 5], 0.3)).toBe(5);
  });

  it('quantileSorted trusts the order it is given', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
  });
});

describe('median, mad, mean', () => {
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('mad is the median absolute deviation, unscaled', () => {
    // median 2, |x - 2| = [1, 1, 0, 0, 2, 4, 7] -> 1
    expect(mad([1, 1, 2, 2, 4, 6, 9])).toBe(1);
    // median 2.5, deviations [1.5, 0.5, 0.5, 97.5] -> 1
    expect(mad([1, 2, 3, 100])).toBe(1);
    expect(mad([5, 5, 5])).toBe(0);
  });

  it('mean', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(mean([])).toBeNaN();
  });
});
