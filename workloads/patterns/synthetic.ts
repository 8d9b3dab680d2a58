/**
 * Synthetic Q/K/V whose attention has the structure of real LLM heads (sinks, local bands, vertical stripes, slashes,
 * retrieval needles, unstructured noise), deterministic from a seed. The subspace layout is in layout.ts, the tuning
 * table in constants.ts. Scores below mean scaled scores q . k / sqrt(d), in nats.
 *
 * Determinism: every element is a hash of (seed, stream, head, position, component), so query rows can be generated
 * alone and equal the same rows of a full generation. K/V depend on the length L (structured amplitudes grow with
 * ln L, the needle sits at a fraction of L), so keysValues(L1) need not be a prefix of keysValues(L2).
 */
import { ErrorCodes, invalid } from '../../kernels/errors.js';
import type { AttentionShape } from '../../kernels/types.js';
import { checkShape } from '../../kernels/validate.js';
import { checkLength, checkRowRanges, type QkvSource } from '../source.js';
import {
  HEAD_OFFSET_JITTER,
  KEY_LOG_FLOOR,
  LOCAL,
  PATTERNS,
  SINK_KEY_WEIGHTS,
  SYNTHETIC_VERSION,
} from './constants.js';
import { type Layout, layoutFor } from './layout.js';
import { formatHeadMix, PATTERN_KINDS, type PatternKind } from './mix.js';
import { elementHash, gaussianFromHash, hashKey, unitFromHash } from './random.js';
import { needlePosition, Segments, Stream, stripeWeight } from './structure.js';

export interface SyntheticSpec {
  seed: number;
  shape: AttentionShape;
  /** One pattern per query head (see parseHeadMix). */
  headPatterns: readonly PatternKind[];
}

export function syntheticSource(spec: SyntheticSpec): QkvSource {
  checkShape(spec.shape);
  if (!Number.isSafeInteger(spec.seed)) throw invalid(ErrorCodes.CONFIG, 'seed', 'a safe integer', spec.seed);
  const patterns = spec.headPatterns;
  if (!Array.isArray(patterns) || patterns.length !== spec.shape.numQueryHeads) {
    throw invalid(
      ErrorCodes.CONFIG,
      'headPatterns',
      `one pattern per query head (${spec.shape.numQueryHeads})`,
      patterns,
    );
  }
  for (const kind of patterns) {
    if (!PATTERN_KINDS.includes(kind))
      throw invalid(ErrorCodes.CONFIG, 'headPatterns', PATTERN_KINDS.join(' | '), kind);
  }
  return new SyntheticSource(spec.seed, { ...spec.shape }, [...patterns]);
}

/** How results name a synthetic workload; the generator version makes `compare` flag results of an older one. */
export function syntheticDescription({ seed, shape, headPatterns }: SyntheticSpec): string {
  const { numQueryHeads: hq, numKvHeads: hkv, headDim: d } = shape;
  return `synthetic v${SYNTHETIC_VERSION} seed=${seed} mix=${formatHeadMix(headPatterns)} Hq=${hq} Hkv=${hkv} d=${d}`;
}

/** Query-side coefficients of one head at one length. */
interface HeadPlan {
  sink: number;
  vertical: number;
  needle: number;
  /** Per pair: the coefficient multiplying (cos, sin)(omega * i). */
  pairs: Float64Array;
  content: number;
  noise: number;
}

class SyntheticSource implements QkvSource {
  readonly maxLength = Number.POSITIVE_INFINITY;
  readonly description: string;
  private readonly layout: Layout;
  private readonly segments: Segments;

  constructor(
    private readonly seed: number,
    readonly shape: AttentionShape,
    private readonly patterns: readonly PatternKind[],
  ) {
    this.layout = layoutFor(shape.headDim);
    this.segments = new Segments(seed);
    this.description = syntheticDescription({ seed, shape, headPatterns: patterns });
  }

  keysValues(length: number): { k: Float32Array; v: Float32Array } {
    checkLength(length, this.maxLength);
    const { numKvHeads: hkv, headDim: d } = this.shape;
    const lay = this.layout;
    const k = new Float32Array(hkv * length * d);
    const v = new Float32Array(hkv * length * d);
    const kAmp = keyAmplitude(d, length);
    const pairs = lay.omegas.length;
    const pairAmp = new Float64Array(pairs);
    for (let f = 0; f < pairs; f++) pairAmp[f] = kAmp * Math.sqrt(pairWeight(lay, f));
    // Noise and content: the q and k factors split the target std evenly, (d / dims)^(1/4) each (see queries()).
    const noiseAmp = (d / lay.noiseDims) ** 0.25;
    const contentAmp = (d / lay.contentDims) ** 0.25;
    const noiseKeys = streamKeys(this.seed, Stream.keyNoise, hkv);
    const valueKeys = streamKeys(this.seed, Stream.value, hkv);
    const contentKeys = streamKeys(this.seed, Stream.keyContent, hkv);
    const needle = needlePosition(this.seed, length);
    const nc = lay.contentDims;
    const content = new Float64Array(hkv * nc);
    const fillContent = (segment: number): void => {
      for (let g = 0; g < hkv; g++) {
        for (let c = 0; c < nc; c++) {
          content[g * nc + c] = contentAmp * gaussianFromHash(elementHash(contentKeys[g], segment * nc + c));
        }
      }
    };
    let segment = 0;
    let segmentEnd = this.segments.nextStart(0);
    fillContent(0);
    const cos = new Float64Array(pairs);
    const sin = new Float64Array(pairs);
    for (let j = 0; j < length; j++) {
      if (j >= segmentEnd) {
        segment++;
        segmentEnd = this.segments.nextStart(segment);
        fillContent(segment);
      }
      for (let f = 0; f < pairs; f++) {
        const angle = lay.omegas[f] * j;
        cos[f] = pairAmp[f] * Math.cos(angle);
        sin[f] = pairAmp[f] * Math.sin(angle);
      }
      const sink = j < SINK_KEY_WEIGHTS.length ? kAmp * SINK_KEY_WEIGHTS[j] : 0;
      const stripe = kAmp * stripeWeight(this.seed, j);
      const needleValue = j === needle ? kAmp : 0;
      for (let g = 0; g < hkv; g++) {
        const base = (g * length + j) * d;
        k[base + lay.sinkDim] = sink;
        k[base + lay.verticalDim] = stripe;
        k[base + lay.needleDim] = needleValue;
        // Sink and needle keys are content-free (like BOS): their scores must not swing with the query's topic.
        if (j >= SINK_KEY_WEIGHTS.length && j !== needle) {
          for (let c = 0; c < nc; c++) k[base + lay.contentStart + c] = content[g * nc + c];
        }
        // Sink keys are also position-free: with band components, a decode query would see them through the band's
        // ripple at distance L-1, which moves the sink's score, and the running max of a head resting on it, with L.
        if (j >= SINK_KEY_WEIGHTS.length) {
          for (let f = 0; f < pairs; f++) {
            k[base + lay.pairStart + 2 * f] = cos[f];
            k[base + lay.pairStart + 2 * f + 1] = sin[f];
          }
        }
        const noiseRow = elementHash(noiseKeys[g], j);
        const noiseBase = base + lay.noiseStart;
        for (let c = 0; c < lay.noiseDims; c++)
          k[noiseBase + c] = noiseAmp * gaussianFromHash(elementHash(noiseRow, c));
        const valueRow = elementHash(valueKeys[g], j);
        for (let c = 0; c < d; c++) v[base + c] = gaussianFromHash(elementHash(valueRow, c));
      }
    }
    return { k, v };
  }

  queries(length: number, rowRanges: ReadonlyArray<readonly [number, number]>): Float32Array {
    checkLength(length, this.maxLength);
    const rows = checkRowRanges(rowRanges, length);
    const { numQueryHeads: hq, headDim: d } = this.shape;
    const lay = this.layout;
    const out = new Float32Array(hq * rows * d);
    const plans = this.patterns.map((kind, h) => this.headPlan(kind, h, length));
    const noiseKeys = streamKeys(this.seed, Stream.queryNoise, hq);
    const contentKeys = streamKeys(this.seed, Stream.queryContent, hq);
    const needle = needlePosition(this.seed, length);
    const pairs = lay.omegas.length;
    const nc = lay.contentDims;
    const cos = new Float64Array(pairs);
    const sin = new Float64Array(pairs);
    const noise = new Float64Array(lay.noiseDims);
    let r = 0;
    for (const [start, end] of rowRanges) {
      for (let i = start; i < end; i++, r++) {
        const segment = this.segments.segmentOf(i);
        for (let f = 0; f < pairs; f++) {
          cos[f] = Math.cos(lay.omegas[f] * i);
          sin[f] = Math.sin(lay.omegas[f] * i);
        }
        for (let h = 0; h < hq; h++) {
          const plan = plans[h];
          const base = (h * rows + r) * d;
          out[base + lay.sinkDim] = plan.sink;
          out[base + lay.verticalDim] = plan.vertical;
          out[base + lay.needleDim] = i > needle ? plan.needle : 0; // only queries after the needle look for it
          for (let c = 0; c < nc; c++) {
            out[base + lay.contentStart + c] =
              plan.content * gaussianFromHash(elementHash(contentKeys[h], segment * nc + c));
          }
          for (let f = 0; f < pairs; f++) {
            out[base + lay.pairStart + 2 * f] = plan.pairs[f] * cos[f];
            out[base + lay.pairStart + 2 * f + 1] = plan.pairs[f] * sin[f];
          }
          // Gaussian direction, fixed length: every row's logit noise then has exactly the head's std (a free chi
          // norm would give some rows 30% more noise and, at long contexts, spurious single-key spikes).
          const noiseRow = elementHash(noiseKeys[h], i);
          const noiseBase = base + lay.noiseStart;
          let norm2 = 0;
          for (let c = 0; c < lay.noiseDims; c++) {
            const x = gaussianFromHash(elementHash(noiseRow, c));
            noise[c] = x;
            norm2 += x * x;
          }
          const noiseScale = (plan.noise * Math.sqrt(lay.noiseDims)) / Math.sqrt(norm2);
          for (let c = 0; c < lay.noiseDims; c++) out[noiseBase + c] = noise[c] * noiseScale;
        }
      }
    }
    return out;
  }

  decodeQuery(length: number): Float32Array {
    checkLength(length, this.maxLength);
    return this.queries(length, [[length - 1, length]]);
  }

  /** The needle position, and the query heads whose pattern has a needle component (`retrieval`). */
  needle(length: number): { position: number; heads: number[] } {
    checkLength(length, this.maxLength);
    const heads = this.patterns.flatMap((kind, h) => (PATTERNS[kind].needle !== undefined ? [h] : []));
    return { position: needlePosition(this.seed, length), heads };
  }

  /**
   * Structured scores are T = max(0, ln L + offset + jitter) (constants.ts; the local band's at a fixed L). K holds
   * kAmp in each structured dimension, so the query coefficient is T / (scale * kAmp). Noise and content split their
   * std evenly between q and k.
   */
  private headPlan(kind: PatternKind, head: number, length: number): HeadPlan {
    const d = this.shape.headDim;
    const lay = this.layout;
    const components = PATTERNS[kind];
    const jitter = HEAD_OFFSET_JITTER * (2 * unitFromHash(hashKey(this.seed, Stream.headJitter, head)) - 1);
    const unit = Math.sqrt(d) / keyAmplitude(d, length); // 1 / (scale * kAmp)
    const logLength = Math.log(length);
    const coefficient = (offset: number | undefined, log = logLength): number =>
      offset === undefined ? 0 : unit * Math.max(0, log + offset + jitter);
    const slash = coefficient(components.slash);
    const local = coefficient(components.local, Math.log(LOCAL.strengthLength));
    const pairs = new Float64Array(lay.omegas.length);
    for (let f = 0; f < pairs.length; f++) {
      pairs[f] = (f < lay.slashPairs ? slash : local) * Math.sqrt(pairWeight(lay, f));
    }
    return {
      sink: coefficient(components.sink),
      vertical: coefficient(components.vertical),
      needle: coefficient(components.needle),
      pairs,
      content: components.contentStd * (d / lay.contentDims) ** 0.25,
      noise: components.noiseStd * (d / lay.noiseDims) ** 0.25,
    };
  }
}

/** K amplitude of the structured dimensions: scale * kAmp^2 = max(KEY_LOG_FLOOR, ln L), balancing q and k sizes. */
function keyAmplitude(headDim: number, length: number): number {
  return Math.sqrt(Math.max(KEY_LOG_FLOOR, Math.log(length)) * Math.sqrt(headDim));
}

/** Weight of pair f in its kernel: slash harmonics and local frequencies each sum to 1. */
function pairWeight(lay: Layout, f: number): number {
  return f < lay.slashPairs ? 1 / lay.slashPairs : 1 / lay.localPairs;
}

function streamKeys(seed: number, stream: number, heads: number): Uint32Array {
  const keys = new Uint32Array(heads);
  for (let h = 0; h < heads; h++) keys[h] = hashKey(seed, stream, h);
  return keys;
}
