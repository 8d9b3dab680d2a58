/**
 * Threshold calibration arithmetic (pure). A tile is skipped at lambda iff its margin m (max over the unit's rows of
 * local_max - running_max, natural log) satisfies m < ln(lambda), and margins do not depend on lambda (the running max
 * used by the test advances on every visited tile). So the sparsity at any lambda is the share of visited tiles whose
 * margin is below ln(lambda): one recorded run answers every candidate lambda exactly, and "bisecting lambda until
 * the measured sparsity hits the target" reduces to reading a quantile of the margins.
 *
 * Fits (DESIGN §1, as practitioners do it): lambda = a / L across the lengths, with a chosen so that the sparsity
 * realized at every calibrated length lands as close to the target as one factor allows (minimax on the sparsity,
 * the calibration's goal, rather than least squares on lambda, which 1/L weighting hands to the shortest context);
 * across targets, factor = a0 * exp(b * s) by least squares on ln(factor).
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

export interface ScaleFactorFit {
  /** a in lambda = a / L. */
  factor: number;
  /** max over the lengths of |sparsity(a / L) - target|, predicted exactly from the margins. */
  maxDeviation: number;
}

/**
 * a in lambda = a / L minimising max_L |sparsity_L(a / L) - target|. Each sparsity_L(a / L) is a non-decreasing step
 * function of a, so g(a) = max_L s_L + min_L s_L - 2 target is too: bisection on ln a finds the step where the worst
 * overshoot and the worst undershoot balance, between the smallest and the largest per-length a_L = lambda_L * L. The
 * answer is then moved off that step's edge to the middle of the flat stretch on the better side, so that a kernel
 * computing ln(a / L) with other rounding makes the very same decisions.
 */
export function fitScaleFactor(
  contexts: readonly { length: number; margins: TileMargins }[],
  target: number,
): ScaleFactorFit {
  const worst = (lnA: number) => {
    const s = contexts.map(({ length, margins }) => sparsityAt(margins, Math.exp(lnA) / length));
    return { low: Math.min(...s) - target, high: Math.max(...s) - target };
  };
  const miss = (lnA: number) => {
    const d = worst(lnA);
    return Math.max(Math.abs(d.low), Math.abs(d.high));
  };
  const perLength = contexts.map(({ length, margins }) => lambdaForSparsity(margins, target) * length).filter((a) => a > 0);
  if (perLength.length === 0) return { factor: Number.NaN, maxDeviation: Number.NaN };
  let lo = Math.log(Math.min(...perLength)) - 1;
  let hi = Math.log(Math.max(...perLength)) + 1;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    const d = worst(mid);
    if (d.low + d.high < 0) lo = mid;
    else hi = mid;
  }
  const above = miss(hi) < miss(lo);
  const edge = above ? hi : lo;
  const next = nextBreakpoint(contexts, edge, above);
  const lnA = Number.isFinite(next) ? (edge + next) / 2 : edge + (above ? 1 : -1);
  return { factor: Math.exp(lnA), maxDeviation: miss(lnA) };
}

/** The nearest ln a beyond `lnA` (upwards or downwards) at which some length's sparsity steps: a margin + ln L. */
function nextBreakpoint(contexts: readonly { length: number; margins: TileMargins }[], lnA: number, up: boolean): number {
  let best = up ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  for (const { length, margins } of contexts) {
    const m = margins.sorted;
    const t = lnA - Math.log(length);
    let lo = 0;
    let hi = m.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (up ? m[mid] <= t : m[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    const candidate = up ? m[lo] : m[lo - 1];
    if (candidate === undefined || !Number.isFinite(candidate)) continue;
    best = up ? Math.min(best, candidate + Math.log(length)) : Math.max(best, candidate + Math.log(length));
  }
  return best;
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
