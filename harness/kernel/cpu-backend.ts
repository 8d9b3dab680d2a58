/**
 * The CPU backend: Q/K/V generated (or loaded) in this process and staged for the WebAssembly worker pool or the
 * reference kernel. Each context's K/V are generated once and shared by its phases; long prefills compute a
 * stratified sample of query tiles (harness/kernel/sampling.ts).
 */
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import type { AttentionShape } from '../../kernels/types.js';
import type { Phase, Provenance } from '../../reports/schema.js';
import { capturedSource, parseHeadMix, type QkvSource, syntheticSource } from '../../workloads/index.js';
import { defaultCacheDir, machineCeilings } from '../ceilings.js';
import type { KernelBackend, Prepared } from './backend.js';
import { type KernelConfig, resolvePartitions } from './config.js';
import { createReferenceExecutor, createWasmExecutor, type Executor, type PhaseOutput } from './executor.js';
import { decodeNeedleProbe, prefillNeedleProbe } from './needle.js';
import { choosePrefillSample, SAMPLING_METHOD, tileRowRanges } from './sampling.js';

export function workloadSource(c: KernelConfig): { source: QkvSource; patterns?: string[] } {
  const shape: AttentionShape = { numQueryHeads: c.numQueryHeads, numKvHeads: c.numKvHeads, headDim: c.headDim };
  if (c.qkvDir) {
    const source = capturedSource(c.qkvDir);
    const s = source.shape;
    if (s.numQueryHeads !== shape.numQueryHeads || s.numKvHeads !== shape.numKvHeads || s.headDim !== shape.headDim) {
      // the captured tensors define the shape; the config's head counts are ignored for them
      c.numQueryHeads = s.numQueryHeads;
      c.numKvHeads = s.numKvHeads;
      c.headDim = s.headDim;
    }
    return { source };
  }
  const headPatterns = parseHeadMix(c.headMix, c.numQueryHeads);
  return { source: syntheticSource({ seed: c.seed, shape, headPatterns }), patterns: [...headPatterns] };
}

export interface CpuBackendOptions {
  /** Injected for tests (not closed by the backend); default the worker pool or the reference kernel. */
  executor?: Executor;
  /** Where machine ceilings are cached; measured afresh when refreshCeilings is set. */
  cacheDir?: string;
  refreshCeilings?: boolean;
}

/** The CPU backend for config `c`; captured tensors may rewrite c's shape (they define it). */
export async function createCpuBackend(c: KernelConfig, options: CpuBackendOptions = {}): Promise<KernelBackend> {
  const { source, patterns } = workloadSource(c);
  const tooLong = c.contexts.filter((L) => L > source.maxLength);
  if (tooLong.length) {
    throw new SkipbenchError(
      ErrorCodes.CONFIG,
      `contexts ${tooLong.join(', ')} exceed the captured tensors' ${source.maxLength} tokens`,
      { field: 'contexts', allowed: `<= ${source.maxLength}`, received: tooLong },
    );
  }
  const executor =
    options.executor ??
    (c.implementation === 'wasm' ? await createWasmExecutor(c.threads, c.wasmVariant) : createReferenceExecutor());
  const partitions = resolvePartitions({ ...c, threads: executor.threads });
  // a context's K/V serve both of its phases
  let kv: { L: number; k: Float32Array; v: Float32Array } | undefined;
  return {
    target: {
      implementation: executor.implementation,
      threads: executor.threads,
      ...(executor.binarySha256 ? { binarySha256: executor.binarySha256 } : {}),
    },
    workload: { description: source.description, ...(patterns ? { headPatterns: patterns } : {}) },
    partitions,
    maxForeignLoad: c.maxForeignLoad,
    async measureCeilings(environment, onEvent) {
      if (!executor.pool) return;
      environment.ceilings = await machineCeilings(executor.pool, environment, {
        cacheDir: options.cacheDir ?? defaultCacheDir(),
        refresh: options.refreshCeilings ?? false,
        binarySha256: executor.binarySha256 ?? '',
      });
      const { streamReadBytesPerSec, scoreTileFlopsPerSec, cached } = environment.ceilings;
      onEvent?.({ type: 'ceilings', streamReadBytesPerSec, scoreTileFlopsPerSec, cached });
    },
    async prepare(L, phase) {
      if (kv?.L !== L) kv = { L, ...source.keysValues(L) };
      return preparePhase(executor, source, c, L, phase, kv.k, kv.v, partitions);
    },
    close: async () => {
      if (!options.executor) await executor.close();
    },
  };
}

export function preparePhase(
  executor: Executor,
  source: QkvSource,
  c: KernelConfig,
  L: number,
  phase: Phase,
  k: Float32Array,
  v: Float32Array,
  partitions: number,
): Prepared<PhaseOutput> {
  const shape = { numQueryHeads: c.numQueryHeads, numKvHeads: c.numKvHeads, headDim: c.headDim };
  const d = c.headDim;
  // synthetic workloads know where their needle is; captured tensors do not
  const needle = source.needle?.(L);
  const probes = needle !== undefined && needle.heads.length > 0;
  if (phase === 'decode') {
    const group = c.numQueryHeads / c.numKvHeads;
    const inputs = { ...shape, kvLen: L, q: source.decodeQuery(L), k, v };
    const tiles = { blockN: c.decodeBlockN, partitions };
    return {
      phase: executor.prepareDecode(inputs, tiles),
      provenance: { kind: 'measured' },
      workScale: 1,
      headRanges: Array.from({ length: c.numKvHeads }, (_, g) => [[g * group * d, (g + 1) * group * d]]),
      partitions,
      ...(probes ? { needle: decodeNeedleProbe(inputs, tiles, needle) } : {}),
    };
  }
  const sample = choosePrefillSample(L, c.blockM, d, c.fullPrefillMax, c.prefillSampleFlops, c.seed);
  const ranges = sample.tiles ? tileRowRanges(sample.tiles, c.blockM, L) : [[0, L] as [number, number]];
  const rows = ranges.reduce((n, [a, b]) => n + b - a, 0);
  const q = source.queries(L, ranges);
  const provenance: Provenance = sample.tiles
    ? {
        kind: 'sampled',
        sampledTiles: sample.tiles.length,
        totalTiles: sample.totalTiles,
        workFraction: sample.sampledWork / sample.totalWork,
        method: SAMPLING_METHOD,
      }
    : { kind: 'measured' };
  const inputs = { ...shape, seqLen: L, q, k, v, ...(sample.tiles ? { queryTiles: sample.tiles } : {}) };
  const tiles = { blockM: c.blockM, blockN: c.blockN };
  return {
    phase: executor.preparePrefill(inputs, tiles),
    provenance,
    workScale: sample.totalWork / sample.sampledWork,
    headRanges: Array.from({ length: c.numQueryHeads }, (_, h) => [[h * rows * d, (h + 1) * rows * d]]),
    ...(probes ? { needle: prefillNeedleProbe(inputs, tiles, needle) } : {}),
  };
}
