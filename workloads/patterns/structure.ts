/**
 * Seeded token-level structure shared by all heads: content segments, heavy-hitter (stripe) positions and the
 * needle position. Everything is a pure function of (seed, position) or (seed, length), so any row can be rebuilt alone.
 */
import { CONTENT, NEEDLE, VERTICAL } from './constants.js';
import { elementHash, hashKey, unitFromHash } from './random.js';

/** Stream ids: each independent random quantity hashes under its own id. */
export const Stream = {
  segments: 1,
  stripe: 2,
  stripeWeight: 3,
  needle: 4,
  headJitter: 5,
  keyNoise: 6,
  value: 7,
  queryNoise: 8,
  keyContent: 9,
  queryContent: 10,
} as const;

/** Segment boundaries of the content field, grown lazily: starts[s] is the first token of segment s. */
export class Segments {
  private readonly starts: number[] = [0];
  private readonly key: number;

  constructor(seed: number) {
    this.key = hashKey(seed, Stream.segments);
  }

  /** The segment holding token `position`. */
  segmentOf(position: number): number {
    const starts = this.starts;
    while (starts[starts.length - 1] <= position) {
      const s = starts.length - 1;
      const span = CONTENT.maxLength - CONTENT.minLength;
      starts.push(starts[s] + CONTENT.minLength + Math.floor(unitFromHash(elementHash(this.key, s)) * span));
    }
    let lo = 0;
    let hi = starts.length - 1; // starts[hi] > position
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= position) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /** First token of the segment after `segment` (valid once segmentOf has seen a position in `segment`). */
  nextStart(segment: number): number {
    this.segmentOf(this.starts[segment]);
    return this.starts[segment + 1];
  }
}

/** Heavy-hitter weight of key `position`: 0 for ordinary keys, in [VERTICAL.minWeight, 1] for a stripe. */
export function stripeWeight(seed: number, position: number): number {
  const block = Math.floor(position / VERTICAL.spacing);
  const offset = Math.floor(unitFromHash(hashKey(seed, Stream.stripe, block)) * VERTICAL.spacing);
  if (position - block * VERTICAL.spacing !== offset) return 0;
  return VERTICAL.minWeight + (1 - VERTICAL.minWeight) * unitFromHash(hashKey(seed, Stream.stripeWeight, block));
}

/** Position of the retrieval needle in a `length`-token sequence. */
export function needlePosition(seed: number, length: number): number {
  const depth = NEEDLE.minDepth + (NEEDLE.maxDepth - NEEDLE.minDepth) * unitFromHash(hashKey(seed, Stream.needle));
  return Math.min(length - 1, Math.floor(depth * length));
}
