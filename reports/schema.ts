/**
 * The one result schema every target writes (kernel now, server later) and every report and gate reads.
 * Versioned: readers check `schema` and `schemaVersion` and refuse what they do not know.
 *
 * Units: times in milliseconds, sizes in bytes, rates in FLOP/s and bytes/s, context lengths in tokens.
 * Every figure carries its provenance: measured, sampled (and how), or projected (and from what).
 */
import type { HeadCounters } from '../kernels/types.js';

export const RESULT_SCHEMA = 'skipbench/result';
export const RESULT_SCHEMA_VERSION = 1;

export type Phase = 'prefill' | 'decode';
export const PHASES: readonly Phase[] = ['prefill', 'decode'];

export type RunStatus = 'running' | 'completed' | 'interrupted' | 'failed';

export interface ResultFile {
  schema: typeof RESULT_SCHEMA;
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  run: RunInfo;
  environment: Environment;
  target: KernelTarget;
  /** Every arm compared; the first is the baseline (dense). */
  arms: Arm[];
  /** One entry per (context, phase, arm), in the order measured. */
  cells: Cell[];
}

export interface RunInfo {
  id: string;
  startedAt: string;
  finishedAt?: string;
  status: RunStatus;
  /** Why the run ended early, when it did. */
  reason?: string;
  /** argv as given (never secrets: those come from the environment and are not recorded). */
  command: string[];
  /** The resolved configuration the run used. */
  config: Record<string, unknown>;
}

export interface Environment {
  host: {
    hostname: string;
    platform: string;
    arch: string;
    osRelease: string;
    cpuModel: string;
    logicalCpus: number;
    totalMemoryBytes: number;
  };
  runtime: { node: string; v8: string };
  skipbench: string;
  /** Machine ceilings measured by the probe (harness/ceilings.ts). */
  ceilings?: Ceilings;
}

export interface Ceilings {
  /** Streaming read bandwidth with all threads (bytes/s). */
  streamReadBytesPerSec: number;
  /** The kernel's own q·k tile in cache, all threads (FLOP/s). */
  scoreTileFlopsPerSec: number;
  threads: number;
  measuredAt: string;
  /** How each ceiling was obtained, in words. */
  method: string;
  /** True when read from the cache instead of measured in this run. */
  cached: boolean;
}

export interface KernelTarget {
  kind: 'kernel';
  /** 'wasm-simd' (threaded) or 'reference' (plain TypeScript, one thread). */
  implementation: string;
  threads: number;
  /** sha256 of the compiled kernel, when WebAssembly. */
  binarySha256?: string;
  shape: { numQueryHeads: number; numKvHeads: number; headDim: number };
  /** Where Q/K/V came from. */
  workload: { description: string; headPatterns?: string[] };
  tiles: { prefill: { blockM: number; blockN: number }; decode: { blockN: number; partitions: number } };
}

export interface Arm {
  id: string;
  /** threshold_scale_factor per phase; 0 = dense. */
  thresholdScaleFactor: { prefill: number; decode: number };
}

/** How a cell's figures were obtained. */
export type Provenance =
  | { kind: 'measured' }
  | {
      kind: 'sampled';
      /** Query tiles computed per head, and of how many. */
      sampledTiles: number;
      totalTiles: number;
      /** Share of the dense causal work that the sample covers. */
      workFraction: number;
      /** How tiles were chosen and how totals are extrapolated, in words. */
      method: string;
    };

export interface KernelSampleOk {
  status: 'ok';
  /** Round of the interleaved A/B sequence this sample belongs to. */
  round: number;
  /** Position within the whole run's sequence of timed dispatches. */
  sequence: number;
  /** Wall time of the dispatch (ms), all iterations. */
  wallMs: number;
  iterations: number;
  /** wallMs / iterations (ms): the time of one kernel call over the computed work. */
  timeMs: number;
  /** Other processes' CPU use during the sample (cores). */
  foreignLoad: number;
}

export interface KernelSampleFailed {
  status: 'failed';
  round: number;
  sequence: number;
  error: { code: string; message: string };
}

export type KernelSample = KernelSampleOk | KernelSampleFailed;

export interface OutputError {
  /** ||skip - dense||_2 / ||dense||_2 over the computed rows. */
  relativeL2: number;
  /** max |skip - dense|. */
  maxAbs: number;
}

export interface HeadRecord {
  /** Prefill: query head index. Decode: KV head index (the GQA group decides together). */
  head: number;
  pattern?: string;
  counters: HeadCounters;
  sparsity: number;
  /** Versus the dense arm; absent for the dense arm itself. */
  error?: OutputError;
}

export interface TimeSummary {
  /** Successful samples. */
  n: number;
  failed: number;
  /** Median of timeMs (linear interpolation between order statistics). */
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Median absolute deviation of timeMs, not scaled. */
  madMs: number;
  /**
   * Estimated time of the whole phase (ms): equals medianMs when measured; when sampled, medianMs scaled by the
   * ratio of total to sampled dense work.
   */
  estimatedFullMs: number;
}

export interface WorkSummary {
  /** Over the computed work (the sample, when sampled). */
  flops: number;
  denseFlops: number;
  bytes: number;
  denseBytes: number;
  visitedTiles: number;
  skippedTiles: number;
  sparsity: number;
  /** flops / bytes (FLOP/byte). */
  arithmeticIntensity: number;
  /** Which roof applies at this intensity, from the measured ceilings. */
  bound: 'compute' | 'bandwidth' | 'unknown';
  /** denseFlops / median time: dense-equivalent FLOP/s (comparable across arms). */
  denseEquivalentFlopsPerSec: number;
  /** flops / median time: FLOP/s actually executed. */
  achievedFlopsPerSec: number;
  /** bytes / median time. */
  achievedBytesPerSec: number;
}

export interface Cell {
  context: number;
  phase: Phase;
  arm: string;
  provenance: Provenance;
  samples: KernelSample[];
  summary: TimeSummary;
  work: WorkSummary;
  heads: HeadRecord[];
  /** Versus the dense arm over all heads; absent for the dense arm. */
  error?: OutputError;
  /** Versus the dense arm: median(dense) / median(this), and the per-round paired ratios. */
  speedup?: { baselineArm: string; ofMedians: number; pairedRatios: number[]; medianPairedRatio: number };
  /** Foreign load over the samples, weighted by wall time (cores), and whether it exceeded the run's limit. */
  foreignLoad: number;
  disturbed: boolean;
  /** Split-KV partitions (decode), reported beside sparsity because more partitions skip less. */
  partitions?: number;
}
