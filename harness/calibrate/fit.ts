/**
 * Threshold calibration arithmetic (pure). A tile is skipped at lambda iff its margin m (max over the unit's rows of
 * local_max - running_max, natural log) satisfies m < ln(lambda), and margins do not depend on lambda (the running max
 * used by the test advances on every visited tile). So the sparsity at any lambda is the share of visited tiles whose
 * margin is below ln(lambda): one recorded run answers every candidate lambda exactly, and "bisecting lambda until
 * the measured sparsity hits the target" reduces to reading a quantile of the margins.
 *
 * Fits (DESIGN §1, as practitioners do it): lambda = a / L by least squares through the origin over the lengths
 * (x = 1/L: a = sum(x y) / sum(x^2)); across targets, factor = a0 * exp(b * s) by least squares on ln(factor).
 */

export interface TileMargins {
  /** Finite margins, ascending (natural log). */
  sorted: Float64Array;
  /** Every visited tile, the never-skipped first tiles included: the sparsity denominator. */
  visited: number;
}

export function tileMargins(margins: Float64Array): TileMargins {
  const finite = margins.filter((m) => Number.isFinite(m) || m === Number.NEGATIVE_INFINITY);
  return { sorted: Float64Array.from(finite).sort(), visited: margins.length };
}

/** Share of visited tiles skipped at lambda: margins strictly below ln(lambda). */
export function sparsityAt(t: TileMargins, lambda: number): number {
  if (t.visited === 0 || !(lambda > 0)) return 0;
  const threshold = Math.log(lambda);
  let lo = 0;
  let hi = t.sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t.sorted[mid] < threshold) lo = mid + 1;
    else hi = mid;
  }
  return lo / t.visited;
}

/**
 * The lambda whose sparsity is closest to the target: k = round(target * visited) tiles below ln(lambda), with
 * ln(lambda) halfway between the k-th and (k+1)-th smallest margin (the middle of the interval where the count is k).
 * Unreachable targets (more than the skippable share) return the largest reachable sparsity's lambda.
 */
export function lambdaForSparsity(t: TileMargins, target: number): number {
  const n = t.sorted.length;
  if (n === 0) return Number.NaN;
  const k = Math.min(n, Math.max(0, Math.round(target * t.visited)));
  if (k === 0) return Math.exp(t.sorted[0] - 1);
  if (k === n) return Math.exp(t.sorted[n - 1] + 1);
  return Math.exp((t.sorted[k - 1] + t.sorted[k]) / 2);
}

/** a in lambda = a / L, least squares through the origin with x = 1/L, y = lambda. */
export function fitScaleFactor(points: readonly { length: number; lambda: number }[]): number {
  let xy = 0;
  let xx = 0;
  for (const p of points) {
    const x = 1 / p.length;
    xy += x * p.lambda;
    xx += x * x;
  }
  return xy / xx;
}

/** factor = a0 * exp(b * s), least squares on ln(factor); needs two or more distinct targets. */
export function fitExponential(points: readonly { sparsity: number; factor: number }[]): { a: number; b: number } {
  const n = points.length;
  const xs = points.map((p) => p.sparsity);
  const ys = points.map((p) => Math.log(p.factor));
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const b = sxx > 0 ? sxy / sxx : Number.NaN;
  return { a: Math.exp(my - b * mx), b };
}
