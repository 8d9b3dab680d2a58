/**
 * `skipbench calibrate`: for each phase and context, one kernel run records every tile's skip margin; the lambda that
 * gives each target sparsity is read off exactly (fit.ts), lambda = a / L is fitted across contexts, and
 * factor = a0 * exp(b * s) across targets. Then the fitted factor is run for real at every context, so the
 * realized sparsity and the output error beside it are measured, not predicted.
 */
import { addCounters, emptyCounters, sparsity } from '../../kernels/tiling.js';
import type { HeadCounters } from '../../kernels/types.js';
import { formatTokens } from '../../reports/format.js';
import type { Phase } from '../../reports/schema.js';
import type { QkvSource } from '../../workloads/index.js';
import type { KernelConfig } from '../kernel/config.js';
import { resolvePartitions } from '../kernel/config.js';
import { preparePhase, workloadSource } from '../kernel/cpu-backend.js';
import { createWasmExecutor } from '../kernel/executor.js';
import { outputError } from '../kernel/summarize.js';
import { fitExponential, fitScaleFactor, lambdaForSparsity, sparsityAt, type TileMargins, tileMargins } from './fit.js';

/** NVIDIA: ~50% sparsity near-lossless, sharp accuracy drops past 60%. */
export const SAFE_SPARSITY = 0.6;

/** The calibration goal: the fitted factor's sparsity within 3 points of the target at every context. A miss beyond
 * it is warned about. */
export const TARGET_TOLERANCE = 0.03;

/**
 * Decode sequences pooled at the longest context. A decode step has one query row per head, so one sequence's tile
 * margins are a small, noisy sample: on the default workload (generator version 1) the lambda giving 50% at 128K
 * ranged over 2.2x between seeds 1-4, and pooling 8 sequences (seeds s..s+7) took the worst miss at a 30% target from
 * 12.0 to 4.7 points (4K-128K). On version 2, 8 sequences at 128K (more at shorter contexts) still missed by up to
 * 3.1 points at seeds 2 and 3; 16 held every target within 2.6 at seeds 1-3 (`skipbench calibrate --seed N`,
 * README). Prefill has L rows per head and needs no pooling.
 */
export const DECODE_SEQUENCES = 16;

/**
 * Decode sequences pooled per context: `atLongest` at the longest, proportionally more at shorter ones, so that every
 * context pools about as many tiles. A 4K step has 1/32 of a 128K step's tiles; with 8 sequences everywhere, the
 * worst miss at 50% was 4.8 points instead of 2.1 (docs/experiments/decode-drift.mjs --v1-pooling). Each context then
 * costs about what the longest does. Pure.
 */
export function decodeSequenceCounts(contexts: readonly number[], atLongest: number): number[] {
  const longest = Math.max(...contexts);
  return contexts.map((L) => Math.ceil((atLongest * longest) / L));
}

export interface CalibrationOptions {
  /** Decode sequences pooled at the longest context (seeds seed..seed+n-1; more at shorter contexts, see
   * decodeSequenceCounts); 1 for captured Q/K/V. Default DECODE_SEQUENCES. */
  decodeSequences?: number;
  onProgress?: (line: string) => void;
}

export interface CalibrationPoint {
  context: number;
  /** The lambda that gives the target at this context. */
  lambda: number;
  /** Sparsity predicted from the margins at the fitted factor (a / L). */
  predicted: number;
  /** Sparsity measured by running the kernel at the fitted factor. */
  measured: number;
  /** Relative L2 error of that run's output against dense (decode: the mean over the pooled sequences). */
  relativeError: number;
  /** The measured sparsity of each decision unit (PhaseCalibration.units), in order: which heads drive a miss. */
  byUnit: number[];
}

export interface PhaseCalibration {
  phase: Phase;
  targets: { target: number; factor: number; points: CalibrationPoint[]; maxDeviation: number }[];
  /** factor = a * exp(b * s); absent with a single target. */
  exponential?: { a: number; b: number };
  warnings: string[];
  /** What each decision unit is: prefill decides per query head, decode per GQA group (one KV head and its query
   * heads); with the synthetic head mix, the pattern of each query head. */
  units: string[];
}

export interface CalibrationResult {
  schema: 'skipbench/calibration';
  schemaVersion: 2;
  workload: string;
  shape: { numQueryHeads: number; numKvHeads: number; headDim: number };
  tiles: { prefill: { blockM: number; blockN: number }; decode: { blockN: number; partitions: number } };
  contexts: number[];
  /** Sequences whose margins were pooled at each context (in `contexts` order), per phase. */
  sequences: { prefill: number[]; decode: number[] };
  phases: PhaseCalibration[];
  method: string;
}

export const CALIBRATION_METHOD =
  'one run per (phase, context, sequence) records each visited tile margin max_rows(local_max - running_max), the ' +
  'sequences of a context pooled (decode: several seeds; prefill: one); sparsity(lambda) = ' +
  'share of visited tiles with margin < ln(lambda), so the target lambda is read exactly from the sorted margins; ' +
  'lambda = a / L with a minimising the worst |sparsity - target| over the contexts (exact from the margins); ' +
  'factor = a0 exp(b s) fitted on ln(factor); the fitted factor ' +
  'is then run for real (measured sparsity, output error vs dense)';

export async function runCalibration(
  config: KernelConfig,
  targets: number[],
  options: CalibrationOptions = {},
): Promise<CalibrationResult> {
  const c = { ...config };
  const { onProgress } = options;
  const executor = await createWasmExecutor(c.threads, c.wasmVariant);
  const partitions = resolvePartitions({ ...c, threads: executor.threads });
  const { source, patterns } = workloadSource(c);
  // captured Q/K/V are one sequence; synthetic ones are regenerated per seed
  const sequences = {
    prefill: c.contexts.map(() => 1),
    decode: c.qkvDir
      ? c.contexts.map(() => 1)
      : decodeSequenceCounts(c.contexts, options.decodeSequences ?? DECODE_SEQUENCES),
  };
  const sequenceSources = (count: number) =>
    Array.from({ length: count }, (_, b) =>
      b === 0 ? source : workloadSource({ ...c, seed: (c.seed + b) % 2 ** 32 }).source,
    );
  const phases: PhaseCalibration[] = [];
  try {
    for (const phase of c.phases) {
      const lambdas = new Map<number, { context: number; lambda: number }[]>();
      // the first sequence's K/V are kept for the measuring pass (as many as a single-sequence run holds); the
      // other sequences' are regenerated there rather than held (16 x 268 MB at 128K)
      const prepared: {
        L: number;
        sources: QkvSource[];
        margins: TileMargins;
        first: { k: Float32Array; v: Float32Array };
      }[] = [];
      for (const [i, L] of c.contexts.entries()) {
        const sources = sequenceSources(sequences[phase][i]);
        const parts: Float64Array[] = [];
        let first: { k: Float32Array; v: Float32Array } | undefined;
        for (const s of sources) {
          const { k, v } = s.keysValues(L);
          first ??= { k, v };
          parts.push(await preparePhase(executor, s, c, L, phase, k, v, partitions).phase.margins!());
        }
        const margins = tileMargins(concatenate(parts));
        prepared.push({ L, sources, margins, first: first! });
        for (const target of targets) {
          const list = lambdas.get(target) ?? [];
          list.push({ context: L, lambda: lambdaForSparsity(margins, target) });
          lambdas.set(target, list);
        }
        onProgress?.(
          `${phase} ${L}: ${margins.visited} tiles over ${sources.length} sequence(s), ${margins.sorted.length} skippable at some factor`,
        );
      }
      const perTarget = targets.map((target) => {
        const { factor } = fitScaleFactor(
          prepared.map(({ L, margins }) => ({ length: L, margins })),
          target,
        );
        return { target, factor };
      });
      // the factors fit all contexts at once, so each context is staged again to measure them
      const measured = new Map<string, { measured: number; relativeError: number; byUnit: number[] }>();
      for (const { L, sources, first } of prepared) {
        const totals = perTarget.map(() => ({ counters: emptyCounters(), units: [] as HeadCounters[], error: 0 }));
        for (const [b, s] of sources.entries()) {
          const { k, v } = b === 0 ? first : s.keysValues(L);
          const p = preparePhase(executor, s, c, L, phase, k, v, partitions);
          await p.phase.run(0, 1);
          const dense = p.phase.collect();
          for (const [i, { factor }] of perTarget.entries()) {
            await p.phase.run(factor, 1);
            const out = p.phase.collect();
            totals[i].counters = out.heads.reduce((acc, h) => addCounters(acc, h), totals[i].counters);
            for (const [u, h] of out.heads.entries()) {
              totals[i].units[u] = addCounters(totals[i].units[u] ?? emptyCounters(), h);
            }
            totals[i].error += outputError(out.out, dense.out, p.headRanges.flat()).relativeL2 / sources.length;
          }
        }
        for (const [i, { target }] of perTarget.entries()) {
          measured.set(`${target}|${L}`, {
            measured: sparsity(totals[i].counters),
            relativeError: totals[i].error,
            byUnit: totals[i].units.map(sparsity),
          });
        }
        onProgress?.(`${phase} ${L}: fitted factors measured`);
      }
      const warnings: string[] = [];
      const units = decisionUnits(phase, c.numQueryHeads, c.numKvHeads, patterns);
      const targetRows = perTarget.map(({ target, factor }) => {
        const points = prepared.map(({ L, margins }) => {
          const m = measured.get(`${target}|${L}`)!;
          return {
            context: L,
            lambda: lambdas.get(target)!.find((x) => x.context === L)!.lambda,
            predicted: sparsityAt(margins, factor / L),
            measured: m.measured,
            relativeError: m.relativeError,
            byUnit: m.byUnit,
          };
        });
        const maxDeviation = Math.max(...points.map((p) => Math.abs(p.measured - target)));
        if (target > SAFE_SPARSITY || points.some((p) => p.measured > SAFE_SPARSITY)) {
          warnings.push(
            `${phase} target ${target}: sparsity above ${SAFE_SPARSITY * 100}% (measured up to ` +
              `${(Math.max(...points.map((p) => p.measured)) * 100).toFixed(1)}%): published results show sharp accuracy drops past 60%`,
          );
        }
        if (maxDeviation > TARGET_TOLERANCE) warnings.push(driftWarning(phase, target, points, units));
        return { target, factor, points, maxDeviation };
      });
      const usable = perTarget.filter((t) => t.factor > 0 && Number.isFinite(t.factor));
      phases.push({
        phase,
        targets: targetRows,
        ...(new Set(usable.map((t) => t.target)).size >= 2
          ? { exponential: fitExponential(usable.map((t) => ({ sparsity: t.target, factor: t.factor }))) }
          : {}),
        warnings,
        units,
      });
    }
  } finally {
    await executor.close();
  }
  return {
    schema: 'skipbench/calibration',
    schemaVersion: 2,
    workload: source.description,
    shape: { numQueryHeads: c.numQueryHeads, numKvHeads: c.numKvHeads, headDim: c.headDim },
    tiles: { prefill: { blockM: c.blockM, blockN: c.blockN }, decode: { blockN: c.decodeBlockN, partitions } },
    contexts: c.contexts,
    sequences,
    phases,
    method: CALIBRATION_METHOD,
  };
}

/**
 * The warning for a target that one factor cannot hold across the contexts: how far it misses, and the decision unit
 * whose sparsity moves most with the context (the one to look at, e.g. a head pattern whose sparsity grows with L).
 * Pure.
 */
export function driftWarning(
  phase: Phase,
  target: number,
  points: readonly Pick<CalibrationPoint, 'context' | 'measured' | 'byUnit'>[],
  units: readonly string[],
): string {
  const percent = (x: number) => `${(100 * x).toFixed(1)}%`;
  const spread = (u: number) => {
    const values = points.map((p) => p.byUnit[u]);
    return Math.max(...values) - Math.min(...values);
  };
  const widest = units.map((_, u) => u).reduce((a, b) => (spread(b) > spread(a) ? b : a), 0);
  const along = (values: number[]) =>
    points.map((p, i) => `${percent(values[i])} at ${formatTokens(p.context)}`).join(', ');
  const worst = Math.max(...points.map((p) => Math.abs(p.measured - target)));
  return (
    `${phase} target ${target}: one factor misses it by up to ${(100 * worst).toFixed(1)} points ` +
    `(${along(points.map((p) => p.measured))}); lambda = factor / L does not hold the sparsity across these ` +
    `contexts on this workload. Moving most: ${units[widest]} (${along(points.map((p) => p.byUnit[widest]))})`
  );
}

/** Names of the decision units: `head 3 (local)` per query head in prefill, `KV head 0 (sink, sink, local, local)`
 * per GQA group in decode (the patterns only for the synthetic mix). Pure. */
export function decisionUnits(phase: Phase, hq: number, hkv: number, patterns?: readonly string[]): string[] {
  const kinds = (from: number, to: number) => (patterns ? ` (${patterns.slice(from, to).join(', ')})` : '');
  if (phase === 'prefill') return Array.from({ length: hq }, (_, h) => `head ${h}${kinds(h, h + 1)}`);
  const group = hq / hkv;
  return Array.from({ length: hkv }, (_, g) => `KV head ${g}${kinds(g * group, (g + 1) * group)}`);
}

/** One array of the parts, in order (the only part itself when there is one: a 128K prefill has ~10^7 margins). */
function concatenate(parts: Float64Array[]): Float64Array {
  if (parts.length === 1) return parts[0];
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
