/** The crossover context: the shortest context from which skip wins (paired CI above 1.0) everywhere longer. */
import { describe, expect, it } from 'vitest';
import { crossovers } from '../../reports/crossover.js';
import type { KernelCell, KernelResultFile } from '../../reports/schema.js';

function cell(context: number, arm: string, ratios: number[]): KernelCell {
  return {
    kind: 'kernel',
    context,
    phase: 'prefill',
    arm,
    provenance: { kind: 'measured' },
    samples: [],
    summary: { n: 5, failed: 0, medianMs: 1, minMs: 1, maxMs: 1, madMs: 0, estimatedFullMs: 1 },
    work: {
      flops: 1, denseFlops: 1, bytes: 1, denseBytes: 1, visitedTiles: 10, skippedTiles: 5, sparsity: 0.5,
      arithmeticIntensity: 1, bound: 'unknown', denseEquivalentFlopsPerSec: 1, achievedFlopsPerSec: 1, achievedBytesPerSec: 1,
    },
    heads: [],
    foreignLoad: 0,
    disturbed: false,
    ...(arm === 'dense' ? {} : { speedup: { baselineArm: 'dense', ofMedians: 1, pairedRatios: ratios, medianPairedRatio: 1 } }),
  };
}

function result(pairs: [number, number[]][]): KernelResultFile {
  return {
    arms: [{ id: 'dense' }, { id: 'skip' }],
    cells: pairs.flatMap(([context, ratios]) => [cell(context, 'dense', []), cell(context, 'skip', ratios)]),
  } as unknown as KernelResultFile;
}

const lose = [0.9, 0.95, 1.0, 1.05, 0.98];
const win = [1.3, 1.32, 1.28, 1.35, 1.31];

describe('crossovers', () => {
  it('finds the shortest context from which skip wins everywhere longer', () => {
    expect(crossovers(result([[1024, lose], [4096, win], [16384, win]]))[0]).toMatchObject({ context: 4096 });
  });

  it('a win followed by a loss at a longer context does not count', () => {
    expect(crossovers(result([[1024, win], [4096, lose], [16384, win]]))[0].context).toBe(16384);
  });

  it('no crossover when the longest context does not win', () => {
    expect(crossovers(result([[1024, win], [4096, lose]]))[0].context).toBeUndefined();
  });
});
