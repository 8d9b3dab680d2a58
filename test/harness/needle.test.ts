/**
 * Needle recall in the kernel target: the probes' skip mass is the weight the kernel's output really gives the needle
 * value, the rows come from computed query tiles after the needle, and a kernel run records `needle` on the skip
 * arm's retrieval heads (prefill) and on the GQA groups holding one (decode), identically for the reference and the
 * WebAssembly executors. The WebAssembly part needs `npm run build`.
 */
import { describe, expect, it } from 'vitest';
import { type KernelConfig, resolveKernelConfig } from '../../harness/kernel/config.js';
import { preparePhase } from '../../harness/kernel/cpu-backend.js';
import { createReferenceExecutor, createWasmExecutor } from '../../harness/kernel/executor.js';
import { decodeNeedleProbe, prefillNeedleProbe } from '../../harness/kernel/needle.js';
import { runKernelBenchmark } from '../../harness/kernel/runner.js';
import { NEEDLE_MAX_ROWS, spreadIndices } from '../../kernels/needle-recall.js';
import { referenceKernel } from '../../kernels/reference/index.js';
import type { AttentionShape } from '../../kernels/types.js';
import type { KernelCell, KernelResultFile } from '../../reports/schema.js';
import { type QkvSource, syntheticSource } from '../../workloads/index.js';

const SHAPE: AttentionShape = { numQueryHeads: 4, numKvHeads: 2, headDim: 64 };
const MIX = ['retrieval', 'sink', 'local', 'retrieval'] as const;
const source = syntheticSource({ seed: 1, shape: SHAPE, headPatterns: MIX });
const d = SHAPE.headDim;

/** V of zeros except the needle's value row, all ones: every output element is then the needle's softmax weight. */
function needleValues(L: number, needle: number): Float32Array {
  const v = new Float32Array(SHAPE.numKvHeads * L * d);
  for (let g = 0; g < SHAPE.numKvHeads; g++) v.fill(1, (g * L + needle) * d, (g * L + needle + 1) * d);
  return v;
}

describe('the synthetic source names its needle', () => {
  it('at needlePosition, looked for by the retrieval heads', () => {
    const needle = source.needle!(2048);
    expect(needle.heads).toEqual([0, 3]);
    expect(needle.position).toBeGreaterThanOrEqual(0.2 * 2048);
    expect(needle.position).toBeLessThan(0.8 * 2048);
  });
});

describe('needle probes against the kernel output', () => {
  const L = 2048;
  const needle = source.needle!(L);
  const { k } = source.keysValues(L);
  const v = needleValues(L, needle.position);

  it('prefill: the skip mass is the mean output weight on the needle over the checked rows', () => {
    // one computed query tile after the needle: its 64 rows are the candidates, 16 of them are checked
    const tile = 31;
    const q = source.queries(L, [[tile * 64, L]]);
    const inputs = { ...SHAPE, seqLen: L, q, k, v, queryTiles: [tile] };
    const tiles = { blockM: 64, blockN: 128 };
    const result = referenceKernel.prefill(inputs, { ...tiles, thresholdScaleFactor: 100, recordDecisions: true });
    const records = prefillNeedleProbe(inputs, tiles, needle)(result.decisions!);
    expect(records.map((r) => r !== undefined)).toEqual([true, false, false, true]);
    const checked = spreadIndices(64);
    for (const h of needle.heads) {
      const r = records[h]!;
      expect(r.rows).toBe(NEEDLE_MAX_ROWS);
      const weights = checked.map((i) => result.out[(h * 64 + i) * d]);
      expect(r.skipMass).toBeCloseTo(weights.reduce((a, b) => a + b, 0) / weights.length, 6);
      expect(r.position).toBe(needle.position);
      expect(r.recall).toBeCloseTo(r.skipMass / r.denseMass, 12);
    }
  });

  it('prefill: no computed row after the needle, no record', () => {
    const q = source.queries(L, [[0, 64]]);
    const inputs = { ...SHAPE, seqLen: L, q, k, v, queryTiles: [0] };
    const tiles = { blockM: 64, blockN: 128 };
    const result = referenceKernel.prefill(inputs, { ...tiles, thresholdScaleFactor: 100, recordDecisions: true });
    expect(prefillNeedleProbe(inputs, tiles, needle)(result.decisions!)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('decode: per GQA group, the mean output weight of its retrieval heads, with split-KV partitions', () => {
    const inputs = { ...SHAPE, kvLen: L, q: source.decodeQuery(L), k, v };
    const tiles = { blockN: 64, partitions: 3 };
    for (const factor of [0, 150, 5000]) {
      const result = referenceKernel.decode(inputs, { ...tiles, thresholdScaleFactor: factor, recordDecisions: true });
      const records = decodeNeedleProbe(inputs, tiles, needle)(result.decisions!);
      // group 0 = heads 0, 1 (retrieval 0); group 1 = heads 2, 3 (retrieval 3)
      for (const [g, h] of [
        [0, 0],
        [1, 3],
      ]) {
        const r = records[g]!;
        expect(r.rows).toBe(1);
        expect(r.skipMass).toBeCloseTo(result.out[h * d], 6);
        if (factor === 0) expect(r.recall).toBe(1);
      }
    }
  });
});

const BASE = {
  contexts: [2048],
  phases: ['prefill', 'decode'],
  numQueryHeads: 4,
  numKvHeads: 2,
  headDim: 64,
  headMix: MIX.join(','),
  reps: 1,
  warmup: 0,
  minSampleMs: 0,
  // 2K prefill sampled: 5 of 32 query tiles
  fullPrefillMax: 1024,
  prefillSampleFlops: 1e8,
  outDir: 'unused',
} as const;

const cellOf = (r: KernelResultFile, phase: string, arm: string): KernelCell =>
  r.cells.find((c) => c.phase === phase && c.arm === arm)!;

describe('runKernelBenchmark records needle recall', () => {
  const c: KernelConfig = resolveKernelConfig({ ...BASE, phases: [...BASE.phases], contexts: [...BASE.contexts] });
  let reference: KernelResultFile;

  it('on the skip arm: prefill retrieval heads and decode groups holding one; never on dense', async () => {
    reference = await runKernelBenchmark(c, { executor: createReferenceExecutor() });
    const position = source.needle!(2048).position;
    const prefill = cellOf(reference, 'prefill', 'skip');
    expect(prefill.provenance.kind).toBe('sampled');
    expect(prefill.heads.map((h) => h.needle !== undefined)).toEqual([true, false, false, true]);
    const decode = cellOf(reference, 'decode', 'skip');
    expect(decode.heads.map((h) => h.pattern)).toEqual(['retrieval+sink', 'local+retrieval']);
    expect(decode.heads.map((h) => h.needle?.rows)).toEqual([1, 1]);
    for (const h of [...prefill.heads, ...decode.heads].filter((x) => x.needle)) {
      const n = h.needle!;
      expect(n.position).toBe(position);
      expect(n.rows).toBeGreaterThan(0);
      expect(n.rows).toBeLessThanOrEqual(NEEDLE_MAX_ROWS);
      expect(n.denseMass).toBeGreaterThan(0);
      expect(n.denseMass).toBeLessThanOrEqual(1);
      expect(n.recall).toBeGreaterThanOrEqual(0);
      expect(n.recall).toBeLessThan(1.5);
      expect(n.lostRows).toBeLessThanOrEqual(n.rows);
      expect(n.method).toMatch(/needle/);
    }
    for (const phase of ['prefill', 'decode']) {
      expect(cellOf(reference, phase, 'dense').heads.every((h) => h.needle === undefined)).toBe(true);
    }
  });

  it('the WebAssembly executor gives the same records (same decisions, same Q/K)', async () => {
    const executor = await createWasmExecutor(1);
    try {
      const wasm = await runKernelBenchmark(c, { executor });
      for (const phase of ['prefill', 'decode']) {
        const records = (r: KernelResultFile) => cellOf(r, phase, 'skip').heads.map((h) => h.needle);
        expect(records(wasm)).toEqual(records(reference));
      }
    } finally {
      await executor.close();
    }
  });

  it('captured tensors have no known needle: no probe', () => {
    const captured: QkvSource = {
      shape: source.shape,
      maxLength: 4096,
      description: 'captured (test)',
      keysValues: (L) => source.keysValues(L),
      queries: (L, ranges) => source.queries(L, ranges),
      decodeQuery: (L) => source.decodeQuery(L),
    };
    const { k, v } = captured.keysValues(1024);
    const executor = createReferenceExecutor();
    for (const phase of ['prefill', 'decode'] as const) {
      expect(preparePhase(executor, captured, c, 1024, phase, k, v, 1).needle).toBeUndefined();
      expect(preparePhase(executor, source, c, 1024, phase, k, v, 1).needle).toBeDefined();
    }
  });
});
