/** Reference server options: defaults, every field validated with SKB_CONFIG naming it, the head mix for any head
 * count, and the memory bound on maxContext. */
import { describe, expect, it } from 'vitest';
import {
  headMixText,
  headPatternsFor,
  kernelBytesAt,
  MAX_KERNEL_BYTES,
  resolvedPartitions,
  resolveServeOptions,
  SERVE_DEFAULTS,
  type ServeUserOptions,
} from '../../../harness/serve/options.js';
import { ErrorCodes } from '../../../kernels/errors.js';

function thrown(fn: () => unknown): { code?: string; field?: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; field?: string };
  }
  throw new Error('expected an error, nothing was thrown');
}

describe('resolveServeOptions', () => {
  it('gives the documented defaults', () => {
    const o = resolveServeOptions();
    expect(o).toEqual({ ...SERVE_DEFAULTS });
    expect(o).toMatchObject({
      host: '127.0.0.1',
      port: 0,
      modelName: 'skipbench-reference',
      layers: 1,
      numQueryHeads: 4,
      numKvHeads: 1,
      headDim: 64,
      prefillFactor: 0,
      decodeFactor: 0,
      implementation: 'wasm',
      maxContext: 32768,
      blockM: 64,
      blockN: 128,
      decodeBlockN: 64,
      partitions: 1,
    });
    expect(o.headMix).toBeUndefined();
  });

  it('keeps what the user set and ignores undefined fields', () => {
    const o = resolveServeOptions({
      port: 8080,
      prefillFactor: 100,
      decodeFactor: undefined,
      headMix: 'sink,local',
      numQueryHeads: 2,
    });
    expect(o.port).toBe(8080);
    expect(o.prefillFactor).toBe(100);
    expect(o.decodeFactor).toBe(0);
  });

  const bad: Array<[string, ServeUserOptions]> = [
    ['host', { host: '' }],
    ['port', { port: 70000 }],
    ['port', { port: -1 }],
    ['modelName', { modelName: ' ' }],
    ['layers', { layers: 0 }],
    ['numQueryHeads', { numQueryHeads: 3, numKvHeads: 2 }],
    ['numKvHeads', { numKvHeads: 0 }],
    ['headDim', { headDim: 96 as 64 }],
    ['headMix', { headMix: 'sink:3' }],
    ['headMix', { headMix: 'bogus:4' }],
    ['seed', { seed: 1.5 }],
    ['prefillFactor', { prefillFactor: -1 }],
    ['decodeFactor', { decodeFactor: Number.POSITIVE_INFINITY }],
    ['threads', { threads: 0 }],
    ['implementation', { implementation: 'gpu' as 'wasm' }],
    ['wasmVariant', { wasmVariant: 'avx' as 'auto' }],
    ['maxContext', { maxContext: 1 }],
    ['blockM', { blockM: 6 }],
    ['blockN', { blockN: 40 }],
    ['decodeBlockN', { decodeBlockN: 1024 }],
    ['partitions', { partitions: 0 }],
  ];
  it.each(bad)('rejects a bad %s with SKB_CONFIG', (field, user) => {
    expect(thrown(() => resolveServeOptions(user))).toMatchObject({ code: ErrorCodes.CONFIG, field });
  });

  it('bounds the kernel memory one request may need', () => {
    const o = resolveServeOptions({ maxContext: 262144, layers: 8 });
    expect(kernelBytesAt(o, o.maxContext)).toBeLessThanOrEqual(MAX_KERNEL_BYTES);
    expect(thrown(() => resolveServeOptions({ maxContext: 262144, layers: 64 }))).toMatchObject({
      code: ErrorCodes.CONFIG,
      field: 'maxContext',
    });
  });
});

describe('head patterns and partitions', () => {
  it('cycles the default 8-head mix over the configured heads', () => {
    expect(headPatternsFor(resolveServeOptions())).toEqual(['sink', 'sink', 'local', 'local']);
    const sixteen = headPatternsFor(resolveServeOptions({ numQueryHeads: 16, numKvHeads: 4 }));
    expect(sixteen.slice(0, 8)).toEqual(sixteen.slice(8));
    expect(headMixText(resolveServeOptions({ numQueryHeads: 8, numKvHeads: 2 }))).toBe(
      'sink:2,local:2,vertical,slash,retrieval,sink',
    );
  });

  it('takes a configured mix as given', () => {
    expect(headPatternsFor(resolveServeOptions({ numQueryHeads: 2, headMix: 'retrieval,slash' }))).toEqual([
      'retrieval',
      'slash',
    ]);
  });

  it("resolves 'auto' partitions to one unit per thread", () => {
    expect(resolvedPartitions(resolveServeOptions({ partitions: 'auto', threads: 4, numKvHeads: 1 }))).toBe(4);
    expect(
      resolvedPartitions(resolveServeOptions({ partitions: 'auto', threads: 4, numKvHeads: 2, numQueryHeads: 4 })),
    ).toBe(2);
    expect(resolvedPartitions(resolveServeOptions({ partitions: 3 }))).toBe(3);
  });
});
