/**
 * Reference server configuration: what a caller may set (ServeUserOptions), resolved against SERVE_DEFAULTS and
 * validated before any port is opened or worker started (ServeOptions). Errors are SkipbenchError SKB_CONFIG naming
 * the field and the allowed range.
 */
import { availableParallelism } from 'node:os';
import { ErrorCodes, invalid } from '../../kernels/errors.js';
import { DEFAULT_DECODE_TILES, DEFAULT_PREFILL_TILES, type HeadDim, SUPPORTED_HEAD_DIMS } from '../../kernels/types.js';
import { PARTITION_LIMITS, TILE_LIMITS } from '../../kernels/validate.js';
import { packedKeyFloats, packedValueFloats } from '../../kernels/wasm/layout.js';
import { WASM_VARIANTS, type WasmVariantChoice } from '../cpu/wasm-module.js';
import { DEFAULT_HEAD_MIX, formatHeadMix, type PatternKind, parseHeadMix } from '../../workloads/index.js';

export type ServeImplementation = 'wasm' | 'reference';
export const SERVE_IMPLEMENTATIONS: readonly ServeImplementation[] = ['wasm', 'reference'];

export interface ServeOptions {
  /** Interface to listen on. */
  host: string;
  /** TCP port; 0 takes an ephemeral one (the started server reports it). */
  port: number;
  /** The `model` the server reports in /v1/models and every response. */
  modelName: string;
  /** Attention layers run per token (each with its own K/V). */
  layers: number;
  numQueryHeads: number;
  numKvHeads: number;
  headDim: HeadDim;
  /**
   * One attention pattern per query head, `kind[:count],...` (workloads parseHeadMix). Undefined: the default mix
   * (DEFAULT_HEAD_MIX, written for 8 heads) cycled over the configured heads, see `headPatternsFor`.
   */
  headMix?: string;
  /** Seeds the synthetic Q/K/V (with the layer and a hash of the prompt's token ids). */
  seed: number;
  /** Skip Softmax threshold_scale_factor of the prefill phase (0 = dense). */
  prefillFactor: number;
  /** threshold_scale_factor of the decode phase (0 = dense). */
  decodeFactor: number;
  /** Kernel worker threads (wasm). */
  threads: number;
  /** 'wasm': the WebAssembly SIMD kernel on worker threads; 'reference': the plain TS kernel on the event loop
   * (tiny shapes in tests only: it blocks the loop while it computes). */
  implementation: ServeImplementation;
  /** Which WebAssembly build (harness/cpu/wasm-module.ts). */
  wasmVariant: WasmVariantChoice;
  /** Longest prompt + max_tokens a request may ask for; longer requests get HTTP 400 exceed_context_size_error. */
  maxContext: number;
  /** Prefill query rows per tile (BLOCK_M). */
  blockM: number;
  /** Prefill keys per KV tile (BLOCK_N). */
  blockN: number;
  /** Decode keys per KV tile. */
  decodeBlockN: number;
  /** Split-KV decode partitions; 'auto' = ceil(threads / numKvHeads), so every worker has a unit. */
  partitions: number | 'auto';
}

/** Every field optional; a new ServeOptions field must be added here too (the mapped type keeps them in step). */
export type ServeUserOptions = { [K in keyof ServeOptions]?: ServeOptions[K] };

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  modelName: 'skipbench-reference',
  layers: 1,
  numQueryHeads: 4,
  numKvHeads: 1,
  headDim: 64 as HeadDim,
  seed: 1,
  prefillFactor: 0,
  decodeFactor: 0,
  threads: availableParallelism(),
  implementation: 'wasm' as ServeImplementation,
  wasmVariant: 'auto' as WasmVariantChoice,
  maxContext: 32768,
  blockM: DEFAULT_PREFILL_TILES.blockM,
  blockN: DEFAULT_PREFILL_TILES.blockN,
  decodeBlockN: DEFAULT_DECODE_TILES.blockN,
  partitions: DEFAULT_DECODE_TILES.partitions as number | 'auto',
} as const;

/** Longest maxContext accepted (the kernel benchmark's limit too). */
export const MAX_SERVE_CONTEXT = 262144;
/** Kernel memory one request may need at maxContext (all layers' packed K/V + prefill Q/O); wasm32 caps it at 4 GiB. */
export const MAX_KERNEL_BYTES = 3 * 2 ** 30;

function check(ok: boolean, field: string, allowed: string, received: unknown): void {
  if (!ok) throw invalid(ErrorCodes.CONFIG, field, allowed, received);
}

function integerIn(field: string, value: unknown, min: number, max: number): void {
  check(
    Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max,
    field,
    `an integer in [${min}, ${max}]`,
    value,
  );
}

function nonEmptyString(field: string, value: unknown): void {
  check(typeof value === 'string' && value.trim().length > 0, field, 'a non-empty string', value);
}

export function resolveServeOptions(user: ServeUserOptions = {}): ServeOptions {
  const o: ServeOptions = {
    ...SERVE_DEFAULTS,
    ...(Object.fromEntries(Object.entries(user).filter(([, v]) => v !== undefined)) as ServeUserOptions),
  };
  nonEmptyString('host', o.host);
  integerIn('port', o.port, 0, 65535);
  nonEmptyString('modelName', o.modelName);
  integerIn('layers', o.layers, 1, 256);
  integerIn('numKvHeads', o.numKvHeads, 1, 64);
  integerIn('numQueryHeads', o.numQueryHeads, 1, 256);
  check(
    o.numQueryHeads % o.numKvHeads === 0,
    'numQueryHeads',
    `a multiple of numKvHeads (${o.numKvHeads})`,
    o.numQueryHeads,
  );
  check(
    (SUPPORTED_HEAD_DIMS as readonly number[]).includes(o.headDim),
    'headDim',
    SUPPORTED_HEAD_DIMS.join(' | '),
    o.headDim,
  );
  if (o.headMix !== undefined) parseHeadMix(o.headMix, o.numQueryHeads); // SKB_CONFIG, field headMix
  integerIn('seed', o.seed, 0, 2 ** 32 - 1);
  for (const field of ['prefillFactor', 'decodeFactor'] as const) {
    const f = o[field];
    check(typeof f === 'number' && Number.isFinite(f) && f >= 0, field, 'a finite number >= 0 (0 = dense)', f);
  }
  integerIn('threads', o.threads, 1, 256);
  check(
    SERVE_IMPLEMENTATIONS.includes(o.implementation),
    'implementation',
    SERVE_IMPLEMENTATIONS.join(' | '),
    o.implementation,
  );
  check(WASM_VARIANTS.includes(o.wasmVariant), 'wasmVariant', WASM_VARIANTS.join(' | '), o.wasmVariant);
  integerIn('maxContext', o.maxContext, 2, MAX_SERVE_CONTEXT);
  for (const field of ['blockM', 'blockN', 'decodeBlockN'] as const) {
    integerIn(field, o[field], TILE_LIMITS.min, TILE_LIMITS.max);
  }
  check(o.blockM % 4 === 0, 'blockM', 'a multiple of 4', o.blockM);
  // the WebAssembly kernel packs V in 16-key blocks and KV tiles start on one
  check(o.blockN % 16 === 0, 'blockN', 'a multiple of 16', o.blockN);
  check(o.decodeBlockN % 16 === 0, 'decodeBlockN', 'a multiple of 16', o.decodeBlockN);
  if (o.partitions !== 'auto') integerIn('partitions', o.partitions, PARTITION_LIMITS.min, PARTITION_LIMITS.max);
  const bytes = kernelBytesAt(o, o.maxContext);
  check(
    bytes <= MAX_KERNEL_BYTES,
    'maxContext',
    `small enough that one request's kernel memory (layers x packed K/V + prefill Q/O) stays <= ${MAX_KERNEL_BYTES / 2 ** 30} GiB ` +
      `(${o.maxContext} tokens need ${(bytes / 2 ** 30).toFixed(2)} GiB: lower maxContext, layers or heads)`,
    o.maxContext,
  );
  return o;
}

/** Split-KV partitions the server runs decode with. */
export function resolvedPartitions(o: ServeOptions): number {
  return o.partitions === 'auto' ? Math.max(1, Math.ceil(o.threads / o.numKvHeads)) : o.partitions;
}

/**
 * The pattern of every query head: the configured mix, or DEFAULT_HEAD_MIX (8 heads: two GQA groups) cycled, so 4
 * heads get sink, sink, local, local and 16 heads get the 8-head mix twice.
 */
export function headPatternsFor(o: ServeOptions): PatternKind[] {
  if (o.headMix !== undefined) return parseHeadMix(o.headMix, o.numQueryHeads);
  const base = parseHeadMix(DEFAULT_HEAD_MIX, 8);
  return Array.from({ length: o.numQueryHeads }, (_, h) => base[h % base.length]);
}

/** The head mix in `kind:count` form, as /v1/models reports it. */
export function headMixText(o: ServeOptions): string {
  return formatHeadMix(headPatternsFor(o));
}

/** Upper bound of the kernel memory (bytes) a request of `keys` total tokens needs: every layer's packed K and V,
 * plus the prefill's queries and outputs (the decision bytes and scratch are small beside them). */
export function kernelBytesAt(o: ServeOptions, keys: number): number {
  const kv = o.numKvHeads * (packedKeyFloats(keys, o.headDim) + packedValueFloats(keys, o.headDim)) * 4;
  const qo = 2 * o.numQueryHeads * keys * o.headDim * 4;
  return o.layers * kv + qo;
}
