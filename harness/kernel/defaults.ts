/**
 * Defaults of the kernel benchmark, in one place. `npm run bench` runs exactly these.
 *
 * The default skip factors sit near what `skipbench calibrate` finds for 50% tile sparsity on the default head mix
 * (workloads DEFAULT_HEAD_MIX, generator version 2): prefill 90, decode 72. The run reports the sparsity it measured,
 * so a drift shows up in the output rather than hiding behind this constant; one decode sequence per context
 * scatters around the calibrated value (31-69% at factor 75 from 1K to 128K, seed 1: README, "Measured on the
 * development machine").
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_DECODE_TILES, DEFAULT_PREFILL_TILES } from '../../kernels/types.js';
import type { Phase } from '../../reports/schema.js';
import { DEFAULT_HEAD_MIX } from '../../workloads/index.js';
import { GPU_ONLY_DEFAULTS } from '../gpu/defaults.js';

export const KERNEL_DEFAULTS = {
  /** cpu: the built-in WebAssembly (or reference) kernel; gpu: Triton kernels through the Python runner. */
  backend: 'cpu' as 'cpu' | 'gpu',
  contexts: [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072],
  phases: ['prefill', 'decode'] as Phase[],
  prefillFactors: [100],
  decodeFactors: [75],
  numQueryHeads: 8,
  numKvHeads: 2,
  headDim: 128 as const,
  headMix: DEFAULT_HEAD_MIX,
  seed: 1,
  blockM: DEFAULT_PREFILL_TILES.blockM,
  blockN: DEFAULT_PREFILL_TILES.blockN,
  decodeBlockN: DEFAULT_DECODE_TILES.blockN,
  /** 'auto': enough split-KV partitions to give every thread work (ceil(threads / KV heads)). */
  partitions: 'auto' as number | 'auto',
  /** Prefill runs every query tile up to this context; longer contexts compute a stratified sample of tiles. */
  fullPrefillMax: 4096,
  /** Dense causal FLOPs per head that a sampled prefill computes per call (sets the number of sampled tiles). */
  prefillSampleFlops: 1e10,
  warmup: 1,
  reps: 5,
  /** Each timed sample repeats the kernel until it lasts at least this long (ms), so timer and dispatch noise stay small. */
  minSampleMs: 30,
  threads: availableParallelism(),
  implementation: 'wasm' as 'wasm' | 'reference',
  /** Which WebAssembly build: relaxed-simd (fused multiply-add) when the engine has it, else simd. */
  wasmVariant: 'auto' as 'auto' | 'simd' | 'relaxed-simd',
  /** Foreign CPU load (cores) above which a sample counts as disturbed. */
  maxForeignLoad: 0.25,
  outDir: 'results',
  /** Read by the GPU backend only; its other defaults (harness/gpu/defaults.ts) replace these when it is chosen. */
  ...GPU_ONLY_DEFAULTS,
} as const;
