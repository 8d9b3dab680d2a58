/**
 * Open-loop arrival schedules: when each request is meant to be sent, as offsets (ms) from the start of the run.
 * The load runner turns offset i into t_sched = start + offsets[i] and measures from it, so a late send shows up as
 * queue delay instead of vanishing (coordinated omission, DESIGN.md §2).
 *
 * Inter-arrival times follow vLLM's `--request-rate` / `--burstiness` (benchmarks/serve.py `get_request`):
 * interval ~ Gamma(shape = k, scale = 1 / (k * rate)), so the mean is always 1/rate and the coefficient of variation
 * is 1/sqrt(k): k = 1 is a Poisson process, k < 1 burstier, k > 1 smoother. As in vLLM the first request goes at
 * offset 0 and rate = Infinity sends everything at once.
 *
 * Interval i is a pure function of (seed, i) (counter-based hashing, like every other sampler here), so the first n
 * offsets are the same whatever `count` is: a longer run extends a shorter one instead of reshuffling it.
 */
import { ErrorCodes, invalid } from '../kernels/errors.js';
import { elementHash, hashKey } from './patterns/random.js';

export type ArrivalKind = 'constant' | 'poisson' | 'gamma';
export const ARRIVAL_KINDS: readonly ArrivalKind[] = ['constant', 'poisson', 'gamma'];

/** Largest schedule one call builds (2^24 requests: 128 MiB of offsets). */
export const MAX_ARRIVALS = 1 << 24;

export interface ArrivalSpec {
  kind: ArrivalKind;
  /** Mean requests per second: > 0, or Infinity for all at offset 0. */
  rate: number;
  /** gamma: the shape k (> 0, finite). constant and poisson: must be 1 or left out. Default 1. */
  burstiness?: number;
  /** An integer >= 0; default 0. Ignored by constant. */
  seed?: number;
  /** How many offsets: an integer in [0, MAX_ARRIVALS]. */
  count: number;
}

/**
 * Ascending send offsets in milliseconds from the start of the run; offsets[0] = 0 whenever count > 0.
 * - constant: (i * 1000) / rate, each rounded once.
 * - poisson: exponential intervals with mean 1000 / rate ms (identical to gamma with burstiness 1 for the same seed).
 * - gamma: Gamma(k, 1000 / (k * rate)) intervals, k = burstiness.
 */
export function arrivalOffsets(spec: ArrivalSpec): Float64Array {
  const { kind, rate, count } = spec;
  if (!ARRIVAL_KINDS.includes(kind)) throw invalid(ErrorCodes.CONFIG, 'kind', ARRIVAL_KINDS.join(' | '), kind);
  if (typeof rate !== 'number' || !(rate > 0)) {
    throw invalid(ErrorCodes.CONFIG, 'rate', 'a number of requests/s > 0, or Infinity', rate);
  }
  const burstiness = spec.burstiness ?? 1;
  if (kind === 'gamma') {
    if (typeof burstiness !== 'number' || !Number.isFinite(burstiness) || !(burstiness > 0)) {
      throw invalid(ErrorCodes.CONFIG, 'burstiness', 'a finite number > 0 (gamma shape k)', spec.burstiness);
    }
  } else if (burstiness !== 1) {
    throw invalid(ErrorCodes.CONFIG, 'burstiness', `1 or unset for kind ${kind} (use kind gamma)`, spec.burstiness);
  }
  const seed = spec.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw invalid(ErrorCodes.CONFIG, 'seed', 'an integer >= 0', spec.seed);
  }
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || count > MAX_ARRIVALS) {
    throw invalid(ErrorCodes.CONFIG, 'count', `an integer in [0, ${MAX_ARRIVALS}]`, count);
  }

  const offsets = new Float64Array(count);
  if (rate === Number.POSITIVE_INFINITY) return offsets; // all at once
  const meanMs = 1000 / rate;
  if (kind === 'constant') {
    // (i * 1000) / rate, one rounding per offset: no drift from a running sum
    for (let i = 1; i < count; i++) offsets[i] = (i * 1000) / rate;
    return offsets;
  }
  const key = hashKey(seed, 0x61727276); // 'arrv': apart from the prompts, lengths and patterns of the same seed
  const k = kind === 'poisson' ? 1 : burstiness;
  const scale = meanMs / k;
  let t = 0;
  for (let i = 1; i < count; i++) {
    // interval i (between request i-1 and i) from its own stream: a pure function of (seed, i)
    const stream = new UniformStream(hashKey(key, i));
    t += (k === 1 ? -Math.log(stream.next()) : gammaVariate(k, stream)) * scale;
    offsets[i] = t;
  }
  return offsets;
}

/** Uniform numbers in (0, 1) with 53 random bits, drawn j = 0, 1, ... from a counter-based stream. */
export class UniformStream {
  private index = 0;

  constructor(private readonly key: number) {}

  next(): number {
    const hi = elementHash(this.key, this.index++) >>> 5; // 27 bits
    const lo = elementHash(this.key, this.index++) >>> 6; // 26 bits
    return (hi * 67108864 + lo + 0.5) / 9007199254740992; // (hi * 2^26 + lo + 0.5) / 2^53, never 0 or 1
  }

  /** A standard normal (Box-Muller, untruncated: the gamma sampler's acceptance test needs real tails). */
  normal(): number {
    const u1 = this.next();
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

/**
 * A Gamma(shape, 1) sample. Marsaglia & Tsang, "A Simple Method for Generating Gamma Variables" (ACM TOMS 26(3),
 * 2000): for shape >= 1, d = shape - 1/3, c = 1/sqrt(9d); draw x ~ N(0,1), v = (1 + c x)^3; accept d·v when
 * u < 1 - 0.0331 x^4 (the squeeze) or ln u < x^2/2 + d (1 - v + ln v). For shape < 1 the same paper's boost:
 * Gamma(shape) = Gamma(shape + 1) · U^(1/shape).
 */
export function gammaVariate(shape: number, stream: UniformStream): number {
  if (shape < 1) {
    const boosted = gammaVariate(shape + 1, stream);
    return boosted * stream.next() ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = stream.normal();
    const base = 1 + c * x;
    if (base <= 0) continue;
    const v = base * base * base;
    const u = stream.next();
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return d * v;
    if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
  }
}
