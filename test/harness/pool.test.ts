/**
 * The worker pool and the WebAssembly executor run the very same units as the single-threaded kernel, so their
 * outputs, decisions and counters must match it bit for bit. Needs `npm run build` (dist/harness/cpu/worker.js and
 * build/attention.wasm).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../kernels/errors.js';
import type {
  AttentionKernel,
  AttentionResult,
  DecodeInputs,
  DecodeOptions,
  HeadDim,
  PrefillInputs,
  PrefillOptions,
} from '../../kernels/types.js';
import { createWasmKernel } from '../../kernels/wasm/kernel.js';
import { planDecode, planPrefill } from '../../kernels/wasm/layout.js';
import { decodeCounters, prefillCounters, readDecisions, readOutput, stageInputs } from '../../kernels/wasm/stage.js';
import { skipParams } from '../../kernels/wasm/units.js';
import { KernelPool } from '../../harness/cpu/pool.js';
import { loadKernelModule } from '../../harness/cpu/wasm-module.js';
import { createWasmExecutor, type Executor } from '../../harness/kernel/executor.js';
import { gaussianArray, mulberry32 } from '../helpers/random.js';

/** Noise plus an attention sink on keys 0..3 (dimension 0), so that moderate factors skip tiles. */
function tensors(seed: number, hq: number, hkv: number, d: number, qRows: number, keys: number) {
  const rng = mulberry32(seed);
  const q = gaussianArray(hq * qRows * d, rng);
  const k = gaussianArray(hkv * keys * d, rng);
  const v = gaussianArray(hkv * keys * d, rng);
  for (let r = 0; r < hq * qRows; r++) q[r * d] = 3 + rng(); // sink score 4 * q[0]: 12..16
  for (let g = 0; g < hkv; g++) for (let j = 0; j < 4; j++) k[(g * keys + j) * d] += 4 * Math.sqrt(d);
  return { q, k, v };
}

const D: HeadDim = 64;
const SHAPE = { numQueryHeads: 4, numKvHeads: 2, headDim: D };
const PREFILL: PrefillInputs = { ...SHAPE, seqLen: 1000, ...tensors(1, 4, 2, D, 1000, 1000) };
const PREFILL_TILES = { blockM: 64, blockN: 64 };
const SAMPLED_TILES = [1, 6, 11, 15];
const SAMPLED: PrefillInputs = {
  ...SHAPE,
  seqLen: 1000,
  ...tensors(2, 4, 2, D, 1000, 1000),
  // the packed rows of tiles 1, 6, 11 (64 rows each) and 15 (the last, 40 rows)
  q: gaussianArray(4 * (3 * 64 + 40) * D, mulberry32(3)),
  queryTiles: SAMPLED_TILES,
};
const DECODE: DecodeInputs = { ...SHAPE, kvLen: 3001, ...tensors(4, 4, 2, D, 1, 3001) };
const DECODE_TILES = { blockN: 64, partitions: 3 };
const PREFILL_FACTOR = 3;
const DECODE_FACTOR = 10;

let single: AttentionKernel;
let pool: KernelPool;
let executor: Executor;

beforeAll(async () => {
  single = createWasmKernel(loadKernelModule().module);
  pool = await KernelPool.create(2);
  executor = await createWasmExecutor(2);
});

afterAll(async () => {
  await pool?.close();
  await executor?.close();
});

function prefillOptions(factor: number): PrefillOptions {
  return { ...PREFILL_TILES, thresholdScaleFactor: factor, recordDecisions: true };
}

function decodeOptions(factor: number): DecodeOptions {
  return { ...DECODE_TILES, thresholdScaleFactor: factor, recordDecisions: true };
}

function bits(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function skipped(result: { heads: { skippedTiles: number }[] }): number {
  return result.heads.reduce((n, h) => n + h.skippedTiles, 0);
}

describe('KernelPool (2 threads) against the single-threaded kernel', () => {
  async function poolPrefill(inputs: PrefillInputs, factor: number, iterations: number) {
    const plan = planPrefill({ ...inputs, ...PREFILL_TILES, workers: pool.threads });
    stageInputs(pool.reserve(plan.totalBytes), plan, inputs);
    const dispatch = await pool.run(plan, skipParams(1 / Math.sqrt(D), factor, inputs.seqLen), iterations);
    const buffer = pool.reserve(plan.totalBytes);
    const decisions = readDecisions(buffer, plan);
    return { dispatch, out: readOutput(buffer, plan), decisions, heads: prefillCounters(decisions, plan) };
  }

  async function poolDecode(inputs: DecodeInputs, factor: number, iterations: number) {
    const plan = planDecode({ ...inputs, ...DECODE_TILES, workers: pool.threads });
    stageInputs(pool.reserve(plan.totalBytes), plan, inputs);
    const dispatch = await pool.run(plan, skipParams(1 / Math.sqrt(D), factor, inputs.kvLen), iterations);
    const buffer = pool.reserve(plan.totalBytes);
    const decisions = readDecisions(buffer, plan);
    return { dispatch, out: readOutput(buffer, plan), decisions, heads: decodeCounters(decisions, plan) };
  }

  it('reports its thread count', () => {
    expect(pool.threads).toBe(2);
  });

  it.each([0, PREFILL_FACTOR])(
    'prefill, factor %d: bit-identical output, same decisions and counters',
    async (factor) => {
      const expected = single.prefill(PREFILL, prefillOptions(factor));
      const got = await poolPrefill(PREFILL, factor, 1);
      expect(bits(got.out).equals(bits(expected.out))).toBe(true);
      expect(got.decisions).toEqual(expected.decisions);
      expect(got.heads).toEqual(expected.heads);
      expect(got.dispatch.wallMs).toBeGreaterThan(0);
      expect(got.dispatch.busyMs).toHaveLength(2);
      if (factor > 0) expect(skipped(got)).toBeGreaterThan(0);
    },
  );

  it('prefill of sampled query tiles, 3 iterations', async () => {
    const expected = single.prefill(SAMPLED, prefillOptions(PREFILL_FACTOR));
    const got = await poolPrefill(SAMPLED, PREFILL_FACTOR, 3);
    expect(got.out.length).toBe(SAMPLED.q.length);
    expect(bits(got.out).equals(bits(expected.out))).toBe(true);
    expect(got.heads).toEqual(expected.heads);
  });

  it.each([0, DECODE_FACTOR])(
    'decode (3 partitions), factor %d: bit-identical output after the merge',
    async (factor) => {
      const expected = single.decode(DECODE, decodeOptions(factor));
      for (const iterations of [1, 4]) {
        const got = await poolDecode(DECODE, factor, iterations);
        expect(bits(got.out).equals(bits(expected.out))).toBe(true);
        expect(got.decisions).toEqual(expected.decisions);
        expect(got.heads).toEqual(expected.heads);
      }
      if (factor > 0) expect(skipped(expected)).toBeGreaterThan(0);
    },
  );

  it('a worker trap rejects with SKB_WORKER and leaves the pool usable', async () => {
    const good = planDecode({ ...DECODE, ...DECODE_TILES, workers: pool.threads });
    // every unit reads its queries far outside the memory: each worker traps on the first unit it claims
    const bad = { ...good, q: { offset: 0x7ff00000, bytes: good.q.bytes } };
    stageInputs(pool.reserve(good.totalBytes), good, DECODE);
    await expect(pool.run(bad, skipParams(1 / Math.sqrt(D), 0, DECODE.kvLen), 1)).rejects.toMatchObject({
      code: ErrorCodes.WORKER,
    });
    const expected = single.decode(DECODE, decodeOptions(0));
    const got = await poolDecode(DECODE, 0, 1);
    expect(bits(got.out).equals(bits(expected.out))).toBe(true);
  }, 10_000);

  it('a trap in one unit while the other worker waits at the barrier still settles the dispatch', async () => {
    // one partition: unit 0 = KV head 0 (fine), unit 1 = KV head 1, whose queries lie past the end of the memory
    const good = planDecode({ ...DECODE, blockN: 64, partitions: 1, workers: pool.threads });
    const size = pool.reserve(good.totalBytes + 64).byteLength;
    const headBytes = (SHAPE.numQueryHeads / SHAPE.numKvHeads) * D * 4;
    const bad = { ...good, q: { offset: size - headBytes, bytes: good.q.bytes } };
    stageInputs(pool.reserve(good.totalBytes), good, DECODE);
    await expect(pool.run(bad, skipParams(1 / Math.sqrt(D), 0, DECODE.kvLen), 2)).rejects.toMatchObject({
      code: ErrorCodes.WORKER,
    });
    const expected = single.decode(DECODE, decodeOptions(0));
    const got = await poolDecode(DECODE, 0, 2);
    expect(bits(got.out).equals(bits(expected.out))).toBe(true);
  }, 10_000);
});

describe('KernelPool lifecycle', () => {
  it.each([0, -1, 1.5, Number.NaN])('create(%s) throws SKB_CONFIG naming threads', async (threads) => {
    await expect(KernelPool.create(threads)).rejects.toMatchObject({ code: ErrorCodes.CONFIG, field: 'threads' });
  });

  it('close() is idempotent, and a closed pool refuses work', async () => {
    const p = await KernelPool.create(1);
    const plan = planDecode({ ...DECODE, ...DECODE_TILES, workers: 1 });
    stageInputs(p.reserve(plan.totalBytes), plan, DECODE);
    await p.run(plan, skipParams(1 / Math.sqrt(D), 0, DECODE.kvLen), 1);
    await p.close();
    await expect(p.close()).resolves.toBeUndefined();
    await expect(p.run(plan, skipParams(1 / Math.sqrt(D), 0, DECODE.kvLen), 1)).rejects.toMatchObject({
      code: ErrorCodes.WORKER,
    });
  });

  it('reserve() grows the shared memory and refuses more than 4 GiB with SKB_OPTION', () => {
    const before = pool.reserve(0).byteLength;
    const grown = pool.reserve(before + 3 * 65536 + 1);
    expect(grown.byteLength).toBeGreaterThanOrEqual(before + 4 * 65536);
    expect(() => pool.reserve(2 ** 32 + 1)).toThrow(expect.objectContaining({ code: ErrorCodes.OPTION }));
  });
});

describe('createWasmExecutor(2) against the single-threaded kernel', () => {
  function expectSame(got: { out: Float32Array; heads: unknown }, expected: AttentionResult): void {
    expect(bits(got.out).equals(bits(expected.out))).toBe(true);
    expect(got.heads).toEqual(expected.heads);
  }

  it('describes itself', () => {
    expect(executor.implementation).toMatch(/^wasm-(relaxed-)?simd$/);
    expect(executor.threads).toBe(2);
    expect(executor.pool).toBeInstanceOf(KernelPool);
    expect(executor.binarySha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('decode: arms alternate on one staged phase; iterations > 1 give the same output', async () => {
    const dense = single.decode(DECODE, decodeOptions(0));
    const skip = single.decode(DECODE, decodeOptions(DECODE_FACTOR));
    expect(skipped(skip)).toBeGreaterThan(0);
    const phase = executor.prepareDecode(DECODE, DECODE_TILES);
    expect(await phase.run(DECODE_FACTOR, 1)).toBeGreaterThan(0);
    expectSame(phase.collect(), skip);
    await phase.run(0, 3);
    expectSame(phase.collect(), dense);
    await phase.run(DECODE_FACTOR, 5);
    expectSame(phase.collect(), skip);
  });

  it('prefill (after decode: the memory grows): dense and skip arms, iterations 1 and 3', async () => {
    const dense = single.prefill(PREFILL, prefillOptions(0));
    const skip = single.prefill(PREFILL, prefillOptions(PREFILL_FACTOR));
    const phase = executor.preparePrefill(PREFILL, PREFILL_TILES);
    await phase.run(0, 1);
    expectSame(phase.collect(), dense);
    await phase.run(PREFILL_FACTOR, 3);
    expectSame(phase.collect(), skip);
    await phase.run(0, 3);
    const again = phase.collect();
    expectSame(again, dense);
    expect(again.heads.every((h) => h.skippedTiles === 0)).toBe(true);
  });

  it('prefill of sampled query tiles', async () => {
    const expected = single.prefill(SAMPLED, prefillOptions(PREFILL_FACTOR));
    const phase = executor.preparePrefill(SAMPLED, PREFILL_TILES);
    await phase.run(PREFILL_FACTOR, 2);
    expectSame(phase.collect(), expected);
  });
});
