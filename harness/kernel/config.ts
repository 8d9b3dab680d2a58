/**
 * Kernel benchmark configuration: what a user may set (KernelUserConfig), resolved against the defaults and
 * validated before anything is generated or timed (KernelConfig). Errors name the field and the allowed range.
 */
import { ErrorCodes, invalid } from '../../kernels/errors.js';
import { type HeadDim, SUPPORTED_HEAD_DIMS } from '../../kernels/types.js';
import { checkShape, PARTITION_LIMITS, TILE_LIMITS } from '../../kernels/validate.js';
import { PHASES, type Phase } from '../../reports/schema.js';
import { parseHeadMix } from '../../workloads/index.js';
import { WASM_VARIANTS, type WasmVariantChoice } from '../cpu/wasm-module.js';
import { KERNEL_DEFAULTS } from './defaults.js';

export type Implementation = 'wasm' | 'reference';
export const IMPLEMENTATIONS: readonly Implementation[] = ['wasm', 'reference'];

/** Longest context accepted: 128K is the design target; 256K leaves headroom and still fits wasm32 memory. */
export const MAX_CONTEXT = 262144;

export interface KernelConfig {
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
}

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

export function resolveKernelConfig(user: KernelUserConfig = {}): KernelConfig {
  const c: KernelConfig = {
    ...KERNEL_DEFAULTS,
    contexts: [...KERNEL_DEFAULTS.contexts],
    phases: [...KERNEL_DEFAULTS.phases],
    prefillFactors: [...KERNEL_DEFAULTS.prefillFactors],
    decodeFactors: [...KERNEL_DEFAULTS.decodeFactors],
    ...Object.fromEntries(Object.entries(user).filter(([, v]) => v !== undefined)),
  };
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
  return c;
}

/** Split-KV partitions for this run: 'auto' gives every thread at least one unit. */
export function resolvePartitions(c: KernelConfig): number {
  return c.partitions === 'auto' ? Math.max(1, Math.ceil(c.threads / c.numKvHeads)) : c.partitions;
}

export interface ArmSpec {
  id: string;
  thresholdScaleFactor: { prefill: number; decode: number };
}

/** The dense baseline first, then one skip arm per factor pair. */
export function armsOf(c: KernelConfig): ArmSpec[] {
  const n = Math.max(c.prefillFactors.length, c.decodeFactors.length);
  const arms: ArmSpec[] = [{ id: 'dense', thresholdScaleFactor: { prefill: 0, decode: 0 } }];
  for (let i = 0; i < n; i++) {
    const prefill = c.prefillFactors[c.prefillFactors.length === 1 ? 0 : i];
    const decode = c.decodeFactors[c.decodeFactors.length === 1 ? 0 : i];
    arms.push({ id: n === 1 ? 'skip' : `skip${i + 1}`, thresholdScaleFactor: { prefill, decode } });
  }
  return arms;
}
