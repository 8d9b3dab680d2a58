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
  target: KernelTarget | ServerTarget;
  /** Every arm compared; the first is the baseline (dense). */
  arms: Arm[];
  /** One entry per (context, phase, arm), in the order measured. */
  cells: Cell[];
  /** Server prefill capacity runs (autocannon), when asked for. */
  capacity?: CapacityRecord[];
  /** Needle / passkey retrieval accuracy per (context, arm, depth), when asked for. */
  accuracy?: AccuracyRecord[];
}

/** Graded needle retrieval for one arm at one context and depth: the same prompts went to every arm. */
export interface AccuracyRecord {
  context: number;
  arm: string;
  /** 'passkey' (one key) or 'multikey' (all of several keys asked for). */
  task: 'passkey' | 'multikey';
  keys: number;
  /** Needle position in the haystack, 0 (start) .. 1 (end). */
  depth: number;
  n: number;
  exact: number;
  partial: number;
  wrong: number;
  empty: number;
  /** Requests that failed (counted in n; graded as nothing found). */
  failed: number;
  /** exact / n, with a Wilson 95% interval. */
  exactRate: number;
  exactRateCi: [number, number];
  /** Mean share of keys found per request. */
  meanScore: number;
  method: string;
}

/** Prefill capacity of one arm at one context: fixed connections, non-streaming max_tokens = 1 requests. */
export interface CapacityRecord {
  context: number;
  arm: string;
  connections: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationMs: number;
  /** Successful responses per second over the run. */
  requestsPerSecond: number;
  /** Whole-response latency (HDR histogram from autocannon, ms). */
  latencyMs: { mean: number; stddev: number; p50: number; p90: number; p99: number; max: number };
  method: string;
}

/** A result written by the kernel target: every cell is a kernel cell. */
export interface KernelResultFile extends ResultFile {
  target: KernelTarget;
  cells: KernelCell[];
}

/** A result written by the server target. */
export interface ServerResultFile extends ResultFile {
  target: ServerTarget;
  cells: ServerCell[];
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
  /** GPU ceilings measured by the GPU runner (GPU backend). */
  gpuCeilings?: GpuCeilings;
}

/** GPU ceilings for the roofline, measured by the GPU runner's `ceilings` op. */
export interface GpuCeilings {
  /** Device-to-device copy: bytes read + written per second. */
  copyBytesPerSec: number;
  /** bf16 GEMM (FLOP/s). */
  matmulFlopsPerSec: number;
  /** How both were measured, in words. */
  method: string;
}

/** Software versions the GPU runner reports. */
export interface GpuVersions {
  python: string;
  torch: string;
  triton: string;
  cuda: string;
  cudnn: string;
}

/** The GPU the runner measured on. */
export interface GpuDevice {
  name: string;
  /** CUDA compute capability, e.g. "9.0". */
  capability: string;
  multiprocessors: number;
  l2Bytes: number;
  memoryBytes: number;
  /** NVIDIA driver version. */
  driver: string;
}

/** A torch scaled_dot_product_attention backend timed beside the kernel's own arms (GPU backend). */
export type AnchorKind = 'sdpa-flash' | 'sdpa-cudnn';
export const ANCHOR_KINDS: readonly AnchorKind[] = ['sdpa-flash', 'sdpa-cudnn'];

/** One arm's output checked against a float32 reference (GPU backend). */
export interface ReferenceCheck {
  arm: string;
  /** ||arm - reference||_2 / ||reference||_2 over the checked rows. */
  relativeL2: number;
  tolerance: number;
  passed: boolean;
  /** Which rows were checked, in words. */
  rows: string;
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
  /** 'wasm-simd' (threaded), 'reference' (plain TypeScript, one thread) or 'triton-gpu' (GPU backend). */
  implementation: string;
  threads: number;
  /** sha256 of the compiled kernel, when WebAssembly. */
  binarySha256?: string;
  shape: { numQueryHeads: number; numKvHeads: number; headDim: number };
  /** Where Q/K/V came from. */
  workload: { description: string; headPatterns?: string[] };
  tiles: { prefill: { blockM: number; blockN: number }; decode: { blockN: number; partitions: number } };
  /** GPU backend: the device and the runner's software versions. */
  device?: GpuDevice & { versions: GpuVersions };
  /** GPU backend: decode sequences per call (prefill always runs one). */
  batch?: number;
}

export interface ServerTarget {
  kind: 'server';
  /** OpenAI-compatible endpoint used: /v1/completions or /v1/chat/completions. */
  endpoint: 'completions' | 'chat';
  /** The `model` field sent, when one was. */
  model?: string;
  /** Tokenizer used to build exact-length prompts. */
  tokenizer: string;
  /** Server software and version as reported by the server, when it says. */
  server?: string;
  /** How requests were sent, in words (e.g. "one request at a time, interleaved rounds"). */
  load: string;
}

export interface Arm {
  id: string;
  /** threshold_scale_factor per phase, when known; 0 = dense. */
  thresholdScaleFactor?: { prefill: number; decode: number };
  /** Server arms: where the arm's requests went (never with credentials) and how it was started, if it was. */
  endpoint?: { baseUrl: string; launch?: string };
  /**
   * A reference implementation timed beside the dense and skip arms (GPU backend: torch SDPA). Not a skip arm: its
   * speedup column is dense / anchor, and it takes no part in the skip verdicts, the inactive check or the gate.
   */
  anchor?: AnchorKind;
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
  /** Wall time of the dispatch (ms), all iterations; GPU backend: the sum of the calls' CUDA-event times. */
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
  /**
   * Skip arms of synthetic workloads, heads that look for the retrieval needle (prefill: a `retrieval` query head;
   * decode: a GQA group holding one): the needle's softmax mass under this arm's tile decisions versus dense.
   */
  needle?: NeedleRecall;
}

/** Needle recall of one decision head: the attention mass the needle key keeps with skipping, versus dense. */
export interface NeedleRecall {
  /** Position (token index) of the needle key. */
  position: number;
  /** Query rows checked (all after the needle). */
  rows: number;
  /** Mean over the rows of exp(s_needle - logsumexp of the row's causal scores): the dense softmax mass. */
  denseMass: number;
  /** The same with only the computed tiles' keys in the logsumexp; 0 for a row whose needle tile was skipped. */
  skipMass: number;
  /** skipMass / denseMass: 1 = the needle keeps its attention, 0 = lost; above 1 when skipped keys renormalise. */
  recall: number;
  /** Rows whose needle KV tile was skipped (the needle got no weight at all). */
  lostRows: number;
  /** Which rows were checked and how, in words. */
  method: string;
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

/** What every cell has, whichever target measured it. */
interface CellBase {
  context: number;
  phase: Phase;
  arm: string;
  provenance: Provenance;
  /**
   * The headline time per cell: the kernel's time for the phase, or the server's median TTFT (prefill) or TPOT
   * (decode). Speedups compare these between arms.
   */
  summary: TimeSummary;
  /** Versus the dense arm: median(dense) / median(this), and the per-round paired ratios. */
  speedup?: { baselineArm: string; ofMedians: number; pairedRatios: number[]; medianPairedRatio: number };
  /** Foreign load over the samples, weighted by wall time (cores), and whether it exceeded the run's limit. */
  foreignLoad: number;
  disturbed: boolean;
}

export interface KernelCell extends CellBase {
  kind: 'kernel';
  samples: KernelSample[];
  work: WorkSummary;
  heads: HeadRecord[];
  /** Versus the dense arm over all heads; absent for the dense arm. */
  error?: OutputError;
  /** Split-KV partitions (decode), reported beside sparsity because more partitions skip less. */
  partitions?: number;
  /** Sequences per call (GPU backend); counters and bytes cover all of them. */
  batch?: number;
  /** GPU backend: this arm's output against the float32 reference, checked once before timing. */
  referenceCheck?: ReferenceCheck;
  /** GPU backend: the Triton launch options the kernel arms ran with. */
  launch?: { numWarps: number; numStages: number; paired?: boolean; kernel?: 'triton' | 'gluon' | 'gluon-ws' };
}

/** One request to a server, as measured by the client (DESIGN §2); a failed request is a row too. */
export interface RequestSample {
  status: 'ok' | 'failed';
  /** Why it failed (http_status, timeout, connection, malformed, aborted, no_tokens, server_error). */
  reason?: string;
  message?: string;
  httpStatus?: number;
  round: number;
  sequence: number;
  /** Index of the request in the run's prepared request stream (the same index is sent to every arm). */
  request: number;
  /** Warmup requests are recorded but left out of every statistic. */
  warmup: boolean;
  /** Prompt tokens: the client's count, and the server's usage.prompt_tokens when reported. */
  promptTokensClient?: number;
  promptTokensServer?: number;
  outputTokens?: number;
  /** Where outputTokens came from: the server's usage, or counted token events. */
  outputTokensSource?: 'usage' | 'events';
  cachedTokens?: number;
  /** t_send and t_last relative to the start of the run (ms), for throughput over the run. */
  sendAtMs?: number;
  lastAtMs?: number;
  queueDelayMs?: number;
  ttftMs?: number;
  /** Open loop: t_first - t_sched (includes the queue delay). */
  ttftFromSchedMs?: number;
  e2elMs?: number;
  tpotMs?: number;
  itlMs?: number[];
  /** Timings the server reported itself (e.g. llama.cpp `timings`), verbatim. */
  serverTimings?: Record<string, unknown>;
  /** sha1 of the generated text: the same request giving the same text in every arm hints at a no-op skip arm. */
  outputSha1?: string;
}

/** Distribution of one latency (ms) over the successful, non-warmup requests. Percentiles interpolate linearly. */
export interface Distribution {
  n: number;
  mean: number;
  std: number;
  min: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export interface ServerMetrics {
  ttft: Distribution;
  tpot: Distribution;
  itl: Distribution;
  e2el: Distribution;
  queueDelay: Distribution;
  completed: number;
  failed: number;
  /** max(t_last) - min(t_send) over the non-warmup requests (ms). */
  durationMs: number;
  requestThroughput: number;
  outputThroughput: number;
  totalTokenThroughput: number;
}

export interface ServerCell extends CellBase {
  kind: 'server';
  /** Present for load runs: how requests arrived. Absent: one request at a time in paired rounds. */
  load?: { kind: 'closed'; concurrency: number } | { kind: 'open'; arrivals: string; rate: number; burstiness: number; maxConcurrency?: number };
  samples: RequestSample[];
  metrics: ServerMetrics;
  /** Mean and max of (server prompt tokens - client prompt tokens), when the server reports usage. */
  promptDrift?: { mean: number; max: number };
  /** Share of prompt tokens the server served from a prefix cache; a high share invalidates TTFT. */
  cachedTokenShare?: number;
  /** cachedTokenShare exceeded the run's limit: the prefix cache served this cell, its TTFT is not a prefill. */
  cacheFlagged?: boolean;
  /** Decode cells: inter-token latency by decode position (the KV length grows while decoding), median per bucket. */
  itlByPosition?: { position: number; medianMs: number; n: number }[];
}

export type Cell = KernelCell | ServerCell;
