/**
 * The workload, tile and thread flags shared by `skipbench kernel` and `skipbench calibrate`, and the resolution of
 * a kernel configuration that names the flag (not the config field) when a value is rejected.
 */
import { type Command, Option, type OptionValues } from 'commander';
import { ErrorCodes, invalid, SkipbenchError } from '../../kernels/errors.js';
import { formatTokens } from '../../reports/format.js';
import { ANCHOR_KINDS, type AnchorKind } from '../../reports/schema.js';
import { PATTERN_KINDS } from '../../workloads/index.js';
import { WASM_VARIANTS } from '../cpu/wasm-module.js';
import { GPU_DEFAULTS } from '../gpu/defaults.js';
import { PREFILL_KERNELS } from '../gpu/protocol.js';
import { BACKENDS, type KernelConfig, type KernelUserConfig, resolveKernelConfig } from '../kernel/config.js';
import { KERNEL_DEFAULTS } from '../kernel/defaults.js';
import { parseInteger, parseList, parseNumber, parseTokenCount } from '../units.js';

/** The flag behind every config field: a new KernelConfig field without a flag decision fails to compile. */
export const KERNEL_FLAGS: Record<keyof KernelConfig, string> = {
  backend: '--backend',
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
  python: '--python',
  gpuRunner: '--gpu-runner',
  batch: '--batch',
  anchors: '--anchors',
  tolerance: '--tolerance',
  prefillKernel: '--prefill-kernel',
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

/** Adds the shape, workload, tile and thread flags (with their defaults and units) to a command. `defaults` replaces
 * the timed run's default of --prefill-sample-flops (calibrate samples more: its output is the sparsity itself). */
export function addWorkloadOptions(
  command: Command,
  defaults: { prefillSampleFlops?: number; prefillSampleFlopsHelp?: string } = {},
): Command {
  const d = KERNEL_DEFAULTS;
  const sampleFlops = new Option(
    '--prefill-sample-flops <n>',
    'dense causal FLOPs per head a sampled prefill computes per call',
  )
    .argParser((t) => parseNumber('--prefill-sample-flops', t, 1))
    .default(defaults.prefillSampleFlops ?? d.prefillSampleFlops, defaults.prefillSampleFlopsHelp);
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
    .addOption(sampleFlops)
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

/** "sdpa-flash,sdpa-cudnn" or "none". */
export function parseAnchors(text: string): AnchorKind[] {
  if (text.trim() === 'none') return [];
  const allowed = `a comma-separated list of ${ANCHOR_KINDS.join(' | ')}, or none`;
  return parseList('--anchors', text, (field, item) => {
    if (!(ANCHOR_KINDS as readonly string[]).includes(item)) throw invalid(ErrorCodes.CONFIG, field, allowed, item);
    return item as AnchorKind;
  });
}

function parseTolerance(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value >= 1) {
    throw invalid(ErrorCodes.CONFIG, '--tolerance', 'a number in (0, 1)', text);
  }
  return value;
}

const g = GPU_DEFAULTS;
export const GPU_DEFAULTS_HELP =
  `its defaults for flags not given: contexts ${g.contexts.map(formatTokens).join(',')}, ${g.numQueryHeads} query / ` +
  `${g.numKvHeads} KV heads, the default head mix repeated to ${g.numQueryHeads} heads, ` +
  `tiles ${g.blockM}x${g.blockN}, decode tile ${g.decodeBlockN} keys, ${g.partitions} partitions, ` +
  `warmup ${g.warmup}, reps ${g.reps}, min-sample-ms ${g.minSampleMs}`;

/** The backend flags: --backend and the GPU runner's flags (ignored by the CPU backend). */
export function addBackendOptions(command: Command): Command {
  const d = KERNEL_DEFAULTS;
  return command
    .addOption(
      new Option(
        '--backend <name>',
        'cpu: the built-in kernel in this process; gpu: Triton kernels on an NVIDIA GPU through a Python runner ' +
          `(${GPU_DEFAULTS_HELP}; --threads, --wasm, --impl, --full-prefill-max and --prefill-sample-flops are ignored)`,
      )
        .choices([...BACKENDS])
        .default(d.backend),
    )
    .option('--python <exe>', 'gpu: the Python interpreter, with torch >= 2.4 and triton', d.python)
    .option('--gpu-runner <script>', 'gpu: the runner script (default: the bundled harness/gpu/runner.py)')
    .option('--batch <n>', 'gpu: decode sequences per call (prefill runs one)', integer('--batch', 1, 1024), d.batch)
    .addOption(
      new Option(
        '--anchors <list>',
        `gpu: torch SDPA backends timed beside dense and skip (${ANCHOR_KINDS.join(', ')}, or none; decode: sdpa-flash only)`,
      )
        .argParser(parseAnchors)
        .default([...d.anchors], d.anchors.join(',')),
    )
    .option(
      '--tolerance <x>',
      'gpu: largest relative L2 error vs the float32 reference that passes the check',
      parseTolerance,
      d.tolerance,
    )
    .addOption(
      new Option(
        '--prefill-kernel <name>',
        'gpu: prefill kernel: gluon-ws (warp-specialised Gluon, 64x128 tiles), gluon (64x64, 128x128), triton (any ' +
          'tiles, any Triton); auto: the fastest that supports the tiles',
      )
        .choices(['auto', ...PREFILL_KERNELS])
        .default(d.prefillKernel),
    );
}

/** The config fields behind addBackendOptions's flags. */
export function backendFromOptions(o: Record<string, unknown>): KernelUserConfig {
  return {
    backend: o.backend as KernelConfig['backend'],
    python: o.python as string,
    gpuRunner: o.gpuRunner as string | undefined,
    batch: o.batch as number,
    anchors: o.anchors as AnchorKind[],
    tolerance: o.tolerance as number,
    prefillKernel: o.prefillKernel as KernelConfig['prefillKernel'],
  };
}

/**
 * The options the user gave, defaults left out, when the backend has its own defaults (gpu): resolveKernelConfig then
 * applies the backend's defaults to every other field. The CPU backend keeps commander's defaults (the same values).
 */
export function givenOptions(command: Command, o: OptionValues): OptionValues {
  if (o.backend !== 'gpu') return o;
  return Object.fromEntries(Object.entries(o).filter(([key]) => command.getOptionValueSource(key) !== 'default'));
}
