/**
 * Defaults of the GPU backend (`skipbench kernel --backend gpu`), in one place. They replace the CPU defaults
 * (harness/kernel/defaults.ts) for every field the user did not set: a GPU is fast enough for long contexts and a
 * realistic shape (Llama-3-8B-like: 32 query heads, 8 KV heads), and CUDA-event times are precise enough for one call
 * per sample. Tiles, partitions and batch were chosen by the sweeps in docs/gpu-results.md (H100): 64x128 prefill
 * tiles run the warp-specialised Gluon kernel, the fastest dense twin and skip; one split-KV partition keeps the sink tile in every partition's running max (16
 * partitions skipped under 3% of the tiles), and batch 32 fills the GPU without splits. The three skip arms land near
 * 30%, 50% and 70% tile sparsity on the default head mix in each phase.
 */
import type { Phase } from '../../reports/schema.js';
import { DEFAULT_HEAD_MIX } from '../../workloads/index.js';
import type { AnchorKind, PrefillKernel } from './protocol.js';

export type PrefillKernelChoice = 'auto' | PrefillKernel;

/** The default head mix four times over: 32 heads, 8 GQA groups of 4 alike the CPU default's two groups. */
export const GPU_HEAD_MIX = Array.from({ length: 4 }, () => DEFAULT_HEAD_MIX).join(',');

export const GPU_DEFAULTS = {
  contexts: [32768, 65536, 131072],
  phases: ['prefill', 'decode'] as Phase[],
  prefillFactors: [25, 80, 500],
  decodeFactors: [25, 80, 250],
  numQueryHeads: 32,
  numKvHeads: 8,
  headDim: 128 as const,
  headMix: GPU_HEAD_MIX,
  blockM: 64,
  blockN: 128,
  decodeBlockN: 64,
  partitions: 1 as number | 'auto',
  warmup: 2,
  reps: 15,
  /** One kernel call per sample: each is timed with CUDA events. */
  minSampleMs: 0,
} as const;

/** Fields only the GPU backend reads; the CPU backend ignores them. */
export const GPU_ONLY_DEFAULTS = {
  python: 'python3',
  /** Decode sequences per call; prefill always runs one sequence. */
  batch: 32,
  anchors: ['sdpa-flash', 'sdpa-cudnn'] as AnchorKind[],
  /** Largest relative L2 error of an arm against the float32 reference that passes the check. */
  tolerance: 2e-2,
  /** The runner's choice: the fastest prefill kernel that supports the tiles. */
  prefillKernel: 'auto' as PrefillKernelChoice,
} as const;

/** How long the runner may take to answer each op (ms) before it is stopped. */
export const GPU_TIMEOUTS_MS = {
  /** Importing torch and initialising CUDA. */
  hello: 180_000,
  ceilings: 300_000,
  /** Generating Q/K/V, one call of every arm and the float32 reference check, at 128K. */
  prepare: 1_800_000,
  /** Per timed call, on top of `timeBase`. */
  timePerCall: 30_000,
  timeBase: 60_000,
  release: 60_000,
} as const;
