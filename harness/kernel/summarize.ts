/**
 * Turns an arm's raw samples, counters and outputs into a result cell: time summary, work and roofline figures,
 * error versus dense, and paired speedups. Pure: no timing, no I/O.
 */
import { addCounters, emptyCounters, sparsity } from '../../kernels/tiling.js';
import type {
  Ceilings,
  GpuCeilings,
  KernelCell,
  HeadRecord,
  KernelSample,
  KernelSampleOk,
  OutputError,
  Phase,
  Provenance,
  ReferenceCheck,
  TimeSummary,
  WorkSummary,
} from '../../reports/schema.js';
import { mad, median } from '../../reports/stats.js';
import { boundAt } from '../ceilings.js';
import type { ArmOutput } from './executor.js';
import type { ArmMeasurement } from './measure.js';
import type { NeedleProbe } from './needle.js';

export function okSamples(samples: readonly KernelSample[]): KernelSampleOk[] {
  return samples.filter((s): s is KernelSampleOk => s.status === 'ok');
}

export function summarizeTimes(samples: readonly KernelSample[], workScale: number): TimeSummary {
  const times = okSamples(samples).map((s) => s.timeMs);
  const m = times.length ? median(times) : Number.NaN;
  return {
    n: times.length,
    failed: samples.length - times.length,
    medianMs: m,
    minMs: times.length ? Math.min(...times) : Number.NaN,
    maxMs: times.length ? Math.max(...times) : Number.NaN,
    madMs: times.length ? mad(times) : Number.NaN,
    estimatedFullMs: m * workScale,
  };
}

/** Relative L2 and max-abs difference of `actual` against `expected` over [from, to). */
export function outputError(actual: Float32Array, expected: Float32Array, ranges: [number, number][]): OutputError {
  let diff = 0;
  let norm = 0;
  let maxAbs = 0;
  for (const [from, to] of ranges) {
    for (let i = from; i < to; i++) {
      const e = actual[i] - expected[i];
      diff += e * e;
      norm += expected[i] * expected[i];
      maxAbs = Math.max(maxAbs, Math.abs(e));
    }
  }
  return { relativeL2: norm > 0 ? Math.sqrt(diff / norm) : Math.sqrt(diff), maxAbs };
}

/**
 * Foreign load over all of a cell's samples, weighted by wall time (total foreign CPU time / total wall time). The OS
 * counts CPU time in 10 ms ticks, so a single 30 ms sample can be off by a third of a core; the cell total is not.
 */
export function foreignLoadOf(samples: readonly KernelSampleOk[]): number {
  const wall = samples.reduce((sum, s) => sum + s.wallMs, 0);
  return wall > 0 ? samples.reduce((sum, s) => sum + s.foreignLoad * s.wallMs, 0) / wall : 0;
}

export interface CellContext {
  context: number;
  phase: Phase;
  provenance: Provenance;
  /** Total / sampled dense work (1 when measured in full). */
  workScale: number;
  /** The roof for the bound: the CPU probe's or the GPU runner's ceilings. */
  ceilings?: Ceilings | GpuCeilings;
  /** Foreign CPU load (cores) above which a cell is disturbed; Infinity where host load cannot skew the timer. */
  maxForeignLoad: number;
  /** Output ranges (in floats) belonging to each decision head (unused when the backend computed the errors). */
  headRanges: [number, number][][];
  headPatterns?: string[];
  partitions?: number;
  /** Sequences per call (GPU backend). */
  batch?: number;
  /** Reference checks of the phase's arms (GPU backend), matched to cells by arm. */
  referenceChecks?: ReferenceCheck[];
  /** Triton launch options (GPU backend), recorded on the cells of these kernel arms (anchors ran torch SDPA). */
  launch?: { options: NonNullable<KernelCell['launch']>; arms: string[] };
  /** Needle recall per decision head from a skip arm's tile decisions (synthetic workloads on the CPU). */
  needle?: NeedleProbe;
}

/** An arm's error versus dense, over all heads and per head: as the backend computed it, or from the two outputs. */
function errorsVersusDense(
  output: ArmOutput | undefined,
  dense: ArmOutput | undefined,
  headRanges: [number, number][][],
): { total?: OutputError; heads?: (OutputError | undefined)[] } {
  if (!output) return {};
  if (output.error || output.headErrors) return { total: output.error, heads: output.headErrors };
  if (!output.out || !dense?.out) return {};
  const [out, expected] = [output.out, dense.out];
  return {
    total: outputError(out, expected, headRanges.flat()),
    heads: headRanges.map((ranges) => outputError(out, expected, ranges)),
  };
}

export function buildCells(measured: ArmMeasurement[], ctx: CellContext): KernelCell[] {
  const dense = measured[0];
  const denseTimes = new Map(okSamples(dense.samples).map((s) => [s.round, s.timeMs]));
  return measured.map((m, index) => {
    const summary = summarizeTimes(m.samples, ctx.workScale);
    const counters = m.output?.heads ?? [];
    const total = counters.reduce((acc, c) => addCounters(acc, c), emptyCounters());
    const isBaseline = index === 0;
    const errors = isBaseline ? {} : errorsVersusDense(m.output, dense.output, ctx.headRanges);
    const needles = !isBaseline && m.output?.decisions && ctx.needle ? ctx.needle(m.output.decisions) : [];
    const heads: HeadRecord[] = counters.map((c, head) => {
      const error = errors.heads?.[head];
      const needle = needles[head];
      return {
        head,
        ...(ctx.headPatterns ? { pattern: ctx.headPatterns[head] } : {}),
        counters: c,
        sparsity: sparsity(c),
        ...(error ? { error } : {}),
        ...(needle ? { needle } : {}),
      };
    });
    const seconds = summary.medianMs / 1000;
    const intensity = total.bytes > 0 ? total.flops / total.bytes : Number.NaN;
    const work: WorkSummary = {
      flops: total.flops,
      denseFlops: total.denseFlops,
      bytes: total.bytes,
      denseBytes: total.denseBytes,
      visitedTiles: total.visitedTiles,
      skippedTiles: total.skippedTiles,
      sparsity: sparsity(total),
      arithmeticIntensity: intensity,
      bound: boundAt(intensity, ctx.ceilings),
      denseEquivalentFlopsPerSec: total.denseFlops / seconds,
      achievedFlopsPerSec: total.flops / seconds,
      achievedBytesPerSec: total.bytes / seconds,
    };
    const load = foreignLoadOf(okSamples(m.samples));
    const cell: KernelCell = {
      kind: 'kernel',
      context: ctx.context,
      phase: ctx.phase,
      arm: m.arm,
      provenance: ctx.provenance,
      samples: m.samples,
      summary,
      work,
      heads,
      foreignLoad: load,
      disturbed: load > ctx.maxForeignLoad,
      ...(ctx.partitions !== undefined ? { partitions: ctx.partitions } : {}),
      ...(ctx.batch !== undefined ? { batch: ctx.batch } : {}),
    };
    const check = ctx.referenceChecks?.find((r) => r.arm === m.arm);
    if (check) cell.referenceCheck = check;
    if (ctx.launch?.arms.includes(m.arm)) cell.launch = ctx.launch.options;
    if (errors.total) cell.error = errors.total;
    if (!isBaseline) {
      const paired = okSamples(m.samples)
        .filter((s) => denseTimes.has(s.round))
        .map((s) => denseTimes.get(s.round)! / s.timeMs);
      const denseMedian = median(okSamples(dense.samples).map((s) => s.timeMs));
      cell.speedup = {
        baselineArm: dense.arm,
        ofMedians: denseMedian / summary.medianMs,
        pairedRatios: paired,
        medianPairedRatio: paired.length ? median(paired) : Number.NaN,
      };
    }
    return cell;
  });
}
