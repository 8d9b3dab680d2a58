import { describe, expect, it } from 'vitest';
import type { HeadCounters } from '../../kernels/types.js';
import type { ArmMeasurement } from '../../harness/kernel/measure.js';
import {
  buildCells,
  type CellContext,
  okSamples,
  outputError,
  summarizeTimes,
} from '../../harness/kernel/summarize.js';
import type { Ceilings, KernelSample } from '../../reports/schema.js';

function ok(round: number, timeMs: number, foreignLoad = 0, iterations = 2): KernelSample {
  return { status: 'ok', round, sequence: round * 2, wallMs: timeMs * iterations, iterations, timeMs, foreignLoad };
}

function failed(round: number): KernelSample {
  return { status: 'failed', round, sequence: round * 2 + 1, error: { code: 'SKB_WORKER', message: 'boom' } };
}

function counters(
  visited: number,
  skipped: number,
  flops: number,
  denseFlops: number,
  bytes: number,
  denseBytes: number,
): HeadCounters {
  return { visitedTiles: visited, skippedTiles: skipped, flops, denseFlops, bytes, denseBytes };
}

const DENSE_HEADS = [counters(10, 0, 1000, 1000, 800, 800), counters(10, 0, 1000, 1000, 800, 800)];
const SKIP_HEADS = [counters(10, 4, 800, 1000, 640, 800), counters(10, 6, 700, 1000, 560, 800)];

function ctx(overrides: Partial<CellContext> = {}): CellContext {
  return {
    context: 2048,
    phase: 'decode',
    provenance: { kind: 'measured' },
    workScale: 1,
    maxForeignLoad: 0.25,
    headRanges: [[[0, 4]], [[4, 8]]],
    headPatterns: ['sink', 'local'],
    ...overrides,
  };
}

function measured(): ArmMeasurement[] {
  return [
    {
      arm: 'dense',
      samples: [ok(0, 10, 0.1), ok(1, 12, 0.2), ok(2, 11, 0.3)],
      output: { out: Float32Array.from([1, 2, 3, 4, 0, 0, 2, 0]), heads: DENSE_HEADS },
    },
    {
      arm: 'skip',
      samples: [ok(0, 5, 0.5), failed(1), ok(2, 4, 0.7)],
      output: { out: Float32Array.from([1, 2, 3, 5, 0, 0, 2, 1]), heads: SKIP_HEADS },
    },
  ];
}

describe('outputError', () => {
  it('relative L2 and max abs over the given ranges only', () => {
    const expected = Float32Array.from([3, 4, 100, 0]);
    const actual = Float32Array.from([3, 5, 0, 0]);
    const e = outputError(actual, expected, [[0, 2]]);
    expect(e.relativeL2).toBeCloseTo(1 / 5, 12);
    expect(e.maxAbs).toBe(1);
    const all = outputError(actual, expected, [
      [0, 2],
      [2, 4],
    ]);
    expect(all.relativeL2).toBeCloseTo(Math.sqrt((1 + 10000) / (25 + 10000)), 12);
    expect(all.maxAbs).toBe(100);
  });

  it('falls back to the absolute L2 when the expected values are all zero', () => {
    const e = outputError(Float32Array.from([3, 4]), new Float32Array(2), [[0, 2]]);
    expect(e.relativeL2).toBe(5);
    expect(e.maxAbs).toBe(4);
  });

  it('is zero for identical outputs and for no ranges', () => {
    const x = Float32Array.from([1, -2]);
    expect(outputError(x, x, [[0, 2]])).toEqual({ relativeL2: 0, maxAbs: 0 });
    expect(outputError(x, Float32Array.from([0, 0]), [])).toEqual({ relativeL2: 0, maxAbs: 0 });
  });
});

describe('summarizeTimes', () => {
  it('medians and spread over the successful samples, scaled to the full phase', () => {
    const s = summarizeTimes([ok(0, 5), failed(1), ok(2, 4), ok(3, 9)], 3);
    expect(okSamples([ok(0, 5), failed(1)])).toHaveLength(1);
    expect(s).toEqual({ n: 3, failed: 1, medianMs: 5, minMs: 4, maxMs: 9, madMs: 1, estimatedFullMs: 15 });
  });

  it('NaN figures when nothing succeeded', () => {
    const s = summarizeTimes([failed(0)], 1);
    expect(s.n).toBe(0);
    expect(s.failed).toBe(1);
    for (const v of [s.medianMs, s.minMs, s.maxMs, s.madMs, s.estimatedFullMs]) expect(v).toBeNaN();
  });
});

describe('buildCells', () => {
  it('dense baseline: times, work, no error, no speedup', () => {
    const [dense] = buildCells(measured(), ctx());
    expect(dense.arm).toBe('dense');
    expect(dense.context).toBe(2048);
    expect(dense.phase).toBe('decode');
    expect(dense.summary).toMatchObject({ n: 3, failed: 0, medianMs: 11, minMs: 10, maxMs: 12, madMs: 1 });
    expect(dense.error).toBeUndefined();
    expect(dense.speedup).toBeUndefined();
    expect(dense.heads.map((h) => h.error)).toEqual([undefined, undefined]);
    expect(dense.work.sparsity).toBe(0);
    // weighted by wall time: (0.1*20 + 0.2*24 + 0.3*22) / (20 + 24 + 22)
    expect(dense.foreignLoad).toBeCloseTo(13.4 / 66, 12);
    expect(dense.disturbed).toBe(false);
  });

  it('skip arm: paired ratios by round, ratio of medians, per-head and total output error', () => {
    const [, skip] = buildCells(measured(), ctx());
    expect(skip.summary).toMatchObject({ n: 2, failed: 1, medianMs: 4.5, minMs: 4, maxMs: 5, madMs: 0.5 });
    expect(skip.samples).toHaveLength(3);
    // rounds 0 and 2 pair up (round 1 failed for skip): 10/5 and 11/4
    expect(skip.speedup?.baselineArm).toBe('dense');
    expect(skip.speedup?.pairedRatios).toEqual([2, 2.75]);
    expect(skip.speedup?.medianPairedRatio).toBeCloseTo(2.375, 12);
    expect(skip.speedup?.ofMedians).toBeCloseTo(11 / 4.5, 12);
    // head 0: one element off by 1 against a norm^2 of 30; head 1: off by 1 against 4
    expect(skip.heads[0].error?.relativeL2).toBeCloseTo(Math.sqrt(1 / 30), 7);
    expect(skip.heads[1].error?.relativeL2).toBeCloseTo(0.5, 7);
    expect(skip.heads[1].error?.maxAbs).toBe(1);
    expect(skip.error?.relativeL2).toBeCloseTo(Math.sqrt(2 / 34), 7);
    expect(skip.error?.maxAbs).toBe(1);
  });

  it('pairs only rounds where both arms succeeded', () => {
    const m = measured();
    m[0].samples = [ok(0, 10), failed(1), ok(2, 11)];
    m[1].samples = [ok(0, 5), ok(1, 6), ok(2, 4)];
    const [, skip] = buildCells(m, ctx());
    expect(skip.speedup?.pairedRatios).toEqual([2, 2.75]);
    expect(skip.speedup?.ofMedians).toBeCloseTo(10.5 / 5, 12);
  });

  it('work figures: summed counters, sparsity, intensity and rates at the median time', () => {
    const [, skip] = buildCells(measured(), ctx());
    expect(skip.work).toMatchObject({
      flops: 1500,
      denseFlops: 2000,
      bytes: 1200,
      denseBytes: 1600,
      visitedTiles: 20,
      skippedTiles: 10,
      sparsity: 0.5,
      arithmeticIntensity: 1.25,
      bound: 'unknown',
    });
    expect(skip.work.denseEquivalentFlopsPerSec).toBeCloseTo(2000 / 0.0045, 6);
    expect(skip.work.achievedFlopsPerSec).toBeCloseTo(1500 / 0.0045, 6);
    expect(skip.work.achievedBytesPerSec).toBeCloseTo(1200 / 0.0045, 6);
    expect(skip.heads.map((h) => [h.head, h.pattern, h.sparsity])).toEqual([
      [0, 'sink', 0.4],
      [1, 'local', 0.6],
    ]);
    expect(skip.heads[1].counters).toEqual(SKIP_HEADS[1]);
  });

  it('the roofline bound comes from the ceilings ridge', () => {
    const ceilings = (ridge: number): Ceilings => ({
      streamReadBytesPerSec: 1e10,
      scoreTileFlopsPerSec: ridge * 1e10,
      threads: 2,
      measuredAt: '2026-01-01T00:00:00.000Z',
      method: 'test',
      cached: true,
    });
    // intensity 1.25 FLOP/byte
    expect(buildCells(measured(), ctx({ ceilings: ceilings(1) }))[1].work.bound).toBe('compute');
    expect(buildCells(measured(), ctx({ ceilings: ceilings(2) }))[1].work.bound).toBe('bandwidth');
  });

  it('disturbed when the wall-weighted foreign load of the successful samples exceeds the limit', () => {
    const [dense, skip] = buildCells(measured(), ctx());
    // (0.5*10 + 0.7*8) / (10 + 8); the failed sample does not count
    expect(skip.foreignLoad).toBeCloseTo(10.6 / 18, 12);
    expect(skip.disturbed).toBe(true);
    expect(dense.disturbed).toBe(false);
    const relaxed = buildCells(measured(), ctx({ maxForeignLoad: 0.59 }));
    expect(relaxed[1].disturbed).toBe(false);
    const strict = buildCells(measured(), ctx({ maxForeignLoad: 0.1 }));
    expect(strict[0].disturbed).toBe(true);
  });

  it('scales sampled times and passes provenance, patterns and partitions through', () => {
    const provenance = { kind: 'sampled' as const, sampledTiles: 4, totalTiles: 32, workFraction: 0.25, method: 'm' };
    const cells = buildCells(measured(), ctx({ provenance, workScale: 4, partitions: 3 }));
    expect(cells[1].summary.estimatedFullMs).toBe(18);
    expect(cells[0].summary.estimatedFullMs).toBe(44);
    expect(cells[1].provenance).toEqual(provenance);
    expect(cells.map((c) => c.partitions)).toEqual([3, 3]);
    const bare = buildCells(measured(), ctx({ headPatterns: undefined }));
    expect(bare[0].partitions).toBeUndefined();
    expect('partitions' in bare[0]).toBe(false);
    expect(bare[1].heads[0].pattern).toBeUndefined();
  });

  it('an arm that never succeeded: no output, no error, NaN speedups, nothing thrown', () => {
    const m = measured();
    m[1] = { arm: 'skip', samples: [failed(0), failed(1)] };
    const [, skip] = buildCells(m, ctx());
    expect(skip.summary.n).toBe(0);
    expect(skip.summary.failed).toBe(2);
    expect(skip.heads).toEqual([]);
    expect(skip.error).toBeUndefined();
    expect(skip.work.visitedTiles).toBe(0);
    expect(skip.speedup?.pairedRatios).toEqual([]);
    expect(skip.speedup?.medianPairedRatio).toBeNaN();
    expect(skip.speedup?.ofMedians).toBeNaN();
    expect(skip.foreignLoad).toBe(0);
  });

  it('a skip arm is not compared when the dense arm has no output', () => {
    const m = measured();
    m[0] = { arm: 'dense', samples: [failed(0)] };
    const [, skip] = buildCells(m, ctx());
    expect(skip.error).toBeUndefined();
    expect(skip.heads.every((h) => h.error === undefined)).toBe(true);
    expect(skip.speedup?.pairedRatios).toEqual([]);
  });
});
