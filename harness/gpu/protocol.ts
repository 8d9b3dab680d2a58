/**
 * The GPU runner protocol, version 1: what `harness/gpu/client.ts` sends to the Python runner
 * (`harness/gpu/runner.py`) and what it answers. One JSON object per line: requests on the runner's stdin, one
 * response per request on its stdout, in order. The runner writes nothing else to stdout (its logs go to stderr).
 *
 * Units: times in milliseconds, sizes in bytes, rates in bytes/s and FLOP/s, lengths in tokens.
 */
import type { HeadCounters } from '../../kernels/types.js';
import type {
  AnchorKind,
  GpuCeilings,
  GpuDevice,
  GpuVersions,
  OutputError,
  Phase,
  ReferenceCheck,
} from '../../reports/schema.js';

export { ANCHOR_KINDS } from '../../reports/schema.js';
export type { AnchorKind, GpuCeilings, GpuDevice, GpuVersions, ReferenceCheck };

export const GPU_PROTOCOL_VERSION = 1;

/** cuDNN's SDPA has no decode (one query row) path the runner supports: decode times only these anchors. */
export const DECODE_ANCHORS: readonly AnchorKind[] = ['sdpa-flash'];

/** Which component the runner found missing, when `hello` fails with SKB_GPU_UNAVAILABLE. */
export type MissingComponent = 'torch' | 'triton' | 'gpu';

export interface HelloResult {
  protocol: number;
  versions: GpuVersions;
  device: GpuDevice;
}

/** A skip or dense arm (factor: threshold_scale_factor, 0 = dense) or an SDPA anchor. */
export type GpuArm = { id: string; factor: number } | { id: string; anchor: AnchorKind };

export interface PrefillTilesParams {
  blockM: number;
  blockN: number;
  /** The prefill kernel; absent: the runner picks the fastest that supports the tiles (gluon-ws, gluon, triton). */
  kernel?: PrefillKernel;
}

export const PREFILL_KERNELS = ['triton', 'gluon', 'gluon-ws'] as const;
export type PrefillKernel = (typeof PREFILL_KERNELS)[number];

export interface DecodeTilesParams {
  blockN: number;
  partitions: number;
}

export interface PrepareParams {
  phase: Phase;
  context: number;
  /** Sequences: 1 for prefill, the decode batch for decode. */
  batch: number;
  shape: { numQueryHeads: number; numKvHeads: number; headDim: number };
  workload: { seed: number; headPatterns: string[] };
  tiles: PrefillTilesParams | DecodeTilesParams;
  arms: GpuArm[];
  /** Largest relative L2 error against the float32 reference that passes the check. */
  tolerance: number;
}

export interface PreparedArm {
  id: string;
  /** One per query head (prefill) or KV head (decode), summed over the batch. Anchors: the dense arm's work. */
  heads: HeadCounters[];
  /** Versus the dense arm; absent for dense. */
  error?: OutputError;
  /** The same per head. */
  headErrors?: OutputError[];
}

export interface PrepareResult {
  arms: PreparedArm[];
  referenceCheck: ReferenceCheck[];
  /** Split-KV partitions the decode kernel used, when it chose them. */
  partitions?: number;
  /** Triton launch options the kernel ran with (they change speed, never results). */
  launch?: KernelLaunch;
}

export interface KernelLaunch {
  numWarps: number;
  numStages: number;
  /** Decode: two KV tiles per iteration with predicated V loads. */
  paired?: boolean;
  /** Prefill: `gluon-ws` (warp-specialised, kernels/gpu/prefill_ws.py), `gluon` (hand-pipelined wgmma,
   * kernels/gpu/prefill_gluon.py) or `triton` (kernels/gpu/prefill.py). */
  kernel?: PrefillKernel;
}

export interface TimeParams {
  arm: string;
  iterations: number;
}

export interface TimeResult {
  /** One CUDA-event time per call (ms), L2 flushed before each call. */
  timesMs: number[];
}

/** Every op with its parameters and result. */
export interface GpuOps {
  hello: { params: Record<string, never>; result: HelloResult };
  ceilings: { params: Record<string, never>; result: GpuCeilings };
  prepare: { params: PrepareParams; result: PrepareResult };
  time: { params: TimeParams; result: TimeResult };
  release: { params: Record<string, never>; result: Record<string, never> };
  shutdown: { params: Record<string, never>; result: Record<string, never> };
}

export type GpuOp = keyof GpuOps;

export type GpuRequest<Op extends GpuOp = GpuOp> = { id: number; op: Op } & GpuOps[Op]['params'];

export interface GpuErrorBody {
  /** SKB_GPU_UNAVAILABLE, SKB_GPU_CHECK_FAILED, ... */
  code: string;
  message: string;
  missing?: MissingComponent;
}

export type GpuResponse<Op extends GpuOp = GpuOp> =
  | { id: number; ok: true; result: GpuOps[Op]['result'] }
  | { id: number; ok: false; error: GpuErrorBody };
