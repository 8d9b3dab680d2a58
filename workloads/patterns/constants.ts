/**
 * Every tuning constant of the synthetic attention patterns, in one table so they can be tuned in one place.
 *
 * Units: a structured component's strength is an OFFSET c in nats; its logit (after the 1/sqrt(d) scale) for the
 * keys it favours is T = ln(L) + c (clamped at 0), L = the KV length. Why ln(L): a sink that keeps a constant share of
 * the attention mass at any length must beat the L background keys by ln(L) + const nats, and the Skip Softmax
 * threshold is ln(factor / L) = ln(factor) - ln(L). With T growing like ln(L), the gap between a row's running max and
 * a background tile's max grows like ln(L) too, so the sparsity reached at a fixed factor stays roughly constant across
 * context lengths: the property that threshold_scale_factor calibration (lambda = a / L) relies on.
 * Noise and content strengths are fixed (in nats of logit standard deviation), independent of L.
 *
 * Tuning: raising an offset by 1 nat makes that structure e times heavier and lets its background tiles be skipped at
 * a factor e times smaller. Measured with these values (generator version 2, d=128, float64 softmax of 8 rows in the
 * last quarter, seeds 1-5; `node docs/experiments/mass-shares.mjs`), mass share at L = 4K / 16K / 64K: sink keys
 * 0.80 / 0.75 / 0.67, local last-256 0.94 / 0.84 / 0.62 (the rest goes to its sink, see LOCAL), stripes 0.79 / 0.94 /
 * 0.99, slash lines (within period/32) 0.90 / 0.93 / 0.94, needle 0.96 / 0.97 / 0.97, random head's largest key
 * 0.01 / 0.00 / 0.00.
 * The factors that give 30%, 50% and 70% tile sparsity on DEFAULT_HEAD_MIX, and how closely one factor holds them from
 * 4K to 128K, are in the README ("Calibrating the threshold"; `skipbench calibrate`).
 */
import type { PatternKind } from './mix.js';

/** Structured components a query head may activate. Missing = off. */
export interface PatternComponents {
  /** Attention sink: the first SINK_KEY_WEIGHTS.length keys. */
  sink?: number;
  /** Local / recency band: a decaying kernel of the distance i - j (rotary-style frequency pairs). */
  local?: number;
  /** Vertical stripes: sparse heavy-hitter key positions every query attends. */
  vertical?: number;
  /** Slash: keys at distance k * SLASH.period from the query (periodic diagonals, including the main one). */
  slash?: number;
  /** Retrieval: one needle key, matched only by queries after it. */
  needle?: number;
  /** Std (nats) of the unstructured Gaussian logit noise q_noise . k_noise / sqrt(d). */
  noiseStd: number;
  /** Std (nats) of the segment-level content bias (see CONTENT). */
  contentStd: number;
}

/**
 * Per pattern kind: which components its query heads switch on, and how strongly. A head reads all of them from the
 * same K as the other heads of its GQA group, so only the query side differs.
 */
export const PATTERNS: Readonly<Record<PatternKind, Readonly<PatternComponents>>> = {
  // Sink head (StreamingLLM, "attention sinks"): ~65-80% of the mass on the first four tokens at every length.
  sink: { sink: 1.0, noiseStd: 1.0, contentStd: 1.0 },
  // Local head: a recency band of a few hundred keys; a weaker sink as most real heads have one.
  local: { local: 3.0, sink: -1.0, noiseStd: 1.0, contentStd: 0.75 },
  // Vertical head: heavy hitters (punctuation/newline-like tokens) plus a moderate sink.
  vertical: { vertical: 1.0, sink: -1.5, noiseStd: 1.0, contentStd: 1.0 },
  // Slash head: periodic diagonals (distance multiple of the period), diagonal included.
  slash: { slash: 1.5, noiseStd: 1.0, contentStd: 0.75 },
  // Retrieval head: the needle dominates after it appears; before it the head rests on the sink.
  retrieval: { needle: 5.0, sink: -1.0, noiseStd: 1.0, contentStd: 1.0 },
  // Unstructured baseline: noise and content only (almost no block sparsity at realistic factors).
  random: { noiseStd: 1.0, contentStd: 0.5 },
};

/**
 * Generator version, part of every synthetic workload's description so that `compare` flags results of an older
 * generator. 2: the sink keys carry no band components, the local band's strength is fixed (LOCAL.strengthLength),
 * the local head's sink is 1 nat stronger; decode sparsity at a fixed a/L then holds within ~3 points from 4K to 128K.
 */
export const SYNTHETIC_VERSION = 2;

/** Each query head's structured offsets are shifted by a seeded uniform draw in [-x, x] nats (heads differ a little). */
export const HEAD_OFFSET_JITTER = 0.5;

/**
 * Sink keys: key j < length gets this fraction of the head's sink logit T. Key 0 (BOS-like) strongest; the tail
 * spreads the sink over a few tokens as in real models (StreamingLLM keeps 4 sink tokens). Sink keys carry no content
 * and no band components, so their score does not depend on the query's topic or distance.
 */
export const SINK_KEY_WEIGHTS: readonly number[] = [1.0, 0.9, 0.85, 0.8];

/**
 * Local band: `pairs` rotary-style frequency pairs with angular frequencies geometric from omegaHigh down to
 * 2*pi/longestPeriod, equal weights summing to 1, so the logit is T * sum_f w_f cos(omega_f (i - j)): 1 at distance 0,
 * ~0.16 at 64, ~0 beyond a few hundred keys. Its far field is a quasi-random ripple of std ~ T / sqrt(2 * pairs)
 * (a bilinear form of rank 2*pairs cannot be exactly banded), hence as many pairs as the head dimension allows.
 * Unlike the other components, the band's T does not grow with ln L: it is ln(strengthLength) + offset at every
 * length. Why: every far key carries the ripple, so a T growing with L would raise every far tile's max with L, and
 * decode sparsity at a fixed a/L with it (docs/experiments/decode-drift.mjs). The band keeps most of the head's mass
 * up to 64K; the sink, whose T does grow, takes the rest and keeps the head's running max in step with ln L.
 */
export const LOCAL = {
  pairs: { 64: 20, 128: 40 } as Readonly<Record<number, number>>,
  omegaHigh: 1.0,
  longestPeriod: 2048,
  strengthLength: 16384,
} as const;

/**
 * Slash: `harmonics` pairs at multiples of 2*pi/period, equal weights: sharp peaks (half width ~ period / 40 at
 * 1 nat) at every multiple of the period. A period above the 128-key tile leaves KV tiles between the diagonals
 * skippable; a period below it would cross every tile.
 */
export const SLASH = { period: 512, harmonics: { 64: 3, 128: 4 } as Readonly<Record<number, number>> } as const;

/**
 * Vertical stripes: one heavy-hitter key per `spacing` tokens, at a seeded offset inside each block (the same positions
 * for every KV head, as heavy hitters are tokens; a jittered grid rather than coin flips so that short contexts always
 * have some). Each stripe's logit is T times a seeded weight in [minWeight, 1].
 */
export const VERTICAL = { spacing: 1024, minWeight: 0.9 } as const;

/** Retrieval needle: one key at a seeded depth in [minDepth, maxDepth) * L (the same for every KV head). */
export const NEEDLE = { minDepth: 0.2, maxDepth: 0.8 } as const;

/**
 * Content: the sequence is cut into seeded segments of [minLength, maxLength) tokens (paragraphs/documents). Each
 * (query head, segment of the query) and (KV head, segment of the key) gets a Gaussian vector in `dims` dimensions,
 * so every head sees some segments as more relevant than others. This spreads the per-tile score maxima over a few
 * nats, which makes sparsity a smooth function of the factor (real attention), instead of a step.
 */
export const CONTENT = {
  dims: { 64: 2, 128: 4 } as Readonly<Record<number, number>>,
  minLength: 128,
  maxLength: 2048,
} as const;

/** K-side amplitude of the structured dimensions is sqrt(max(KEY_LOG_FLOOR, ln L) * sqrt(d)); Q carries the rest. */
export const KEY_LOG_FLOOR = 1;
