/**
 * The kernel target: for each context length and phase, generate (or load) Q/K/V, stage them once, and measure
 * dense against every skip arm. The result grows cell by cell and is handed to `onResult` after each phase, so an
 * interrupted run keeps everything it measured.
 */
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import type { AttentionShape } from '../../kernels/types.js';
import {
  RESULT_SCHEMA,
  RESULT_SCHEMA_VERSION,
  type KernelCell,
  type KernelSample,
  type Phase,
  type Provenance,
  type KernelResultFile,
  type ResultFile,
} from '../../reports/schema.js';
import { capturedSource, parseHeadMix, type QkvSource, syntheticSource } from '../../workloads/index.js';
import { defaultCacheDir, machineCeilings } from '../ceilings.js';
import { captureEnvironment } from '../environment.js';
import { newRunId } from '../run-id.js';
import { armsOf, type KernelConfig, resolvePartitions } from './config.js';
import { createReferenceExecutor, createWasmExecutor, type Executor, type PreparedPhase } from './executor.js';
import { measurePhase } from './measure.js';
import { choosePrefillSample, SAMPLING_METHOD, tileRowRanges } from './sampling.js';
import { buildCells } from './summarize.js';

export type KernelProgress =
  | { type: 'ceilings'; streamReadBytesPerSec: number; scoreTileFlopsPerSec: number; cached: boolean }
  | { type: 'phase-start'; index: number; total: number; context: number; phase: Phase; provenance: Provenance }
  | { type: 'sample'; context: number; phase: Phase; arm: string; sample: KernelSample }
  | { type: 'phase-done'; index: number; total: number; cells: KernelCell[] };

export interface KernelRunOptions {
  /** Stop between samples; the result is then marked interrupted. */
  signal?: AbortSignal;
  onProgress?: (event: KernelProgress) => void;
  /** Called with the whole result whenever it changes (write it out here). */
  onResult?: (result: ResultFile) => void;
  /** argv to record. */
  command?: string[];
  /** Where machine ceilings are cached; measure afresh when refreshCeilings is set. */
  cacheDir?: string;
  refreshCeilings?: boolean;
  /** Injected for tests; defaults to the worker pool or the reference kernel per config.implementation. */
  executor?: Executor;
}

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

export async function runKernelBenchmark(
  config: KernelConfig,
  options: KernelRunOptions = {},
): Promise<KernelResultFile> {
  const c = { ...config };
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
    options.executor ?? (c.implementation === 'wasm' ? await createWasmExecutor(c.threads, c.wasmVariant) : createReferenceExecutor());
  const partitions = resolvePartitions({ ...c, threads: executor.threads });
  const arms = armsOf(c);
  const started = new Date();
  const environment = captureEnvironment();
  const result: KernelResultFile = {
    schema: RESULT_SCHEMA,
    schemaVersion: RESULT_SCHEMA_VERSION,
    run: {
      id: newRunId('kernel', started),
      startedAt: started.toISOString(),
      status: 'running',
      command: options.command ?? [],
      config: { ...c, partitions },
    },
    environment,
    target: {
      kind: 'kernel',
      implementation: executor.implementation,
      threads: executor.threads,
      ...(executor.binarySha256 ? { binarySha256: executor.binarySha256 } : {}),
      shape: { numQueryHeads: c.numQueryHeads, numKvHeads: c.numKvHeads, headDim: c.headDim },
      workload: { description: source.description, ...(patterns ? { headPatterns: patterns } : {}) },
      tiles: { prefill: { blockM: c.blockM, blockN: c.blockN }, decode: { blockN: c.decodeBlockN, partitions } },
    },
    arms: arms.map((a) => ({ id: a.id, thresholdScaleFactor: a.thresholdScaleFactor })),
    cells: [],
  };
  const publish = () => options.onResult?.(result);

  try {
    if (executor.pool) {
      environment.ceilings = await machineCeilings(executor.pool, environment, {
        cacheDir: options.cacheDir ?? defaultCacheDir(),
        refresh: options.refreshCeilings ?? false,
        binarySha256: executor.binarySha256 ?? '',
      });
      const { streamReadBytesPerSec, scoreTileFlopsPerSec, cached } = environment.ceilings;
      options.onProgress?.({ type: 'ceilings', streamReadBytesPerSec, scoreTileFlopsPerSec, cached });
    }
    publish();
    let sequence = 0;
    const total = c.contexts.length * c.phases.length;
    let index = 0;
    for (const L of c.contexts) {
      if (options.signal?.aborted) break;
      const { k, v } = source.keysValues(L);
      for (const phase of c.phases) {
        if (options.signal?.aborted) break;
        index += 1;
        const prepared = preparePhase(executor, source, c, L, phase, k, v, partitions);
        options.onProgress?.({ type: 'phase-start', index, total, context: L, phase, provenance: prepared.provenance });
        const measured = await measurePhase(prepared.phase, {
          phase,
          arms,
          warmup: c.warmup,
          reps: c.reps,
          minSampleMs: c.minSampleMs,
          signal: options.signal,
          nextSequence: () => sequence++,
          onSample: (arm, sample) => options.onProgress?.({ type: 'sample', context: L, phase, arm, sample }),
        });
        const cells = buildCells(measured, {
          context: L,
          phase,
          provenance: prepared.provenance,
          workScale: prepared.workScale,
          ceilings: environment.ceilings,
          maxForeignLoad: c.maxForeignLoad,
          headRanges: prepared.headRanges,
          headPatterns: phase === 'prefill' ? patterns : groupPatterns(patterns, c.numQueryHeads / c.numKvHeads),
          ...(phase === 'decode' ? { partitions } : {}),
        });
        result.cells.push(...cells.filter((cell) => cell.samples.length > 0));
        publish();
        options.onProgress?.({ type: 'phase-done', index, total, cells });
      }
    }
    result.run.status = options.signal?.aborted ? 'interrupted' : 'completed';
    if (options.signal?.aborted) result.run.reason = String(options.signal.reason ?? 'aborted');
  } catch (error) {
    result.run.status = 'failed';
    result.run.reason = error instanceof Error ? error.message : String(error);
    throw error;
  } finally {
    result.run.finishedAt = new Date().toISOString();
    publish();
    if (!options.executor) await executor.close();
  }
  return result;
}

function groupPatterns(patterns: string[] | undefined, group: number): string[] | undefined {
  if (!patterns) return undefined;
  const out: string[] = [];
  for (let i = 0; i < patterns.length; i += group) out.push(patterns.slice(i, i + group).join('+'));
  return out;
}

export interface Prepared {
  phase: PreparedPhase;
  provenance: Provenance;
  workScale: number;
  headRanges: [number, number][][];
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
): Prepared {
  const shape = { numQueryHeads: c.numQueryHeads, numKvHeads: c.numKvHeads, headDim: c.headDim };
  const d = c.headDim;
  if (phase === 'decode') {
    const group = c.numQueryHeads / c.numKvHeads;
    const q = source.decodeQuery(L);
    return {
      phase: executor.prepareDecode({ ...shape, kvLen: L, q, k, v }, { blockN: c.decodeBlockN, partitions }),
      provenance: { kind: 'measured' },
      workScale: 1,
      headRanges: Array.from({ length: c.numKvHeads }, (_, g) => [[g * group * d, (g + 1) * group * d]]),
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
  return {
    phase: executor.preparePrefill(
      { ...shape, seqLen: L, q, k, v, ...(sample.tiles ? { queryTiles: sample.tiles } : {}) },
      { blockM: c.blockM, blockN: c.blockN },
    ),
    provenance,
    workScale: sample.totalWork / sample.sampledWork,
    headRanges: Array.from({ length: c.numQueryHeads }, (_, h) => [[h * rows * d, (h + 1) * rows * d]]),
  };
}
