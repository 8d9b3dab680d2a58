/**
 * The workload, tile and thread flags shared by `skipbench kernel` and `skipbench calibrate`, and the resolution of
 * a kernel configuration that names the flag (not the config field) when a value is rejected.
 */
import { type Command, Option } from 'commander';
import { SkipbenchError } from '../../kernels/errors.js';
import { PATTERN_KINDS } from '../../workloads/index.js';
import { WASM_VARIANTS } from '../cpu/wasm-module.js';
import { type KernelConfig, type KernelUserConfig, resolveKernelConfig } from '../kernel/config.js';
import { KERNEL_DEFAULTS } from '../kernel/defaults.js';
import { parseInteger, parseNumber, parseTokenCount } from '../units.js';

/** The flag behind every config field: a new KernelConfig field without a flag decision fails to compile. */
export const KERNEL_FLAGS: Record<keyof KernelConfig, string> = {
  contexts: '--contexts',
  phases: '--phases',
  prefillFactors: '--prefill-factor',
  decodeFactors: '--decode-factor',
  numQueryHeads: '--query-heads',
  numKvHeads: '--kv-heads',
  headDim: '--head-dim',
  headMix: '--head-mix',
  seed: '--seed',
  qkvDir: '--qkv',
  blockM: '--block-m',
  blockN: '--block-n',
  decodeBlockN: '--decode-block',
  partitions: '--partitions',
  fullPrefillMax: '--full-prefill-max',
  prefillSampleFlops: '--prefill-sample-flops',
  warmup: '--warmup',
  reps: '--reps',
  minSampleMs: '--min-sample-ms',
  threads: '--threads',
  implementation: '--impl',
  wasmVariant: '--wasm',
  maxForeignLoad: '--max-foreign-load',
  outDir: '--out',
};

/** Resolves the config, naming the flag (not the config field) when a value is rejected. */
export function resolveKernelFlags(user: KernelUserConfig): KernelConfig {
  try {
    return resolveKernelConfig(user);
  } catch (error) {
    const flag = error instanceof SkipbenchError && error.field ? KERNEL_FLAGS[error.field as keyof KernelConfig] : undefined;
    if (!flag || !(error instanceof SkipbenchError)) throw error;
    const message = error.message.startsWith(error.field!) ? flag + error.message.slice(error.field!.length) : error.message;
    throw new SkipbenchError(error.code, message, { field: flag, allowed: error.allowed, received: error.received });
  }
}

const integer = (field: string, min: number, max: number) => (text: string) => parseInteger(field, text, min, max);

/** Adds the shape, workload, tile and thread flags (with their defaults and units) to a command. */
export function addWorkloadOptions(command: Command): Command {
  const d = KERNEL_DEFAULTS;
  return command
    .option('--query-heads <n>', 'query heads (Hq)', integer('--query-heads', 1, 256), d.numQueryHeads)
    .option('--kv-heads <n>', 'key/value heads (Hkv); Hq must be a multiple', integer('--kv-heads', 1, 64), d.numKvHeads)
    .option('--head-dim <n>', 'head dimension: 64 | 128', integer('--head-dim', 1, 1024), d.headDim)
    .option('--head-mix <mix>', `attention pattern per query head, e.g. sink:2,local:2 (kinds: ${PATTERN_KINDS.join(', ')})`, d.headMix)
    .option('--seed <n>', 'workload seed', integer('--seed', 0, 2 ** 32 - 1), d.seed)
    .option('--qkv <dir>', 'captured Q/K/V: a folder with q.npy, k.npy, v.npy ([heads, tokens, head_dim], float32/float16)')
    .option('--block-m <n>', 'prefill query rows per tile (BLOCK_M)', integer('--block-m', 4, 512), d.blockM)
    .option('--block-n <n>', 'prefill keys per KV tile (BLOCK_N, multiple of 16)', integer('--block-n', 16, 512), d.blockN)
    .option('--decode-block <n>', 'decode keys per KV tile (multiple of 16)', integer('--decode-block', 16, 512), d.decodeBlockN)
    .option('--partitions <n|auto>', 'decode split-KV partitions (auto = ceil(threads / KV heads))', (t) => (t === 'auto' ? 'auto' : parseInteger('--partitions', t, 1, 1024)), d.partitions)
    .option('--full-prefill-max <tokens>', 'longest context whose prefill is computed in full; longer ones are sampled (tokens)', (t) => parseTokenCount('--full-prefill-max', t), d.fullPrefillMax)
    .option('--prefill-sample-flops <n>', 'dense causal FLOPs per head a sampled prefill computes per call', (t) => parseNumber('--prefill-sample-flops', t, 1), d.prefillSampleFlops)
    .addOption(
      new Option('--threads <n>', 'worker threads').argParser(integer('--threads', 1, 256)).default(d.threads, `available CPUs: ${d.threads}`),
    )
    .addOption(
      new Option('--wasm <build>', 'WebAssembly build: relaxed-simd uses fused multiply-add; auto picks it when available')
        .choices([...WASM_VARIANTS])
        .default(d.wasmVariant),
    );
}

/** The config fields behind addWorkloadOptions's flags. */
export function workloadFromOptions(o: Record<string, unknown>): KernelUserConfig {
  return {
    numQueryHeads: o.queryHeads as number,
    numKvHeads: o.kvHeads as number,
    headDim: o.headDim as KernelConfig['headDim'],
    headMix: o.headMix as string,
    seed: o.seed as number,
    qkvDir: o.qkv as string | undefined,
    blockM: o.blockM as number,
    blockN: o.blockN as number,
    decodeBlockN: o.decodeBlock as number,
    partitions: o.partitions as KernelConfig['partitions'],
    fullPrefillMax: o.fullPrefillMax as number,
    prefillSampleFlops: o.prefillSampleFlops as number,
    threads: o.threads as number,
    wasmVariant: o.wasm as KernelConfig['wasmVariant'],
  };
}
