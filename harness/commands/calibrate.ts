/**
 * `skipbench calibrate`: threshold_scale_factor for target sparsities, per phase, on the kernel workloads (built-in
 * head mixes or captured Q/K/V), with ready-to-use TensorRT-LLM YAML, SGLang variables and JSON. Flags only.
 */
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { renderCalibration, sglangEnv, trtllmYaml } from '../calibrate/emit.js';
import { DECODE_SEQUENCES, runCalibration } from '../calibrate/run.js';
import type { KernelConfig } from '../kernel/config.js';
import { addWorkloadOptions, resolveKernelFlags, workloadFromOptions } from './kernel-options.js';
import { writeFileAtomic, writeJsonAtomic } from '../result-writer.js';
import { parseInteger, parseList, parseNumber, parseTokenCount } from '../units.js';
import { formatTokens } from '../../reports/format.js';

export interface CalibrateCommand {
  name: 'calibrate';
  config: KernelConfig;
  targets: number[];
  /** Decode sequences pooled at the longest context. */
  decodeSequences: number;
  outDir: string;
}

const CALIBRATION_CONTEXTS = [4096, 16384, 65536, 131072];

/**
 * A calibration's output is the sparsity itself, so by default it samples 4x as many prefill query tiles as a timed
 * run (harness/kernel/defaults.ts). Default mix, seed 1, targets 0.3/0.5/0.7: with 1e10 FLOPs per call the worst miss
 * was 0.7/3.2/2.2 points (the 50% factor gave 53.2% at 128K), with 4e10 it was 1.0/2.6/1.9 points, for 57 s of
 * prefill calibration instead of 17 s.
 */
export const CALIBRATION_PREFILL_SAMPLE_FLOPS = 4e10;

export function registerCalibrate(program: Command, done: (command: CalibrateCommand) => void): void {
  const command = program
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
    );
  addWorkloadOptions(command, {
    prefillSampleFlops: CALIBRATION_PREFILL_SAMPLE_FLOPS,
    prefillSampleFlopsHelp: '4e10: 4x a timed run, as the sparsity is the output',
  })
    .option(
      '--decode-sequences <n>',
      'decode: sequences (seeds seed, seed+1, ...) whose tile margins are pooled at the longest context, ' +
        'proportionally more at shorter ones; captured Q/K/V use 1',
      (t) => parseInteger('--decode-sequences', t, 1, 256),
      DECODE_SEQUENCES,
    )
    .option('--out <dir>', 'where calibration.json and the configuration files go', 'results/calibration')
    .action((o) => {
      const config = resolveKernelFlags({
        ...workloadFromOptions(o),
        contexts: o.contexts,
        phases: o.phase === 'both' ? ['prefill', 'decode'] : [o.phase],
      });
      const targets = [...new Set<number>(o.targetSparsity)].sort((a, b) => a - b);
      done({ name: 'calibrate', config, targets, decodeSequences: o.decodeSequences, outDir: o.out });
    });
}

export async function runCalibrate(command: CalibrateCommand): Promise<number> {
  const result = await runCalibration(command.config, command.targets, {
    decodeSequences: command.decodeSequences,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
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
