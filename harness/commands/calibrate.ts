/**
 * `skipbench calibrate`: threshold_scale_factor for target sparsities, per phase, on the kernel workloads (built-in
 * head mixes or captured Q/K/V), with ready-to-use TensorRT-LLM YAML, SGLang variables and JSON. Flags only.
 */
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import { renderCalibration, sglangEnv, trtllmYaml } from '../calibrate/emit.js';
import { runCalibration } from '../calibrate/run.js';
import { WASM_VARIANTS } from '../cpu/wasm-module.js';
import { type KernelConfig, resolveKernelConfig } from '../kernel/config.js';
import { KERNEL_DEFAULTS } from '../kernel/defaults.js';
import { writeFileAtomic, writeJsonAtomic } from '../result-writer.js';
import { parseInteger, parseList, parseNumber, parseTokenCount } from '../units.js';
import { formatTokens } from '../../reports/format.js';

export interface CalibrateCommand {
  name: 'calibrate';
  config: KernelConfig;
  targets: number[];
  outDir: string;
}

const CALIBRATION_CONTEXTS = [4096, 16384, 65536, 131072];

export function registerCalibrate(program: Command, done: (command: CalibrateCommand) => void): void {
  const d = KERNEL_DEFAULTS;
  const int = (flag: string, min: number, max: number) => (t: string) => parseInteger(flag, t, min, max);
  program
    .command('calibrate')
    .description(
      'Find the threshold_scale_factor that gives each target sparsity, per phase, on the kernel workload: exact per ' +
        'context from recorded tile margins, fitted as lambda = a / L across contexts and factor = a0 exp(b s) across ' +
        'targets, then measured at the fitted factor. Writes calibration.json, TensorRT-LLM YAML and SGLang variables.',
    )
    .requiredOption('--target-sparsity <list>', 'target sparsities in (0, 1), comma-separated, e.g. 0.5 or 0.3,0.5,0.7', (t) =>
      parseList('--target-sparsity', t, (f, x) => parseNumber(f, x, 0.001, 0.999)),
    )
    .addOption(new Option('--phase <phase>', 'phases to calibrate').choices(['prefill', 'decode', 'both']).default('both'))
    .addOption(
      new Option('--contexts <tokens>', 'context lengths to calibrate over (tokens; K = 1024)')
        .argParser((t) => parseList('--contexts', t, parseTokenCount))
        .default(CALIBRATION_CONTEXTS, CALIBRATION_CONTEXTS.map(formatTokens).join(',')),
    )
    .option('--query-heads <n>', 'query heads', int('--query-heads', 1, 256), d.numQueryHeads)
    .option('--kv-heads <n>', 'key/value heads', int('--kv-heads', 1, 64), d.numKvHeads)
    .option('--head-dim <n>', 'head dimension: 64 | 128', int('--head-dim', 1, 1024), d.headDim)
    .option('--head-mix <mix>', 'attention pattern per query head', d.headMix)
    .option('--seed <n>', 'workload seed', int('--seed', 0, 2 ** 32 - 1), d.seed)
    .option('--qkv <dir>', 'captured Q/K/V (q.npy, k.npy, v.npy) instead of the synthetic head mix')
    .option('--block-m <n>', 'prefill query rows per tile', int('--block-m', 4, 512), d.blockM)
    .option('--block-n <n>', 'prefill keys per KV tile (multiple of 16)', int('--block-n', 16, 512), d.blockN)
    .option('--decode-block <n>', 'decode keys per KV tile (multiple of 16)', int('--decode-block', 16, 512), d.decodeBlockN)
    .option('--partitions <n|auto>', 'decode split-KV partitions', (t) => (t === 'auto' ? 'auto' : parseInteger('--partitions', t, 1, 1024)), d.partitions)
    .option('--full-prefill-max <tokens>', 'longest context whose prefill tiles are all used; longer ones are sampled', (t) => parseTokenCount('--full-prefill-max', t), d.fullPrefillMax)
    .option('--prefill-sample-flops <n>', 'dense causal FLOPs per head in a sampled prefill', (t) => parseNumber('--prefill-sample-flops', t, 1), d.prefillSampleFlops)
    .addOption(new Option('--threads <n>', 'worker threads').argParser(int('--threads', 1, 256)).default(d.threads, `available CPUs: ${d.threads}`))
    .addOption(new Option('--wasm <build>', 'WebAssembly build').choices([...WASM_VARIANTS]).default(d.wasmVariant))
    .option('--out <dir>', 'where calibration.json and the configuration files go', 'results/calibration')
    .action((o) => {
      let config: KernelConfig;
      try {
        config = resolveKernelConfig({
          contexts: o.contexts,
          phases: o.phase === 'both' ? ['prefill', 'decode'] : [o.phase],
          numQueryHeads: o.queryHeads,
          numKvHeads: o.kvHeads,
          headDim: o.headDim,
          headMix: o.headMix,
          seed: o.seed,
          qkvDir: o.qkv,
          blockM: o.blockM,
          blockN: o.blockN,
          decodeBlockN: o.decodeBlock,
          partitions: o.partitions,
          fullPrefillMax: o.fullPrefillMax,
          prefillSampleFlops: o.prefillSampleFlops,
          threads: o.threads,
          wasmVariant: o.wasm,
        });
      } catch (error) {
        if (error instanceof SkipbenchError) {
          throw new SkipbenchError(error.code, `calibrate: ${error.message}`, { field: error.field, allowed: error.allowed });
        }
        throw error;
      }
      if (config.contexts.length < 1) throw new SkipbenchError(ErrorCodes.CONFIG, '--contexts needs a length', { field: '--contexts' });
      done({ name: 'calibrate', config, targets: [...new Set<number>(o.targetSparsity)].sort(), outDir: o.out });
    });
}

export async function runCalibrate(command: CalibrateCommand): Promise<number> {
  const result = await runCalibration(command.config, command.targets, (line) => process.stderr.write(`${line}\n`));
  const dir = resolve(command.outDir);
  writeJsonAtomic(join(dir, 'calibration.json'), result);
  for (const target of command.targets) {
    const tag = String(Math.round(target * 100));
    writeFileAtomic(join(dir, `trtllm-sparsity-${tag}.yaml`), trtllmYaml(result, target));
    writeFileAtomic(join(dir, `sglang-sparsity-${tag}.env`), sglangEnv(result, target));
  }
  const first = command.targets[0];
  process.stdout.write(`${renderCalibration(result)}\nTensorRT-LLM (target ${first}):\n${trtllmYaml(result, first)}\nSGLang:\n${sglangEnv(result, first)}\n`);
  process.stdout.write(`Written to ${dir}: calibration.json, trtllm-sparsity-*.yaml, sglang-sparsity-*.env\n`);
  return 0;
}
