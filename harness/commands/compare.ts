/**
 * `skipbench compare`: the regression gate over two result files. Flags only; the judging is reports/compare.ts's
 * compareResults (pure). Prints the verdict as a table (or Markdown for a CI step summary), writes the verdict JSON
 * when asked, and returns the exit code: 0 pass, 1 regression, 2 unusable input. An unreadable or non-result file is
 * an unusable verdict (exit 2, reasons listed, --out still written), never a crash.
 */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { ErrorCodes, invalid, SkipbenchError } from '../../kernels/errors.js';
import {
  COMPARE_DEFAULTS,
  type CompareOptions,
  compareResults,
  GateCodes,
  resolveCompareOptions,
  unusableVerdict,
  validateResult,
} from '../../reports/compare.js';
import type { Phase, ResultFile } from '../../reports/schema.js';
import {
  EXIT_CODES,
  formatNote,
  type Floor,
  GATE_METRICS,
  type GateMetric,
  type GateNote,
  type GateVerdict,
  renderVerdictMarkdown,
  renderVerdictTable,
  type ResolvedCompareOptions,
} from '../../reports/verdict.js';
import { writeJsonAtomic } from '../result-writer.js';
import { parseInteger, parseList, parseNumber, parseTokenCount } from '../units.js';

export interface CompareCommand {
  name: 'compare';
  baseline: string;
  current: string;
  options: ResolvedCompareOptions;
  /** Where to write the verdict JSON, when asked. */
  out?: string;
  /** Print Markdown instead of the terminal table. */
  markdown: boolean;
}

/** The flag behind every option, for error messages (an option without a flag fails to compile). */
const COMPARE_FLAGS: Record<keyof ResolvedCompareOptions, string> = {
  threshold: '--threshold',
  metrics: '--metric',
  floors: '--floor',
  minSamples: '--min-samples',
  level: '--level',
  resamples: '--resamples',
  seed: '--seed',
};

const FLOOR_FORMAT = 'phase:context:min[:arm], phase prefill | decode | any, e.g. prefill:32K:1.0';

/** "prefill:32K:1.0" -> speedup >= 1.0 in prefill at contexts >= 32768; "any:0:1" -> everywhere; an optional 4th part names the arm. */
export function parseFloor(text: string): Floor {
  const parts = text.split(':').map((s) => s.trim());
  const [phase, context, min, arm] = parts;
  if (
    parts.length < 3 ||
    parts.length > 4 ||
    !['prefill', 'decode', 'any'].includes(phase) ||
    (arm !== undefined && arm === '')
  ) {
    throw invalid(ErrorCodes.CONFIG, '--floor', FLOOR_FORMAT, text);
  }
  const floor: Floor = { metric: 'speedup', min: parseNumber('--floor', min, Number.MIN_VALUE) };
  if (phase !== 'any') floor.phase = phase as Phase;
  if (context !== '0') floor.minContext = parseTokenCount('--floor', context);
  if (arm !== undefined) floor.arm = arm;
  return floor;
}

function resolveFromFlags(user: CompareOptions): ResolvedCompareOptions {
  try {
    return resolveCompareOptions(user);
  } catch (error) {
    const flag =
      error instanceof SkipbenchError && error.field
        ? COMPARE_FLAGS[error.field as keyof ResolvedCompareOptions]
        : undefined;
    if (!flag || !(error instanceof SkipbenchError)) throw error;
    throw new SkipbenchError(error.code, `${flag}: ${error.message}`, {
      field: flag,
      allowed: error.allowed,
      received: error.received,
    });
  }
}

export function registerCompare(program: Command, done: (command: CompareCommand) => void): void {
  const d = COMPARE_DEFAULTS;
  program
    .command('compare')
    .description(
      "Regression gate: compare a current result file with a baseline, per (context, phase, arm): the skip arms' " +
        "median paired speedup and every arm's median headline latency, each with a seeded percentile-bootstrap " +
        'interval. A row regresses when it is worse by more than --threshold and the intervals do not overlap. ' +
        'Exit code: 0 pass, 1 regression (or a violated --floor), 2 unusable input.',
    )
    .requiredOption('--baseline <file>', 'the accepted result.json')
    .requiredOption('--current <file>', 'the result.json to judge')
    .option(
      '--threshold <fraction>',
      'relative change that matters (0.05 = 5%)',
      (t) => parseNumber('--threshold', t, 0, 0.999999),
      d.threshold,
    )
    .addOption(
      new Option('--floor <phase:context:min>', `minimum current speedup, repeatable (${FLOOR_FORMAT})`).argParser(
        (t: string, previous: Floor[] | undefined) => [...(previous ?? []), parseFloor(t)],
      ),
    )
    .addOption(
      new Option('--metric <list>', `metrics to gate: ${GATE_METRICS.join(', ')}`)
        .argParser((t) =>
          parseList('--metric', t, (f, m) => {
            if (!GATE_METRICS.includes(m as GateMetric))
              throw invalid(ErrorCodes.CONFIG, f, GATE_METRICS.join(' | '), m);
            return m as GateMetric;
          }),
        )
        .default([...d.metrics], d.metrics.join(',')),
    )
    .option(
      '--min-samples <n>',
      'fewest samples (or paired rounds) a cell may have',
      (t) => parseInteger('--min-samples', t, 1, 1_000_000),
      d.minSamples,
    )
    .option(
      '--level <fraction>',
      'confidence level of the intervals',
      (t) => parseNumber('--level', t, 0.5, 0.9999),
      d.level,
    )
    .option(
      '--resamples <n>',
      'bootstrap resamples',
      (t) => parseInteger('--resamples', t, 100, 1_000_000),
      d.resamples,
    )
    .option('--seed <n>', 'bootstrap seed', (t) => parseInteger('--seed', t, 0, 2 ** 32 - 1), d.seed)
    .option('--out <file>', 'write the verdict as JSON here')
    .option('--markdown', 'print Markdown (for a CI step summary) instead of the table', false)
    .action((o) => {
      done({
        name: 'compare',
        baseline: o.baseline,
        current: o.current,
        options: resolveFromFlags({
          threshold: o.threshold,
          metrics: o.metric,
          floors: o.floor ?? [],
          minSamples: o.minSamples,
          level: o.level,
          resamples: o.resamples,
          seed: o.seed,
        }),
        ...(o.out !== undefined ? { out: o.out } : {}),
        markdown: o.markdown,
      });
    });
}

/** Reads and parses a file; what goes wrong becomes a problem of the verdict, not an exception. */
export function loadInput(path: string, file: 'baseline' | 'current'): { value: ResultFile } | { problem: GateNote } {
  try {
    return { value: JSON.parse(readFileSync(path, 'utf8')) as ResultFile };
  } catch (error) {
    return {
      problem: { code: GateCodes.UNREADABLE, file, message: `cannot read ${path}: ${(error as Error).message}` },
    };
  }
}

/** Judges the two files from their paths: the verdict, with the paths recorded in it. */
export function compareFiles(baselinePath: string, currentPath: string, options: CompareOptions): GateVerdict {
  const b = loadInput(baselinePath, 'baseline');
  const c = loadInput(currentPath, 'current');
  const verdict =
    'value' in b && 'value' in c
      ? compareResults(b.value, c.value, options)
      : unusableVerdict(
          [
            ...('value' in b ? validateResult(b.value, 'baseline') : [b.problem]),
            ...('value' in c ? validateResult(c.value, 'current') : [c.problem]),
          ],
          options,
        );
  verdict.inputs.baseline.path = baselinePath;
  verdict.inputs.current.path = currentPath;
  return verdict;
}

export interface CompareIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: CompareIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

/** Runs the gate and returns the exit code: 0 pass, 1 regression, 2 unusable input (or the verdict not written). */
export function runCompare(command: CompareCommand, io: CompareIo = processIo): number {
  const verdict = compareFiles(command.baseline, command.current, command.options);
  io.stdout(command.markdown ? renderVerdictMarkdown(verdict) : renderVerdictTable(verdict));
  for (const p of verdict.problems) io.stderr(`skipbench compare: ${formatNote(p)}\n`);
  if (command.out) {
    try {
      writeJsonAtomic(command.out, verdict);
    } catch (error) {
      io.stderr(`skipbench compare: cannot write ${command.out}: ${(error as Error).message}\n`);
      return EXIT_CODES.unusable;
    }
  }
  return EXIT_CODES[verdict.status];
}
