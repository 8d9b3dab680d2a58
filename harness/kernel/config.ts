/**
 * Kernel benchmark configuration: what a user may set (KernelUserConfig), resolved against the defaults and
 * validated before anything is generated or timed (KernelConfig). Errors name the field and the allowed range.
 */
import { ErrorCodes, invalid } from '../../kernels/errors.js';
import { type HeadDim, SUPPORTED_HEAD_DIMS } from '../../kernels/types.js';
import { checkShape, PARTITION_LIMITS, TILE_LIMITS } from '../../kernels/validate.js';
import { ANCHOR_KINDS, type AnchorKind, PHASES, type Phase } from '../../reports/schema.js';
import { parseHeadMix } from '../../workloads/index.js';
import { WASM_VARIANTS, type WasmVariantChoice } from '../cpu/wasm-module.js';
import { GPU_DEFAULTS, type PrefillKernelChoice } from '../gpu/defaults.js';
import { DECODE_ANCHORS, PREFILL_KERNELS } from '../gpu/protocol.js';
import { KERNEL_DEFAULTS } from './defaults.js';

export type Implementation = 'wasm' | 'reference';
export const IMPLEMENTATIONS: readonly Implementation[] = ['wasm', 'reference'];

export type Backend = 'cpu' | 'gpu';
export const BACKENDS: readonly Backend[] = ['cpu', 'gpu'];

/** Longest context accepted: 128K is the design target; 256K leaves headroom and still fits wasm32 memory. */
export const MAX_CONTEXT = 262144;

export interface KernelConfig {
  /** cpu: the built-in kernel in this process; gpu: Triton kernels in a Python runner (harness/gpu). */
  backend: Backend;
  contexts: number[];
  phases: Phase[];
  /** Skip arms: arm i uses prefillFactors[i] and decodeFactors[i] (a single value applies to every arm). */
  prefillFactors: number[];
  decodeFactors: number[];
  numQueryHeads: number;
  numKvHeads: number;
  headDim: HeadDim;
  headMix: string;
  seed: number;
  /** Captured Q/K/V (.npy) folder; replaces the synthetic head mix. */
  qkvDir?: string;
  blockM: number;
  blockN: number;
  decodeBlockN: number;
  partitions: number | 'auto';
  fullPrefillMax: number;
  prefillSampleFlops: number;
  warmup: number;
  reps: number;
  minSampleMs: number;
  threads: number;
  implementation: Implementation;
  wasmVariant: WasmVariantChoice;
  maxForeignLoad: number;
  outDir: string;
  /** GPU backend: the Python interpreter that runs the runner. */
  python: string;
  /** GPU backend: the runner script; default the bundled harness/gpu/runner.py. */
  gpuRunner?: string;
  /** GPU backend: decode sequences per call (prefill always runs one). */
  batch: number;
  /** GPU backend: torch SDPA backends timed beside dense and skip (decode times sdpa-flash only). */
  anchors: AnchorKind[];
  /** GPU backend: largest relative L2 error against the float32 reference that passes the check. */
  tolerance: number;
  /** GPU backend: the prefill kernel (kernels/gpu/prefill_ws.py, prefill_gluon.py, prefill.py); auto lets the runner
   * pick the fastest that supports the tiles. */
  prefillKernel: PrefillKernelChoice;
}

/** Config fields only one backend reads; the other ignores them (and the result does not record them). */
export const CPU_ONLY_FIELDS = [
  'threads',
  'implementation',
  'wasmVariant',
  'fullPrefillMax',
  'prefillSampleFlops',
] as const;
export const GPU_ONLY_FIELDS = ['python', 'gpuRunner', 'batch', 'anchors', 'tolerance', 'prefillKernel'] as const;

/** Every field optional; a new KernelConfig field must be added here too (the mapped type keeps them in step). */
export type KernelUserConfig = { [K in keyof KernelConfig]?: KernelConfig[K] };

function check(ok: boolean, field: string, allowed: string, received: unknown): void {
  if (!ok) throw invalid(ErrorCodes.CONFIG, field, allowed, received);
}

function integerIn(field: string, value: number, min: number, max: number): void {
  check(Number.isInteger(value) && value >= min && value <= max, field, `an integer in [${min}, ${max}]`, value);
}

function factors(field: string, values: number[]): void {
  check(Array.isArray(values) && values.length > 0, field, 'a non-empty list of numbers >= 0', values);
  for (const f of values) check(Number.isFinite(f) && f >= 0, field, 'numbers >= 0 (0 = dense)', f);
}

const isPowerOfTwo = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** The defaults of the chosen backend apply to every field the user did not set. */
export function resolveKernelConfig(user: KernelUserConfig = {}): KernelConfig {
  const d = user.backend === 'gpu' ? { ...KERNEL_DEFAULTS, ...GPU_DEFAULTS } : KERNEL_DEFAULTS;
  const c: KernelConfig = {
    ...d,
    contexts: [...d.contexts],
    phases: [...d.phases],
    prefillFactors: [...d.prefillFactors],
    decodeFactors: [...d.decodeFactors],
    anchors: [...d.anchors],
    ...Object.fromEntries(Object.entries(user).filter(([, v]) => v !== undefined)),
  };
  check(BACKENDS.includes(c.backend), 'backend', BACKENDS.join(' | '), c.backend);
  check(Array.isArray(c.contexts) && c.contexts.length > 0, 'contexts', 'a non-empty list', c.contexts);
  for (const L of c.contexts) integerIn('contexts', L, 1, MAX_CONTEXT);
  c.contexts = [...new Set(c.contexts)].sort((a, b) => a - b);
  check(Array.isArray(c.phases) && c.phases.length > 0 && c.phases.every((p) => PHASES.includes(p)), 'phases', PHASES.join(' | '), c.phases);
  factors('prefillFactors', c.prefillFactors);
  factors('decodeFactors', c.decodeFactors);
  const arms = Math.max(c.prefillFactors.length, c.decodeFactors.length);
  for (const [field, list] of [['prefillFactors', c.prefillFactors], ['decodeFactors', c.decodeFactors]] as const) {
    check(list.length === 1 || list.length === arms, field, `1 or ${arms} values (one per skip arm)`, list);
  }
  check((SUPPORTED_HEAD_DIMS as readonly number[]).includes(c.headDim), 'headDim', SUPPORTED_HEAD_DIMS.join(' | '), c.headDim);
  integerIn('numKvHeads', c.numKvHeads, 1, 64);
  integerIn('numQueryHeads', c.numQueryHeads, 1, 256);
  checkShape(c);
  if (!c.qkvDir) parseHeadMix(c.headMix, c.numQueryHeads);
  integerIn('seed', c.seed, 0, 2 ** 32 - 1);
  for (const field of ['blockM', 'blockN', 'decodeBlockN'] as const) {
    integerIn(field, c[field], TILE_LIMITS.min, TILE_LIMITS.max);
  }
  check(c.blockM % 4 === 0, 'blockM', 'a multiple of 4', c.blockM);
  // the WebAssembly kernel packs V in 16-key blocks and KV tiles start on one
  check(c.blockN % 16 === 0, 'blockN', 'a multiple of 16', c.blockN);
  check(c.decodeBlockN % 16 === 0, 'decodeBlockN', 'a multiple of 16', c.decodeBlockN);
  if (c.partitions !== 'auto') integerIn('partitions', c.partitions, PARTITION_LIMITS.min, PARTITION_LIMITS.max);
  integerIn('fullPrefillMax', c.fullPrefillMax, 1, MAX_CONTEXT);
  check(Number.isFinite(c.prefillSampleFlops) && c.prefillSampleFlops > 0, 'prefillSampleFlops', 'a number > 0', c.prefillSampleFlops);
  integerIn('warmup', c.warmup, 0, 100);
  integerIn('reps', c.reps, 1, 1000);
  check(Number.isFinite(c.minSampleMs) && c.minSampleMs >= 0 && c.minSampleMs <= 60000, 'minSampleMs', 'a number in [0, 60000]', c.minSampleMs);
  integerIn('threads', c.threads, 1, 256);
  check(IMPLEMENTATIONS.includes(c.implementation), 'implementation', IMPLEMENTATIONS.join(' | '), c.implementation);
  check(WASM_VARIANTS.includes(c.wasmVariant), 'wasmVariant', WASM_VARIANTS.join(' | '), c.wasmVariant);
  check(Number.isFinite(c.maxForeignLoad) && c.maxForeignLoad >= 0, 'maxForeignLoad', 'a number >= 0 (cores)', c.maxForeignLoad);
  check(typeof c.outDir === 'string' && c.outDir.length > 0, 'outDir', 'a folder path', c.outDir);
  check(typeof c.python === 'string' && c.python.length > 0, 'python', 'a Python executable', c.python);
  if (c.gpuRunner !== undefined) {
    check(typeof c.gpuRunner === 'string' && c.gpuRunner.length > 0, 'gpuRunner', 'a script path', c.gpuRunner);
  }
  integerIn('batch', c.batch, 1, 1024);
  const anchorsOk = Array.isArray(c.anchors) && c.anchors.every((a) => ANCHOR_KINDS.includes(a));
  check(
    anchorsOk && new Set(c.anchors).size === c.anchors.length,
    'anchors',
    `a list of distinct ${ANCHOR_KINDS.join(' | ')} (or none)`,
    c.anchors,
  );
  const tolerance = c.tolerance;
  check(Number.isFinite(tolerance) && tolerance > 0 && tolerance < 1, 'tolerance', 'a number in (0, 1)', tolerance);
  const kernels = ['auto', ...PREFILL_KERNELS];
  check(kernels.includes(c.prefillKernel), 'prefillKernel', kernels.join(' | '), c.prefillKernel);
  if (c.backend === 'gpu') checkGpu(c);
  return c;
}

/** What the GPU backend cannot do (yet), and the tile shapes its Triton kernels take. */
function checkGpu(c: KernelConfig): void {
  const noQkv = 'left out with --backend gpu (captured Q/K/V are not supported on the GPU yet)';
  check(c.qkvDir === undefined, 'qkvDir', noQkv, c.qkvDir);
  for (const L of c.contexts) check(L >= 16, 'contexts', 'at least 16 tokens with --backend gpu', L);
  for (const field of ['blockM', 'blockN', 'decodeBlockN'] as const) {
    // tl.arange takes powers of two and tl.dot needs at least 16 rows and columns
    const tile = c[field];
    check(isPowerOfTwo(tile) && tile >= 16 && tile <= 256, field, 'a power of two in [16, 256] with --backend gpu', tile);
  }
  // 'auto' sizes CPU threads; the decode kernel's partition reduction takes powers of two
  const partitions = `a power of two in [${PARTITION_LIMITS.min}, ${PARTITION_LIMITS.max}] with --backend gpu`;
  check(c.partitions !== 'auto' && isPowerOfTwo(c.partitions), 'partitions', partitions, c.partitions);
}

/** Split-KV partitions for this run: 'auto' gives every thread at least one unit. */
export function resolvePartitions(c: KernelConfig): number {
  return c.partitions === 'auto' ? Math.max(1, Math.ceil(c.threads / c.numKvHeads)) : c.partitions;
}

export interface ArmSpec {
  id: string;
  /** 0 for the dense baseline and for anchors. */
  thresholdScaleFactor: { prefill: number; decode: number };
  /** A reference implementation timed beside the kernel (GPU backend), not a skip arm. */
  anchor?: AnchorKind;
}

/** The dense baseline first, then one skip arm per factor pair, then the anchors (GPU backend). */
export function armsOf(c: KernelConfig): ArmSpec[] {
  const n = Math.max(c.prefillFactors.length, c.decodeFactors.length);
  const arms: ArmSpec[] = [{ id: 'dense', thresholdScaleFactor: { prefill: 0, decode: 0 } }];
  for (let i = 0; i < n; i++) {
    const prefill = c.prefillFactors[c.prefillFactors.length === 1 ? 0 : i];
    const decode = c.decodeFactors[c.decodeFactors.length === 1 ? 0 : i];
    arms.push({ id: n === 1 ? 'skip' : `skip${i + 1}`, thresholdScaleFactor: { prefill, decode } });
  }
  if (c.backend === 'gpu') {
    for (const anchor of c.anchors) arms.push({ id: anchor, thresholdScaleFactor: { prefill: 0, decode: 0 }, anchor });
  }
  return arms;
}

/** The arms a phase measures: decode has no cuDNN anchor. */
export function armsForPhase(arms: readonly ArmSpec[], phase: Phase): ArmSpec[] {
  return arms.filter((a) => !a.anchor || phase === 'prefill' || DECODE_ANCHORS.includes(a.anchor));
}
