#!/usr/bin/env node
/**
 * The skipbench command line: parses and normalises flags, calls the library, writes files and sets the exit code.
 * No measurement logic lives here. `parseCli` is pure so every flag can be tested without running anything.
 */
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { ErrorCodes, SkipbenchError } from '../kernels/errors.js';
import { formatTokens } from '../reports/format.js';
import { renderHtml } from '../reports/html/render.js';
import { detectInactive } from '../reports/inactive.js';
import { render, renderers } from '../reports/render.js';
import type { Phase } from '../reports/schema.js';
import { defaultCacheDir } from './ceilings.js';
import { interruptWhenOrphaned, relaunch, shouldRelaunch } from './relaunch.js';
import { type BenchCommand, registerBench, runBench } from './commands/bench.js';
import { type CalibrateCommand, registerCalibrate, runCalibrate } from './commands/calibrate.js';
import { type CompareCommand, registerCompare, runCompare } from './commands/compare.js';
import { type PublishCommand, registerPublish, runPublish } from './commands/publish.js';
import {
  type ProjectCommand,
  parseProjectSpec,
  projectionSectionFor,
  REPORT_PROJECT_HELP,
  registerProject,
  type ReportProjection,
  runProject,
} from './commands/project.js';
import { type ClientOverheadCommand, registerClientOverhead, runClientOverhead } from './commands/client-overhead.js';
import {
  addBackendOptions,
  addWorkloadOptions,
  backendFromOptions,
  givenOptions,
  resolveKernelFlags,
  workloadFromOptions,
} from './commands/kernel-options.js';
import { registerServe, runServe, type ServeCommand } from './commands/serve.js';
import { IMPLEMENTATIONS, type KernelConfig, type KernelUserConfig, } from './kernel/config.js';
import { KERNEL_DEFAULTS } from './kernel/defaults.js';
import { runKernelBenchmark } from './kernel/runner.js';
import { packageVersion } from './paths.js';
import { progressPrinter } from './progress.js';
import { readResultFile } from './result-file.js';
import { writeFileAtomic, writeJsonAtomic } from './result-writer.js';
import { parseInteger, parseList, parseNumber, parseTokenCount } from './units.js';

export { readResultFile } from './result-file.js';

export interface KernelCommand {
  name: 'kernel';
  config: KernelConfig;
  refreshCeilings: boolean;
  cacheDir: string;
  quiet: boolean;
}

export interface ReportCommand {
  name: 'report';
  files: string[];
  format: string;
  /** Append a projection section (skipbench project) to each report. */
  projection?: ReportProjection;
  failOnInactive: boolean;
  /** Also write one SVG / PNG per chart of the HTML report into these folders. */
  svgDir?: string;
  pngDir?: string;
}

/** Exit code when --fail-on-inactive finds a skip arm that behaves like dense. */
export const EXIT_INACTIVE = 3;

export type CliCommand =
  | KernelCommand
  | ReportCommand
  | BenchCommand
  | ServeCommand
  | ClientOverheadCommand
  | CalibrateCommand
  | CompareCommand
  | ProjectCommand
  | PublishCommand;

const tokens = (field: string) => (text: string) => parseList(field, text, parseTokenCount);
const numbers = (field: string) => (text: string) => parseList(field, text, (f, t) => parseNumber(f, t));
const integer = (field: string, min: number, max: number) => (text: string) => parseInteger(field, text, min, max);
const list = (values: readonly number[]) => values.join(',');

function kernelCommand(program: Command, done: (command: CliCommand) => void): void {
  const d = KERNEL_DEFAULTS;
  const command = program
    .command('kernel')
    .description(
      'Benchmark the built-in attention kernel: dense vs Skip Softmax, prefill and decode, per context length. ' +
        'Writes result.json and summary.md into a new folder under --out.',
    )
    .addOption(
      new Option('--contexts <tokens>', 'context lengths, comma-separated (tokens; K = 1024)')
        .argParser(tokens('--contexts'))
        .default([...d.contexts], d.contexts.map(formatTokens).join(',')),
    )
    .addOption(
      new Option('--phases <list>', 'phases to measure: prefill, decode').default([...d.phases], d.phases.join(',')).argParser((t) =>
        parseList('--phases', t, (f, p) => {
          if (p !== 'prefill' && p !== 'decode') {
            throw new SkipbenchError(ErrorCodes.CONFIG, `${f} must be prefill | decode (got "${p}")`, { field: f });
          }
          return p as Phase;
        }),
      ),
    )
    .addOption(
      new Option('--prefill-factor <list>', 'prefill threshold_scale_factor per skip arm (lambda = factor / L; 0 = dense)')
        .argParser(numbers('--prefill-factor'))
        .default([...d.prefillFactors], list(d.prefillFactors)),
    )
    .addOption(
      new Option('--decode-factor <list>', 'decode threshold_scale_factor per skip arm (lambda = factor / L; 0 = dense)')
        .argParser(numbers('--decode-factor'))
        .default([...d.decodeFactors], list(d.decodeFactors)),
    );
  addBackendOptions(addWorkloadOptions(command))
    .option('--warmup <n>', 'untimed calls per arm before timing', integer('--warmup', 0, 100), d.warmup)
    .option('--reps <n>', 'timed rounds (each round runs every arm once, order alternating)', integer('--reps', 1, 1000), d.reps)
    .option('--min-sample-ms <ms>', 'repeat the kernel within a sample until it lasts this long (ms)', (t) => parseNumber('--min-sample-ms', t, 0, 60000), d.minSampleMs)
    .addOption(new Option('--impl <name>', 'kernel implementation').choices([...IMPLEMENTATIONS]).default(d.implementation))
    .option('--max-foreign-load <cores>', 'flag samples during which other processes used more CPU than this (cores)', (t) => parseNumber('--max-foreign-load', t, 0), d.maxForeignLoad)
    .option('--out <dir>', 'results folder; each run writes a new subfolder', d.outDir)
    .option('--refresh-ceilings', 'measure the machine ceilings again instead of using the cached ones', false)
    .option('--cache-dir <dir>', 'where machine ceilings are cached', defaultCacheDir())
    .option('--quiet', 'no progress lines', false)
    .action((all, self: Command) => {
      const o = givenOptions(self, all);
      const user: KernelUserConfig = {
        ...backendFromOptions(o),
        ...workloadFromOptions(o),
        contexts: o.contexts,
        phases: o.phases,
        prefillFactors: o.prefillFactor,
        decodeFactors: o.decodeFactor,
        warmup: o.warmup,
        reps: o.reps,
        minSampleMs: o.minSampleMs,
        implementation: o.impl,
        maxForeignLoad: o.maxForeignLoad,
        outDir: o.out,
      };
      done({
        name: 'kernel',
        config: resolveKernelFlags(user),
        refreshCeilings: all.refreshCeilings,
        cacheDir: all.cacheDir,
        quiet: all.quiet,
      });
    });
}

function reportCommand(program: Command, done: (command: CliCommand) => void): void {
  program
    .command('report')
    .description(
      'Render result files as a terminal table, Markdown, JSON, or one self-contained offline HTML page with charts ' +
        '(all files together) on stdout.',
    )
    .argument('<results...>', 'result.json files')
    .addOption(new Option('--format <name>', 'output format').choices(Object.keys(renderers)).default('markdown'))
    .option('--project <spec>', REPORT_PROJECT_HELP, parseProjectSpec)
    .option('--fail-on-inactive', `exit ${EXIT_INACTIVE} when a skip arm appears inactive (no skipped tile, or no speedup and identical outputs)`, false)
    .option('--svg-dir <dir>', 'also write one SVG per chart (<dir>/<chart>.svg)')
    .option('--png-dir <dir>', 'also write one PNG per chart (<dir>/<chart>.png)')
    .action((files: string[], o) =>
      done({
        name: 'report',
        files,
        format: o.format,
        projection: o.project,
        failOnInactive: o.failOnInactive,
        ...(o.svgDir ? { svgDir: o.svgDir } : {}),
        ...(o.pngDir ? { pngDir: o.pngDir } : {}),
      }),
    );
}

export function createCli(done: (command: CliCommand) => void): Command {
  const program = new Command('skipbench')
    .description('Does Skip Softmax make long-context attention faster, by how much, and at what cost in accuracy?')
    .version(packageVersion())
    .showHelpAfterError();
  kernelCommand(program, done);
  registerBench(program, done);
  registerServe(program, done);
  registerClientOverhead(program, done);
  registerCalibrate(program, done);
  reportCommand(program, done);
  registerCompare(program, done);
  registerPublish(program, done);
  registerProject(program, done);
  return program;
}

/** Parses user arguments (argv without node and script) into a command; throws on bad input, runs nothing. */
export function parseCli(args: string[], output?: { writeOut?: (s: string) => void; writeErr?: (s: string) => void }): CliCommand | undefined {
  let parsed: CliCommand | undefined;
  const program = createCli((command) => {
    parsed = command;
  });
  for (const command of [program, ...program.commands]) {
    command.exitOverride();
    if (output) command.configureOutput(output);
  }
  program.parse(args, { from: 'user' });
  return parsed;
}

/** Runs `work` with Ctrl-C wired to an AbortSignal: the first stops after the current sample, a second exits. */
async function interruptible(work: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\ninterrupted: finishing the current sample and saving what was measured (Ctrl-C again to quit now)\n');
    controller.abort('SIGINT');
  };
  process.on('SIGINT', onSigint);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function runKernel(command: KernelCommand, argv: string[], signal: AbortSignal): Promise<number> {
  let folder: string | undefined;
  const print = command.quiet ? undefined : progressPrinter(process.stderr);
  const result = await runKernelBenchmark(command.config, {
    signal,
    command: argv,
    cacheDir: command.cacheDir,
    refreshCeilings: command.refreshCeilings,
    onProgress: print,
    onResult: (r) => {
      folder ??= resolve(command.config.outDir, r.run.id);
      writeJsonAtomic(join(folder, 'result.json'), r);
      writeFileAtomic(join(folder, 'summary.md'), render('markdown', r));
    },
  });
  process.stdout.write(`\n${render('table', result)}\n\n`);
  process.stdout.write(`Results: ${folder}/result.json and summary.md\n`);
  return result.run.status === 'completed' ? 0 : 130;
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  try {
    const command = parseCli(argv);
    if (!command) return 0;
    if (command.name === 'kernel') return await interruptible((signal) => runKernel(command, argv, signal));
    if (command.name === 'bench') return await interruptible((signal) => runBench(command, argv, signal));
    if (command.name === 'serve') return await interruptible((signal) => runServe(command, signal));
    if (command.name === 'calibrate') return await runCalibrate(command);
    if (command.name === 'compare') return runCompare(command);
    if (command.name === 'publish') return runPublish(command);
    if (command.name === 'client-overhead') return await interruptible((signal) => runClientOverhead(command, signal));
    if (command.name === 'project') return await runProject(command);
    const results = command.files.map(readResultFile);
    if (command.format === 'html') {
      process.stdout.write(renderHtml(results)); // one page for all files
    } else {
      results.forEach((result, i) => {
        process.stdout.write(render(command.format, result));
        if (command.projection) {
          process.stdout.write(projectionSectionFor(result, command.files[i], command.projection, command.format));
        }
      });
    }
    if (command.svgDir || command.pngDir) {
      // vega and resvg load only when asked
      const { writeChartFiles } = await import('./commands/report-files.js');
      const written = await writeChartFiles(results, { svgDir: command.svgDir, pngDir: command.pngDir });
      process.stderr.write(`Charts: ${written.length} file(s) in ${[command.svgDir, command.pngDir].filter(Boolean).join(' and ')}\n`);
    }
    const inactive = results.some((result) => detectInactive(result).length > 0);
    return command.failOnInactive && inactive ? EXIT_INACTIVE : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : 2;
    }
    if (error instanceof SkipbenchError) {
      process.stderr.write(`skipbench: ${error.message} [${error.code}]\n`);
      return 2;
    }
    throw error;
  }
}

/** True when this module is the program being run, also through a symlink (npx and global installs link the bin). */
function isEntryPoint(): boolean {
  try {
    return import.meta.url === pathToFileURL(realpathSync(process.argv[1] ?? '')).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const argv = process.argv.slice(2);
  interruptWhenOrphaned();
  const run = shouldRelaunch(argv, process.execArgv, process.env) ? relaunch(process.argv[1], argv) : main(argv);
  run.then((code) => {
    process.exitCode = code;
  });
}
