/** Kernel speedup S: given, measured in a result file at the nearest context, or the theory bound. */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../kernels/errors.js';
import { measuredPoints, nearestPoint, resolveSpeedup } from '../../../reports/projection/speedup.js';
import { sampleResult, serverResult } from './fixtures.js';

describe('measured speedups from a kernel result file', () => {
  it('collects the first skip arm by default, leaving the dense cells out', () => {
    const { arm, points } = measuredPoints(sampleResult(), 'prefill');
    expect(arm).toBe('skip');
    expect(points).toEqual([
      { context: 4096, speedup: 1.1, sparsity: 0.3, partitions: undefined },
      { context: 65536, speedup: 1.25, sparsity: 0.52, partitions: undefined },
    ]);
  });

  it('picks another arm when asked, and rejects an unknown one naming --arm', () => {
    expect(measuredPoints(sampleResult(), 'prefill', 'skip2').points.map((p) => p.speedup)).toEqual([1.5]);
    expect(() => measuredPoints(sampleResult(), 'prefill', 'dense')).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG, field: '--arm' }),
    );
  });

  it('refuses a server result file (its speedups are already end to end)', () => {
    expect(() => measuredPoints(serverResult(), 'prefill')).toThrow(
      expect.objectContaining({ code: ErrorCodes.RESULT, field: '--results' }),
    );
  });

  it('nearest context on a log scale: 128K uses 64K, 8K uses 4K, a tie (16K) goes to the longer', () => {
    const { points } = measuredPoints(sampleResult(), 'prefill');
    expect(nearestPoint(points, 131072)?.context).toBe(65536);
    expect(nearestPoint(points, 8192)?.context).toBe(4096);
    expect(nearestPoint(points, 16384)?.context).toBe(65536); // two octaves from each
    expect(nearestPoint([], 1024)).toBeUndefined();
  });

  it('resolves S per context with a label naming the arm, the context used and the sparsity', () => {
    const { arm, points } = measuredPoints(sampleResult(), 'decode');
    const input = {
      kind: 'measured' as const,
      file: 'r.json',
      arm,
      implementation: 'wasm-simd',
      points,
      fallbackSparsity: 0.5,
    };
    const s = resolveSpeedup(input, 131072);
    expect(s).toMatchObject({ value: 1.2, source: 'measured', measuredContext: 16384, measuredSparsity: 0.45 });
    expect(s.label).toContain('at 16K');
    expect(s.label).toContain('4 split-KV partitions');
    expect(s.label).toContain('wasm-simd');
  });

  it('falls back to the theory bound, saying so, when the phase has no measured cell', () => {
    const input = {
      kind: 'measured' as const,
      file: 'r.json',
      arm: 'skip',
      implementation: 'wasm-simd',
      points: [],
      fallbackSparsity: 0.5,
    };
    const s = resolveSpeedup(input, 8192);
    expect(s.source).toBe('theory');
    expect(s.value).toBeCloseTo(4 / 3, 12);
    expect(s.label).toContain('no measured cell');
  });

  it('given and theory inputs', () => {
    expect(resolveSpeedup({ kind: 'given', speedup: 1.3 }, 1024)).toMatchObject({ value: 1.3, source: 'given' });
    expect(resolveSpeedup({ kind: 'theory', sparsity: 0.9 }, 1024).value).toBeCloseTo(2 / 1.1, 12);
  });
});
