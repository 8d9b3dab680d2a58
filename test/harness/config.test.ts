import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../kernels/errors.js';
import {
  armsOf,
  type KernelUserConfig,
  MAX_CONTEXT,
  resolveKernelConfig,
  resolvePartitions,
} from '../../harness/kernel/config.js';
import { KERNEL_DEFAULTS } from '../../harness/kernel/defaults.js';

/** Runs fn and returns what it threw (fails the test when nothing was thrown). */
function thrown(fn: () => unknown): { code?: string; field?: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; field?: string };
  }
  throw new Error('expected an error, nothing was thrown');
}

/** Four query heads over two KV heads, with a matching head mix. */
const SMALL: KernelUserConfig = { numQueryHeads: 4, numKvHeads: 2, headMix: 'sink:2,local:2' };

describe('resolveKernelConfig defaults', () => {
  it('gives the defaults when nothing is set', () => {
    const c = resolveKernelConfig();
    expect(c).toEqual({ ...KERNEL_DEFAULTS });
    expect(c.contexts).toEqual([1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072]);
    expect(c.phases).toEqual(['prefill', 'decode']);
    expect(c.partitions).toBe('auto');
    expect(c.implementation).toBe('wasm');
  });

  it('does not share arrays with the defaults or with the user config', () => {
    const a = resolveKernelConfig();
    a.contexts.push(7);
    a.phases.pop();
    a.prefillFactors[0] = 1;
    expect(resolveKernelConfig()).toEqual({ ...KERNEL_DEFAULTS });
    const user = { contexts: [4096, 1024, 4096] };
    const b = resolveKernelConfig(user);
    expect(b.contexts).toEqual([1024, 4096]);
    expect(user.contexts).toEqual([4096, 1024, 4096]);
  });

  it('ignores fields set to undefined and keeps the ones given', () => {
    const c = resolveKernelConfig({ ...SMALL, reps: undefined, warmup: 0, seed: 7, partitions: 3, outDir: '/tmp/x' });
    expect(c.reps).toBe(KERNEL_DEFAULTS.reps);
    expect(c.warmup).toBe(0);
    expect(c.seed).toBe(7);
    expect(c.partitions).toBe(3);
    expect(c.outDir).toBe('/tmp/x');
    expect(c.numQueryHeads).toBe(4);
  });

  it('sorts and de-duplicates contexts', () => {
    expect(resolveKernelConfig({ contexts: [2048, 256, 2048, 1] }).contexts).toEqual([1, 256, 2048]);
  });

  it('accepts the limits', () => {
    const c = resolveKernelConfig({
      contexts: [1, MAX_CONTEXT],
      blockM: 4,
      blockN: 512,
      decodeBlockN: 16,
      partitions: 1024,
      warmup: 100,
      reps: 1000,
      minSampleMs: 60000,
      maxForeignLoad: 0,
      seed: 2 ** 32 - 1,
      threads: 256,
    });
    expect(c.contexts).toEqual([1, MAX_CONTEXT]);
  });

  it('skips the head-mix check when captured tensors are given', () => {
    const c = resolveKernelConfig({ numQueryHeads: 4, numKvHeads: 2, headMix: 'sink:8', qkvDir: '/some/dir' });
    expect(c.qkvDir).toBe('/some/dir');
  });
});

describe('resolveKernelConfig validation', () => {
  const cases: Array<[string, KernelUserConfig, string, string]> = [
    ['empty contexts', { contexts: [] }, ErrorCodes.CONFIG, 'contexts'],
    ['context 0', { contexts: [0] }, ErrorCodes.CONFIG, 'contexts'],
    ['fractional context', { contexts: [1024, 1.5] }, ErrorCodes.CONFIG, 'contexts'],
    ['context past the maximum', { contexts: [MAX_CONTEXT + 1] }, ErrorCodes.CONFIG, 'contexts'],
    ['no phases', { phases: [] }, ErrorCodes.CONFIG, 'phases'],
    ['unknown phase', { phases: ['prefill', 'train' as never] }, ErrorCodes.CONFIG, 'phases'],
    ['empty prefill factors', { prefillFactors: [] }, ErrorCodes.CONFIG, 'prefillFactors'],
    ['negative prefill factor', { prefillFactors: [-1] }, ErrorCodes.CONFIG, 'prefillFactors'],
    ['NaN decode factor', { decodeFactors: [Number.NaN] }, ErrorCodes.CONFIG, 'decodeFactors'],
    ['infinite decode factor', { decodeFactors: [Number.POSITIVE_INFINITY] }, ErrorCodes.CONFIG, 'decodeFactors'],
    [
      'factor lists of different lengths',
      { prefillFactors: [1, 2, 3], decodeFactors: [1, 2] },
      ErrorCodes.CONFIG,
      'decodeFactors',
    ],
    [
      'factor lists of different lengths (prefill short)',
      { prefillFactors: [1, 2], decodeFactors: [1, 2, 3] },
      ErrorCodes.CONFIG,
      'prefillFactors',
    ],
    ['head dim 96', { headDim: 96 as never }, ErrorCodes.CONFIG, 'headDim'],
    ['no KV heads', { numKvHeads: 0 }, ErrorCodes.CONFIG, 'numKvHeads'],
    ['too many KV heads', { numKvHeads: 65, numQueryHeads: 130 }, ErrorCodes.CONFIG, 'numKvHeads'],
    ['too many query heads', { numQueryHeads: 258, numKvHeads: 2 }, ErrorCodes.CONFIG, 'numQueryHeads'],
    [
      'query heads not a multiple of KV heads',
      { numQueryHeads: 6, numKvHeads: 4, headMix: 'sink:6' },
      ErrorCodes.SHAPE,
      'numQueryHeads',
    ],
    ['head mix of the wrong size', { numQueryHeads: 4, numKvHeads: 2 }, ErrorCodes.CONFIG, 'headMix'],
    ['unknown pattern in the head mix', { ...SMALL, headMix: 'sink:2,wobble:2' }, ErrorCodes.CONFIG, 'headMix'],
    ['negative seed', { seed: -1 }, ErrorCodes.CONFIG, 'seed'],
    ['seed past 32 bits', { seed: 2 ** 32 }, ErrorCodes.CONFIG, 'seed'],
    ['blockM below 4', { blockM: 2 }, ErrorCodes.CONFIG, 'blockM'],
    ['blockM above 512', { blockM: 516 }, ErrorCodes.CONFIG, 'blockM'],
    ['blockM not a multiple of 4', { blockM: 66 }, ErrorCodes.CONFIG, 'blockM'],
    ['blockN not a multiple of 16', { blockN: 72 }, ErrorCodes.CONFIG, 'blockN'],
    ['decodeBlockN not a multiple of 16', { decodeBlockN: 40 }, ErrorCodes.CONFIG, 'decodeBlockN'],
    ['decodeBlockN above 512', { decodeBlockN: 528 }, ErrorCodes.CONFIG, 'decodeBlockN'],
    ['zero partitions', { partitions: 0 }, ErrorCodes.CONFIG, 'partitions'],
    ['too many partitions', { partitions: 1025 }, ErrorCodes.CONFIG, 'partitions'],
    ['fractional partitions', { partitions: 2.5 }, ErrorCodes.CONFIG, 'partitions'],
    ['partitions as another word', { partitions: 'all' as never }, ErrorCodes.CONFIG, 'partitions'],
    ['fullPrefillMax 0', { fullPrefillMax: 0 }, ErrorCodes.CONFIG, 'fullPrefillMax'],
    ['prefillSampleFlops 0', { prefillSampleFlops: 0 }, ErrorCodes.CONFIG, 'prefillSampleFlops'],
    ['prefillSampleFlops NaN', { prefillSampleFlops: Number.NaN }, ErrorCodes.CONFIG, 'prefillSampleFlops'],
    ['negative warmup', { warmup: -1 }, ErrorCodes.CONFIG, 'warmup'],
    ['warmup above 100', { warmup: 101 }, ErrorCodes.CONFIG, 'warmup'],
    ['zero reps', { reps: 0 }, ErrorCodes.CONFIG, 'reps'],
    ['negative minSampleMs', { minSampleMs: -1 }, ErrorCodes.CONFIG, 'minSampleMs'],
    ['minSampleMs above a minute', { minSampleMs: 60001 }, ErrorCodes.CONFIG, 'minSampleMs'],
    ['zero threads', { threads: 0 }, ErrorCodes.CONFIG, 'threads'],
    ['too many threads', { threads: 257 }, ErrorCodes.CONFIG, 'threads'],
    ['unknown implementation', { implementation: 'gpu' as never }, ErrorCodes.CONFIG, 'implementation'],
    ['negative foreign load', { maxForeignLoad: -0.1 }, ErrorCodes.CONFIG, 'maxForeignLoad'],
    ['NaN foreign load', { maxForeignLoad: Number.NaN }, ErrorCodes.CONFIG, 'maxForeignLoad'],
    ['empty outDir', { outDir: '' }, ErrorCodes.CONFIG, 'outDir'],
  ];

  it.each(cases)('%s -> %s naming the field', (_name, user, code, field) => {
    const error = thrown(() => resolveKernelConfig(user));
    expect(error).toMatchObject({ code, field });
  });
});

describe('armsOf', () => {
  it('one factor per phase: dense and one skip arm', () => {
    const arms = armsOf(resolveKernelConfig({ prefillFactors: [400], decodeFactors: [40] }));
    expect(arms).toEqual([
      { id: 'dense', thresholdScaleFactor: { prefill: 0, decode: 0 } },
      { id: 'skip', thresholdScaleFactor: { prefill: 400, decode: 40 } },
    ]);
  });

  it('numbers the arms and broadcasts a single factor', () => {
    const arms = armsOf(resolveKernelConfig({ prefillFactors: [100, 200, 300], decodeFactors: [5] }));
    expect(arms.map((a) => a.id)).toEqual(['dense', 'skip1', 'skip2', 'skip3']);
    expect(arms.slice(1).map((a) => a.thresholdScaleFactor)).toEqual([
      { prefill: 100, decode: 5 },
      { prefill: 200, decode: 5 },
      { prefill: 300, decode: 5 },
    ]);
    const other = armsOf(resolveKernelConfig({ prefillFactors: [7], decodeFactors: [1, 2] }));
    expect(other.slice(1)).toEqual([
      { id: 'skip1', thresholdScaleFactor: { prefill: 7, decode: 1 } },
      { id: 'skip2', thresholdScaleFactor: { prefill: 7, decode: 2 } },
    ]);
  });

  it('pairs equal-length lists index by index', () => {
    const arms = armsOf(resolveKernelConfig({ prefillFactors: [10, 20], decodeFactors: [1, 2] }));
    expect(arms.slice(1).map((a) => a.thresholdScaleFactor)).toEqual([
      { prefill: 10, decode: 1 },
      { prefill: 20, decode: 2 },
    ]);
  });
});

describe('resolvePartitions', () => {
  it.each([
    [2, 2, 1],
    [8, 2, 4],
    [3, 2, 2],
    [1, 4, 1],
    [16, 1, 16],
  ])("'auto' with %d threads and %d KV heads -> %d", (threads, numKvHeads, expected) => {
    const c = resolveKernelConfig({ threads, numKvHeads, numQueryHeads: 8, partitions: 'auto' });
    expect(resolvePartitions(c)).toBe(expected);
  });

  it('a number is kept as is', () => {
    expect(resolvePartitions(resolveKernelConfig({ partitions: 5, threads: 64 }))).toBe(5);
  });
});
