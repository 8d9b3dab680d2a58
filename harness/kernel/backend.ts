/**
 * Where a kernel run's phases come from. The runner (harness/kernel/runner.ts) owns the loop, the interleaved
 * measurement and the result; a backend owns the kernel: the CPU backend stages Q/K/V in this process for the
 * WebAssembly or reference kernel, the GPU backend (harness/gpu/backend.ts) asks a Python runner to.
 */
import type { Environment, KernelCell, KernelTarget, Phase, Provenance, ReferenceCheck } from '../../reports/schema.js';
import type { ArmOutput, PreparedPhase } from './executor.js';
import type { NeedleProbe } from './needle.js';

/** One (context, phase) ready to time. */
export interface Prepared<Output extends ArmOutput = ArmOutput> {
  phase: PreparedPhase<Output>;
  provenance: Provenance;
  /** Total / computed dense work (1 when computed in full). */
  workScale: number;
  /** Output ranges (in floats) of each decision head, for errors computed from outputs (CPU). */
  headRanges: [number, number][][];
  /** Decode split-KV partitions the kernel used. */
  partitions?: number;
  /** Sequences per call (GPU). */
  batch?: number;
  /** Reference checks of the arms (GPU). */
  referenceChecks?: ReferenceCheck[];
  /** Triton launch options of the kernel arms (GPU). */
  launch?: KernelCell['launch'];
  /** Needle recall from an arm's tile decisions (CPU, synthetic workloads with a retrieval head). */
  needle?: NeedleProbe;
  /** Frees what the phase holds; a rejection here ends the run. */
  release?(): Promise<void>;
}

/** A phase the backend could not prepare (e.g. a failed reference check): its arms get one failed sample each. */
export interface PrepareFailure {
  failed: { code: string; message: string };
}

export type CeilingsEvent =
  | { type: 'ceilings'; streamReadBytesPerSec: number; scoreTileFlopsPerSec: number; cached: boolean }
  | { type: 'gpu'; device: string; copyBytesPerSec: number; matmulFlopsPerSec: number };

export interface KernelBackend {
  /** The target fields the backend knows: implementation, threads, and binary or device. */
  readonly target: Pick<KernelTarget, 'implementation' | 'threads' | 'binarySha256' | 'device' | 'batch'>;
  /** Where Q/K/V come from. */
  readonly workload: KernelTarget['workload'];
  /** Decode split-KV partitions, resolved. */
  readonly partitions: number;
  /** Foreign CPU load (cores) above which a cell is flagged disturbed; Infinity when host load cannot skew the timer. */
  readonly maxForeignLoad: number;
  /** Measures (or reads cached) ceilings into the environment; once, before the first phase. */
  measureCeilings(environment: Environment, onEvent?: (event: CeilingsEvent) => void): Promise<void>;
  /** Prepares one phase; rejects only when the run cannot go on. */
  prepare(context: number, phase: Phase): Promise<Prepared | PrepareFailure>;
  close(): Promise<void>;
}
