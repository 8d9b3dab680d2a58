/**
 * The kernel target: for each context length and phase, get the phase prepared by the backend (CPU: Q/K/V staged in
 * this process; GPU: a Python runner), and measure dense against every skip arm (and the anchors, on the GPU). The
 * result grows cell by cell and is handed to `onResult` after each phase, so an interrupted run keeps everything it
 * measured.
 */
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
import { captureEnvironment } from '../environment.js';
import { createGpuBackend } from '../gpu/backend.js';
import { newRunId } from '../run-id.js';
import type { CeilingsEvent, KernelBackend, PrepareFailure } from './backend.js';
import { type ArmSpec, armsForPhase, armsOf, CPU_ONLY_FIELDS, GPU_ONLY_FIELDS, type KernelConfig } from './config.js';
import { createCpuBackend } from './cpu-backend.js';
import type { Executor } from './executor.js';
import { type ArmMeasurement, measurePhase } from './measure.js';
import { buildCells } from './summarize.js';

export { preparePhase, workloadSource } from './cpu-backend.js';
export type { Prepared } from './backend.js';

export type KernelProgress =
  | CeilingsEvent
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
  /** Injected for tests; defaults to the worker pool or the reference kernel per config.implementation (CPU backend). */
  executor?: Executor;
  /** Extra environment for the GPU runner process (tests select the fake runner's behaviour with it). */
  runnerEnv?: Record<string, string>;
}

/** The config as the result records it: without the fields the chosen backend ignores, partitions resolved. */
function recordedConfig(c: KernelConfig, partitions: number): Record<string, unknown> {
  const ignored: readonly string[] = c.backend === 'gpu' ? CPU_ONLY_FIELDS : GPU_ONLY_FIELDS;
  return Object.fromEntries(Object.entries({ ...c, partitions }).filter(([key]) => !ignored.includes(key)));
}

/** The arm records of the result: skip arms with their factors, anchors by what they are. */
function armRecords(arms: ArmSpec[]): KernelResultFile['arms'] {
  return arms.map((a) =>
    a.anchor ? { id: a.id, anchor: a.anchor } : { id: a.id, thresholdScaleFactor: a.thresholdScaleFactor },
  );
}

/** Every arm of a phase that could not be prepared gets one failed sample saying why. */
function failedArms(arms: ArmSpec[], failure: PrepareFailure, nextSequence: () => number): ArmMeasurement[] {
  return arms.map((a) => ({
    arm: a.id,
    samples: [{ status: 'failed', round: 0, sequence: nextSequence(), error: { ...failure.failed } }],
  }));
}

export async function runKernelBenchmark(
  config: KernelConfig,
  options: KernelRunOptions = {},
): Promise<KernelResultFile> {
  const c = { ...config };
  const backend: KernelBackend =
    c.backend === 'gpu'
      ? await createGpuBackend(c, { env: options.runnerEnv })
      : await createCpuBackend(c, {
          executor: options.executor,
          cacheDir: options.cacheDir,
          refreshCeilings: options.refreshCeilings,
        });
  const partitions = backend.partitions;
  const arms = armsOf(c);
  const patterns = backend.workload.headPatterns;
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
      config: recordedConfig(c, partitions),
    },
    environment,
    target: {
      kind: 'kernel',
      ...backend.target,
      shape: { numQueryHeads: c.numQueryHeads, numKvHeads: c.numKvHeads, headDim: c.headDim },
      workload: backend.workload,
      tiles: { prefill: { blockM: c.blockM, blockN: c.blockN }, decode: { blockN: c.decodeBlockN, partitions } },
    },
    arms: armRecords(arms),
    cells: [],
  };
  const publish = () => options.onResult?.(result);

  try {
    await backend.measureCeilings(environment, options.onProgress);
    publish();
    let sequence = 0;
    const nextSequence = () => sequence++;
    const total = c.contexts.length * c.phases.length;
    let index = 0;
    for (const L of c.contexts) {
      if (options.signal?.aborted) break;
      for (const phase of c.phases) {
        if (options.signal?.aborted) break;
        index += 1;
        const phaseArms = armsForPhase(arms, phase);
        const outcome = await backend.prepare(L, phase);
        const prepared = 'failed' in outcome ? undefined : outcome;
        const provenance: Provenance = prepared?.provenance ?? { kind: 'measured' };
        options.onProgress?.({ type: 'phase-start', index, total, context: L, phase, provenance });
        const onSample = (arm: string, sample: KernelSample) =>
          options.onProgress?.({ type: 'sample', context: L, phase, arm, sample });
        let measured: ArmMeasurement[];
        if (prepared) {
          measured = await measurePhase(prepared.phase, {
            phase,
            arms: phaseArms,
            warmup: c.warmup,
            reps: c.reps,
            minSampleMs: c.minSampleMs,
            signal: options.signal,
            nextSequence,
            onSample,
          });
        } else {
          measured = failedArms(phaseArms, outcome as PrepareFailure, nextSequence);
          for (const m of measured) onSample(m.arm, m.samples[0]);
        }
        const cells = buildCells(measured, {
          context: L,
          phase,
          provenance,
          workScale: prepared?.workScale ?? 1,
          ceilings: environment.gpuCeilings ?? environment.ceilings,
          maxForeignLoad: backend.maxForeignLoad,
          headRanges: prepared?.headRanges ?? [],
          headPatterns: phase === 'prefill' ? patterns : groupPatterns(patterns, c.numQueryHeads / c.numKvHeads),
          ...(prepared?.partitions !== undefined ? { partitions: prepared.partitions } : {}),
          ...(prepared?.batch !== undefined ? { batch: prepared.batch } : {}),
          ...(prepared?.referenceChecks ? { referenceChecks: prepared.referenceChecks } : {}),
          ...(prepared?.launch
            ? { launch: { options: prepared.launch, arms: phaseArms.filter((a) => !a.anchor).map((a) => a.id) } }
            : {}),
          ...(prepared?.needle ? { needle: prepared.needle } : {}),
        });
        result.cells.push(...cells.filter((cell) => cell.samples.length > 0));
        publish();
        options.onProgress?.({ type: 'phase-done', index, total, cells });
        await prepared?.release?.();
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
    await backend.close();
  }
  return result;
}

function groupPatterns(patterns: string[] | undefined, group: number): string[] | undefined {
  if (!patterns) return undefined;
  const out: string[] = [];
  for (let i = 0; i < patterns.length; i += group) out.push(patterns.slice(i, i + group).join('+'));
  return out;
}
