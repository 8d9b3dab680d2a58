/** Small models, GPUs and kernel result files for the projection tests, with round numbers for hand arithmetic. */
import {
  type KernelCell,
  type KernelResultFile,
  type Phase,
  RESULT_SCHEMA,
  RESULT_SCHEMA_VERSION,
  type ServerResultFile,
} from '../../../reports/schema.js';
import type { GpuSpec, ModelSpec } from '../../../reports/projection/types.js';

/** 2 layers, h 64, Hq 4, Hkv 2, d 16, gated FFN 128, vocab 100, bf16. */
export const TINY: ModelSpec = {
  id: 'tiny',
  name: 'Tiny',
  layers: 2,
  hidden: 64,
  numQueryHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  ffn: { kind: 'dense', intermediate: 128 },
  vocab: 100,
  tieWordEmbeddings: false,
  dtype: 'bf16',
  kvDtype: 'bf16',
  source: 'test',
};

/** TINY with 8 experts of 32, 2 active. */
export const TINY_MOE: ModelSpec = {
  ...TINY,
  id: 'tiny-moe',
  ffn: { kind: 'moe', experts: 8, activeExperts: 2, expertIntermediate: 32, sharedIntermediate: 0 },
};

/** 1 TFLOP/s, 100 GB/s, 1 GB, 20 GB/s link (10 GB/s one way). */
export const ROUND_GPU: GpuSpec = {
  id: 'round',
  name: 'Round GPU',
  peakFlopsPerSec: { bf16: 1e12 },
  memoryBytesPerSec: 1e11,
  memoryBytes: 1e9,
  linkBytesPerSec: 2e10,
  label: 'test',
  source: 'test',
};

export const FULL_EFFICIENCY = { compute: 1, bandwidth: 1, attentionCompute: 1, attentionBandwidth: 1 };

interface CellSpec {
  context: number;
  phase: Phase;
  arm: string;
  speedup?: number;
  sparsity?: number;
  partitions?: number;
}

export function kernelCell(s: CellSpec): KernelCell {
  const counters = {
    visitedTiles: 100,
    skippedTiles: Math.round((s.sparsity ?? 0) * 100),
    flops: 1,
    denseFlops: 1,
    bytes: 1,
    denseBytes: 1,
  };
  return {
    kind: 'kernel',
    context: s.context,
    phase: s.phase,
    arm: s.arm,
    provenance: { kind: 'measured' },
    samples: [],
    summary: { n: 3, failed: 0, medianMs: 1, minMs: 1, maxMs: 1, madMs: 0, estimatedFullMs: 1 },
    work: {
      ...counters,
      sparsity: s.sparsity ?? 0,
      arithmeticIntensity: 1,
      bound: 'unknown',
      denseEquivalentFlopsPerSec: 1,
      achievedFlopsPerSec: 1,
      achievedBytesPerSec: 1,
    },
    heads: [],
    foreignLoad: 0,
    disturbed: false,
    ...(s.partitions !== undefined ? { partitions: s.partitions } : {}),
    ...(s.speedup !== undefined
      ? {
          speedup: {
            baselineArm: 'dense',
            ofMedians: s.speedup,
            pairedRatios: [s.speedup],
            medianPairedRatio: s.speedup,
          },
        }
      : {}),
  };
}

const ENVIRONMENT = {
  host: {
    hostname: 'h',
    platform: 'linux',
    arch: 'x64',
    osRelease: '6',
    cpuModel: 'CPU',
    logicalCpus: 2,
    totalMemoryBytes: 1,
  },
  runtime: { node: '20', v8: '11' },
  skipbench: '0.1.0',
};

export function kernelResult(cells: KernelCell[], arms = ['dense', 'skip']): KernelResultFile {
  return {
    schema: RESULT_SCHEMA,
    schemaVersion: RESULT_SCHEMA_VERSION,
    run: { id: 'r', startedAt: '2026-01-01T00:00:00.000Z', status: 'completed', command: [], config: {} },
    environment: ENVIRONMENT,
    target: {
      kind: 'kernel',
      implementation: 'wasm-simd',
      threads: 2,
      shape: { numQueryHeads: 8, numKvHeads: 2, headDim: 128 },
      workload: { description: 'synthetic' },
      tiles: { prefill: { blockM: 64, blockN: 128 }, decode: { blockN: 64, partitions: 2 } },
    },
    arms: arms.map((id) => ({ id })),
    cells,
  };
}

export function serverResult(): ServerResultFile {
  return {
    schema: RESULT_SCHEMA,
    schemaVersion: RESULT_SCHEMA_VERSION,
    run: { id: 'r', startedAt: '2026-01-01T00:00:00.000Z', status: 'completed', command: [], config: {} },
    environment: ENVIRONMENT,
    target: { kind: 'server', endpoint: 'completions', tokenizer: 't', load: 'one at a time' },
    arms: [{ id: 'dense' }, { id: 'skip' }],
    cells: [],
  };
}

/** Prefill at 4K and 64K, decode at 16K, for arm skip (and skip2 at 64K prefill). */
export function sampleResult(): KernelResultFile {
  return kernelResult(
    [
      kernelCell({ context: 4096, phase: 'prefill', arm: 'dense' }),
      kernelCell({ context: 4096, phase: 'prefill', arm: 'skip', speedup: 1.1, sparsity: 0.3 }),
      kernelCell({ context: 65536, phase: 'prefill', arm: 'dense' }),
      kernelCell({ context: 65536, phase: 'prefill', arm: 'skip', speedup: 1.25, sparsity: 0.52 }),
      kernelCell({ context: 65536, phase: 'prefill', arm: 'skip2', speedup: 1.5, sparsity: 0.8 }),
      kernelCell({ context: 16384, phase: 'decode', arm: 'dense' }),
      kernelCell({ context: 16384, phase: 'decode', arm: 'skip', speedup: 1.2, sparsity: 0.45, partitions: 4 }),
    ],
    ['dense', 'skip', 'skip2'],
  );
}
