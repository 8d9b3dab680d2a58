/**
 * `skipbench serve`: the reference OpenAI-compatible server on the built-in kernel, for trying the server target
 * offline (one instance dense, another with skip factors). Flags only; the server is harness/serve.
 */
import { type Command, Option } from 'commander';
import { SkipbenchError } from '../../kernels/errors.js';
import { WASM_VARIANTS } from '../cpu/wasm-module.js';
import {
  resolveServeOptions,
  SERVE_DEFAULTS,
  SERVE_IMPLEMENTATIONS,
  type ServeOptions,
  type ServeUserOptions,
  startReferenceServer,
} from '../serve/index.js';
import { parseInteger, parseNumber, parseTokenCount } from '../units.js';

export interface ServeCommand {
  name: 'serve';
  options: ServeOptions;
}

/** The flag behind every option, for error messages (an option without a flag fails to compile). */
const SERVE_FLAGS: Record<keyof ServeOptions, string> = {
  host: '--host',
  port: '--port',
  modelName: '--model-name',
  layers: '--layers',
  numQueryHeads: '--query-heads',
  numKvHeads: '--kv-heads',
  headDim: '--head-dim',
  headMix: '--head-mix',
  seed: '--seed',
  prefillFactor: '--prefill-factor',
  decodeFactor: '--decode-factor',
  threads: '--threads',
  implementation: '--impl',
  wasmVariant: '--wasm',
  maxContext: '--max-context',
  blockM: '--block-m',
  blockN: '--block-n',
  decodeBlockN: '--decode-block',
  partitions: '--partitions',
};

function resolveFromFlags(user: ServeUserOptions): ServeOptions {
  try {
    return resolveServeOptions(user);
  } catch (error) {
    const flag = error instanceof SkipbenchError && error.field ? SERVE_FLAGS[error.field as keyof ServeOptions] : undefined;
    if (!flag || !(error instanceof SkipbenchError)) throw error;
    throw new SkipbenchError(error.code, `${flag}: ${error.message}`, { field: flag, allowed: error.allowed, received: error.received });
  }
}

export function registerServe(program: Command, done: (command: ServeCommand) => void): void {
  const d = SERVE_DEFAULTS;
  const int = (flag: string, min: number, max: number) => (t: string) => parseInteger(flag, t, min, max);
  program
    .command('serve')
    .description(
      'Run the reference OpenAI-compatible server (/v1/completions, /v1/chat/completions, /health, /v1/models, ' +
        '/tokenize, /metrics) backed by the built-in kernel: every request runs a real prefill and one real decode ' +
        'step per generated token, dense or Skip Softmax. Stops on Ctrl-C.',
    )
    .option('--host <address>', 'interface to listen on', d.host)
    .option('--port <n>', 'TCP port (0 = any free port)', int('--port', 0, 65535), 8000)
    .option('--model-name <name>', 'model name reported by the server', d.modelName)
    .option('--layers <n>', 'attention layers per token', int('--layers', 1, 128), d.layers)
    .option('--query-heads <n>', 'query heads', int('--query-heads', 1, 256), d.numQueryHeads)
    .option('--kv-heads <n>', 'key/value heads', int('--kv-heads', 1, 64), d.numKvHeads)
    .option('--head-dim <n>', 'head dimension: 64 | 128', int('--head-dim', 1, 1024), d.headDim)
    .option('--head-mix <mix>', 'attention pattern per query head (default: the benchmark mix, cycled)')
    .option('--seed <n>', 'seed of the synthetic Q/K/V', int('--seed', 0, 2 ** 32 - 1), d.seed)
    .option('--prefill-factor <f>', 'prefill threshold_scale_factor (0 = dense)', (t) => parseNumber('--prefill-factor', t, 0), d.prefillFactor)
    .option('--decode-factor <f>', 'decode threshold_scale_factor (0 = dense)', (t) => parseNumber('--decode-factor', t, 0), d.decodeFactor)
    .addOption(new Option('--threads <n>', 'kernel worker threads').argParser(int('--threads', 1, 256)).default(d.threads, `available CPUs: ${d.threads}`))
    .addOption(new Option('--impl <name>', 'kernel implementation').choices([...SERVE_IMPLEMENTATIONS]).default(d.implementation))
    .addOption(new Option('--wasm <build>', 'WebAssembly build').choices([...WASM_VARIANTS]).default(d.wasmVariant))
    .option('--max-context <tokens>', 'longest prompt + max_tokens accepted (tokens)', (t) => parseTokenCount('--max-context', t), d.maxContext)
    .option('--block-m <n>', 'prefill query rows per tile', int('--block-m', 4, 512), d.blockM)
    .option('--block-n <n>', 'prefill keys per KV tile', int('--block-n', 16, 512), d.blockN)
    .option('--decode-block <n>', 'decode keys per KV tile', int('--decode-block', 16, 512), d.decodeBlockN)
    .option('--partitions <n|auto>', 'decode split-KV partitions', (t) => (t === 'auto' ? 'auto' : parseInteger('--partitions', t, 1, 1024)), d.partitions)
    .action((o) => {
      done({
        name: 'serve',
        options: resolveFromFlags({
          host: o.host,
          port: o.port,
          modelName: o.modelName,
          layers: o.layers,
          numQueryHeads: o.queryHeads,
          numKvHeads: o.kvHeads,
          headDim: o.headDim,
          headMix: o.headMix,
          seed: o.seed,
          prefillFactor: o.prefillFactor,
          decodeFactor: o.decodeFactor,
          threads: o.threads,
          implementation: o.impl,
          wasmVariant: o.wasm,
          maxContext: o.maxContext,
          blockM: o.blockM,
          blockN: o.blockN,
          decodeBlockN: o.decodeBlock,
          partitions: o.partitions,
        }),
      });
    });
}

/** Serves until the signal fires (Ctrl-C), then closes cleanly. */
export async function runServe(command: ServeCommand, signal: AbortSignal): Promise<number> {
  const server = await startReferenceServer(command.options);
  const o = server.options;
  process.stdout.write(
    `skipbench reference server (${server.implementation}) listening on ${server.url}\n` +
      `  ${o.layers} layer(s), Hq=${o.numQueryHeads}, Hkv=${o.numKvHeads}, d=${o.headDim}; ` +
      `threshold_scale_factor prefill ${o.prefillFactor}, decode ${o.decodeFactor}; max context ${o.maxContext}\n`,
  );
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  await server.close();
  return 0;
}
