/**
 * Prompt (or output) length distributions: a deterministic sequence of integer lengths, clamped to [min, max].
 * Length i is a pure function of (seed, i), so request 12 gets the same length whether or not 0..11 were drawn.
 */
import { ErrorCodes, invalid } from '../../kernels/errors.js';
import { elementHash, gaussianFromHash, hashKey, unitFromHash } from '../patterns/random.js';

export type LengthKind = 'fixed' | 'uniform' | 'normal';
export const LENGTH_KINDS: readonly LengthKind[] = ['fixed', 'uniform', 'normal'];

/** Largest length any sampler gives (2^21 tokens: far above any served context today). */
export const MAX_SAMPLED_LENGTH = 2_097_152;

export interface LengthSpec {
  kind: LengthKind;
  /** fixed: the length; normal: the mean before rounding and clamping. Ignored by uniform. */
  mean?: number;
  /** normal: standard deviation (>= 0). */
  std?: number;
  /** Smallest length; default 1 (uniform: required). */
  min?: number;
  /** Largest length; default MAX_SAMPLED_LENGTH (uniform: required). */
  max?: number;
  /** Default 0. */
  seed?: number;
}

export interface LengthSampler {
  readonly spec: Readonly<Required<Omit<LengthSpec, 'mean' | 'std'>>> & { mean?: number; std?: number };
  /** The i-th length (i >= 0). */
  at(index: number): number;
  /** Lengths 0..count-1. */
  take(count: number): number[];
}

/**
 * - fixed: always `mean` (which must lie in [min, max]).
 * - uniform: an integer uniform on [min, max], both ends included.
 * - normal: round(mean + std * z), z standard normal (tails cut near 3.9 sigma), clamped to [min, max]; clamping
 *   moves the realised mean when [min, max] cuts into mean +- 3 std.
 */
export function lengthSampler(spec: LengthSpec): LengthSampler {
  const { kind } = spec;
  if (!LENGTH_KINDS.includes(kind)) throw invalid(ErrorCodes.CONFIG, 'kind', LENGTH_KINDS.join(' | '), kind);
  if (kind === 'uniform') {
    if (spec.min === undefined) throw invalid(ErrorCodes.CONFIG, 'min', 'set for kind uniform', spec.min);
    if (spec.max === undefined) throw invalid(ErrorCodes.CONFIG, 'max', 'set for kind uniform', spec.max);
  }
  const min = spec.min ?? 1;
  const max = spec.max ?? MAX_SAMPLED_LENGTH;
  const seed = spec.seed ?? 0;
  checkInteger('min', min, 1, MAX_SAMPLED_LENGTH);
  checkInteger('max', max, min, MAX_SAMPLED_LENGTH);
  checkInteger('seed', seed, 0, Number.MAX_SAFE_INTEGER);

  let draw: (h: number) => number;
  if (kind === 'fixed') {
    const mean = spec.mean;
    checkInteger('mean', mean, min, max);
    draw = () => mean as number;
  } else if (kind === 'uniform') {
    const span = max - min + 1;
    draw = (h) => min + Math.floor(unitFromHash(h) * span);
  } else {
    const { mean, std } = spec;
    if (typeof mean !== 'number' || !Number.isFinite(mean)) {
      throw invalid(ErrorCodes.CONFIG, 'mean', 'a finite number for kind normal', mean);
    }
    if (typeof std !== 'number' || !Number.isFinite(std) || std < 0) {
      throw invalid(ErrorCodes.CONFIG, 'std', 'a finite number >= 0 for kind normal', std);
    }
    draw = (h) => Math.min(max, Math.max(min, Math.round(mean + std * gaussianFromHash(h))));
  }

  const key = hashKey(seed, 0x6c656e73); // 'lens': apart from the corpus and the attention patterns of the seed
  const at = (index: number): number => {
    checkInteger('index', index, 0, Number.MAX_SAFE_INTEGER);
    return draw(elementHash(key, index));
  };
  return {
    spec: { kind, min, max, seed, mean: spec.mean, std: spec.std },
    at,
    take: (count: number) => {
      checkInteger('count', count, 0, 1 << 24);
      return Array.from({ length: count }, (_, i) => at(i));
    },
  };
}

function checkInteger(field: string, value: unknown, lo: number, hi: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < lo || value > hi) {
    throw invalid(ErrorCodes.CONFIG, field, `an integer in [${lo}, ${hi}]`, value);
  }
}
