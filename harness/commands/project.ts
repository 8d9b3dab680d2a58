/**
 * `skipbench project`: what a kernel speedup means end to end for a model on a GPU, as a labeled projection
 * (roofline per layer + Amdahl's law) whose inputs are all printed. Flags only: the arithmetic is
 * reports/projection's. Also the `--project` option of `skipbench report`, which adds a projection section built
 * from the report's own measured speedups.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import { formatTokens } from '../../reports/format.js';
import {
  DEFAULT_EFFICIENCY,
  type Efficiency,
  type GpuSpec,
  gpuFromJson,
  gpuPreset,
  type KernelSpeedupInput,
  looksLikeFile,
  measuredPoints,
  type ModelSpec,
  modelFromJson,
  modelPreset,
  type ProjectionConfig,
  type ProjectionFile,
  project,
  projectionRenderers,
  renderProjection,
  renderProjectionMarkdown,
  renderProjectionTable,
} from '../../reports/projection/index.js';
import { PHASES, type Phase, type ResultFile } from '../../reports/schema.js';
import { readResultFile } from '../result-file.js';
import { writeFileAtomic, writeJsonAtomic } from '../result-writer.js';
import { parseInteger, parseList, parseNumber, parseTokenCount } from '../units.js';

/** What the flags say, before any file is read (parsing stays pure). */
export interface ProjectOptions {
  /** A preset id or a path to a JSON file (skipbench's model shape or a Hugging Face config.json). */
  model: string;
  /** A preset id or a path to a JSON file. */
  gpu: string;
  tp: number;
  batch: number;
  contexts: number[];
  phases: Phase[];
  sparsity: Record<Phase, number>;
  /** Per phase, given outright; wins over --results and --sparsity. */
  kernelSpeedup: Partial<Record<Phase, number>>;
  /** A kernel result file whose measured speedups to use. */
  results?: string;
  /** The skip arm of the result file (default: the first after the baseline). */
  arm?: string;
  efficiency: Efficiency;
  allReduce: boolean;
  overheadMs: Record<Phase, number>;
}

export interface ProjectCommand {
  name: 'project';
  options: ProjectOptions;
  format: string;
  outDir: string;
}

export const PROJECT_DEFAULTS = {
  tp: 1,
  batch: 1,
  contexts: [8192, 32768, 131072],
  phases: ['prefill', 'decode'] as Phase[],
  // NVIDIA's Skip Softmax blog: ~50% sparsity is near-lossless, beyond ~60% accuracy drops sharply (DESIGN §1)
  sparsity: { prefill: 0.5, decode: 0.5 } as Record<Phase, number>,
  overheadMs: { prefill: 0, decode: 0 } as Record<Phase, number>,
  outDir: 'results',
};

/** "prefill=0.5,decode=0.3" or "0.5" (both phases) -> per-phase values, each checked against [min, max]. */
export function parsePhaseValues(
  field: string,
  text: string,
  min: number,
  max: number,
): Partial<Record<Phase, number>> {
  const values: Partial<Record<Phase, number>> = {};
  if (!text.includes('=')) {
    const v = parseNumber(field, text, min, max);
    return { prefill: v, decode: v };
  }
  for (const item of parseList(field, text, (_f, t) => t)) {
    const [key, value, ...rest] = item.split('=').map((s) => s.trim());
    if (!PHASES.includes(key as Phase) || value === undefined || rest.length) {
      throw new SkipbenchError(
        ErrorCodes.CONFIG,
        `${field} must be prefill=<n>,decode=<n> or one number (got "${text}")`,
        {
          field,
          allowed: 'prefill=<n>,decode=<n>',
          received: text,
        },
      );
    }
    values[key as Phase] = parseNumber(`${field} ${key}`, value, min, max);
  }
  return values;
}

const EFFICIENCY_KEYS: Record<string, keyof Efficiency> = {
  compute: 'compute',
  bandwidth: 'bandwidth',
  'attention-compute': 'attentionCompute',
  'attention-bandwidth': 'attentionBandwidth',
};

/**
 * "compute=0.6,bandwidth=0.8[,attention-compute=0.5,attention-bandwidth=0.9]". compute and bandwidth set every
 * term; the attention-* keys then override attention's pair.
 */
export function parseEfficiency(text: string): Efficiency {
  const given: Partial<Efficiency> = {};
  for (const item of parseList('--efficiency', text, (_f, t) => t)) {
    const [key, value] = item.split('=').map((s) => s.trim());
    const target = EFFICIENCY_KEYS[key];
    if (!target || value === undefined) {
      throw new SkipbenchError(
        ErrorCodes.CONFIG,
        `--efficiency keys are ${Object.keys(EFFICIENCY_KEYS).join(', ')} (got "${item}")`,
        {
          field: '--efficiency',
          allowed: Object.keys(EFFICIENCY_KEYS).join(' | '),
          received: item,
        },
      );
    }
    given[target] = parseNumber(`--efficiency ${key}`, value, 1e-6, 1);
  }
  const compute = given.compute ?? DEFAULT_EFFICIENCY.compute;
  const bandwidth = given.bandwidth ?? DEFAULT_EFFICIENCY.bandwidth;
  return {
    compute,
    bandwidth,
    attentionCompute:
      given.attentionCompute ?? (given.compute !== undefined ? compute : DEFAULT_EFFICIENCY.attentionCompute),
    attentionBandwidth:
      given.attentionBandwidth ?? (given.bandwidth !== undefined ? bandwidth : DEFAULT_EFFICIENCY.attentionBandwidth),
  };
}

/** A preset name is checked at parse time; a file path only when the command runs. */
function specArg(field: '--model' | '--gpu') {
  return (text: string) => {
    if (!looksLikeFile(text)) (field === '--model' ? modelPreset : gpuPreset)(text);
    return text;
  };
}

function readJson(path: string, field: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SkipbenchError(ErrorCodes.CONFIG, `${field}: cannot read ${path}: ${(error as Error).message}`, {
      field,
      received: path,
    });
  }
}

export function loadModel(arg: string): ModelSpec {
  return looksLikeFile(arg) ? modelFromJson(readJson(arg, '--model'), arg) : modelPreset(arg);
}

export function loadGpu(arg: string): GpuSpec {
  return looksLikeFile(arg) ? gpuFromJson(readJson(arg, '--gpu'), arg) : gpuPreset(arg);
}

/** Per phase: given outright, else measured in the result file, else the theory bound at the given sparsity. */
export function kernelSpeedupInputs(options: ProjectOptions, result?: ResultFile): Record<Phase, KernelSpeedupInput> {
  const inputs = {} as Record<Phase, KernelSpeedupInput>;
  for (const phase of PHASES) {
    const given = options.kernelSpeedup[phase];
    if (given !== undefined) inputs[phase] = { kind: 'given', speedup: given };
    else if (result && options.results) {
      const { arm, points } = measuredPoints(result, phase, options.arm);
      const implementation = result.target.kind === 'kernel' ? result.target.implementation : 'unknown';
      inputs[phase] = {
        kind: 'measured',
        file: options.results,
        arm,
        implementation,
        points,
        fallbackSparsity: options.sparsity[phase],
      };
    } else inputs[phase] = { kind: 'theory', sparsity: options.sparsity[phase] };
  }
  return inputs;
}

/** Reads the files the options name and builds the projection's configuration. */
export function resolveProjectConfig(options: ProjectOptions, result?: ResultFile): ProjectionConfig {
  const measured = result ?? (options.results ? readResultFile(options.results) : undefined);
  return {
    model: loadModel(options.model),
    gpu: loadGpu(options.gpu),
    tp: options.tp,
    batch: options.batch,
    contexts: options.contexts,
    phases: options.phases,
    efficiency: options.efficiency,
    allReduce: options.allReduce,
    overheadMs: options.overheadMs,
    kernelSpeedup: kernelSpeedupInputs(options, measured),
  };
}

function phaseList(text: string): Phase[] {
  return parseList('--phases', text, (f, p) => {
    if (!PHASES.includes(p as Phase))
      throw new SkipbenchError(ErrorCodes.CONFIG, `${f} must be prefill | decode (got "${p}")`, { field: f });
    return p as Phase;
  });
}

export function registerProject(program: Command, done: (command: ProjectCommand) => void): void {
  const d = PROJECT_DEFAULTS;
  const int = (flag: string, min: number, max: number) => (t: string) => parseInteger(flag, t, min, max);
  program
    .command('project')
    .description(
      'Project what Skip Softmax means end to end for a model on a GPU: a roofline estimate of attention and ' +
        'non-attention time per layer, the attention share f of TTFT (prefill) and TPOT (decode), and the speedup ' +
        "Amdahl's law gives for a kernel speedup S (theory 2/(2-s), measured in a result file, or given). " +
        'Every figure is labeled projected and printed with its inputs. Writes <slug>.json and <slug>.md under --out.',
    )
    .requiredOption(
      '--model <preset|file.json>',
      'llama-3.1-8b | llama-3.3-70b | qwen3-30b-a3b, or a JSON file (skipbench model shape or a Hugging Face config.json)',
      specArg('--model'),
    )
    .requiredOption(
      '--gpu <preset|file.json>',
      'h100 | h200 | b200, or a JSON file (peakFlopsPerSec {bf16, fp8}, memoryBytesPerSec, memoryBytes, linkBytesPerSec)',
      specArg('--gpu'),
    )
    .option('--tp <n>', 'tensor-parallel degree (GPUs per model instance)', int('--tp', 1, 1024), d.tp)
    .option(
      '--batch <n>',
      'sequences processed together, all at the same context (1 = one request at a time)',
      int('--batch', 1, 1 << 20),
      d.batch,
    )
    .addOption(
      new Option('--contexts <tokens>', 'context lengths, comma-separated (tokens; K = 1024)')
        .argParser((t) => parseList('--contexts', t, parseTokenCount))
        .default([...d.contexts], d.contexts.map(formatTokens).join(',')),
    )
    .addOption(
      new Option('--phases <list>', 'phases: prefill (TTFT), decode (TPOT)')
        .argParser(phaseList)
        .default([...d.phases], d.phases.join(',')),
    )
    .option(
      '--sparsity <phase=s,...>',
      'tile sparsity per phase for the theory bound 2/(2-s), or one number for both',
      (t) => parsePhaseValues('--sparsity', t, 0, 0.999),
      { ...d.sparsity },
    )
    .option(
      '--kernel-speedup <phase=S,...>',
      'kernel speedup per phase given outright (wins over --results and --sparsity)',
      (t) => parsePhaseValues('--kernel-speedup', t, 0.01, 1000),
    )
    .option('--results <file>', 'kernel result.json: use its measured median speedup per phase at the nearest context')
    .option('--arm <id>', 'skip arm of --results to use (default: the first after the baseline)')
    .addOption(
      new Option(
        '--efficiency <key=v,...>',
        'achievable fraction of datasheet peak: compute, bandwidth, attention-compute, attention-bandwidth',
      )
        .argParser(parseEfficiency)
        .default(
          { ...DEFAULT_EFFICIENCY },
          `compute=${DEFAULT_EFFICIENCY.compute},bandwidth=${DEFAULT_EFFICIENCY.bandwidth}`,
        ),
    )
    .option(
      '--overhead <phase=ms,...>',
      'fixed time per forward pass outside the roofline (launches, scheduling), ms',
      (t) => parsePhaseValues('--overhead', t, 0, 1e9),
      { ...d.overheadMs },
    )
    .option('--no-allreduce', 'leave tensor-parallel communication out')
    .addOption(
      new Option('--format <name>', 'what to print').choices(Object.keys(projectionRenderers)).default('table'),
    )
    .option('--out <dir>', 'folder for the JSON and Markdown files', d.outDir)
    .action((o) => {
      done({
        name: 'project',
        options: {
          model: o.model,
          gpu: o.gpu,
          tp: o.tp,
          batch: o.batch,
          contexts: o.contexts,
          phases: o.phases,
          sparsity: { ...d.sparsity, ...o.sparsity },
          kernelSpeedup: o.kernelSpeedup ?? {},
          results: o.results,
          arm: o.arm,
          efficiency: o.efficiency,
          allReduce: o.allreduce,
          overheadMs: { ...d.overheadMs, ...o.overhead },
        },
        format: o.format,
        outDir: o.out,
      });
    });
}

/** File name stem of a projection: model, GPU, tp and batch. */
export function projectionSlug(p: ProjectionFile): string {
  const safe = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9.]+/g, '-')
      .replace(/^-|-$/g, '');
  return `projection-${safe(p.inputs.model.id)}-${safe(p.inputs.gpu.id)}-tp${p.inputs.tp}-b${p.inputs.batch}`;
}

/**
 * Prints the projection (stdout, in --format) and writes <slug>.json and <slug>.md under the out folder; where they
 * went goes to stderr, so `--format json` output stays one JSON document.
 */
export async function runProject(
  command: ProjectCommand,
  write: (s: string) => void = (s) => process.stdout.write(s),
  note: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  const projection = project(resolveProjectConfig(command.options));
  const stem = resolve(command.outDir, projectionSlug(projection));
  writeJsonAtomic(`${stem}.json`, projection);
  writeFileAtomic(`${stem}.md`, renderProjectionMarkdown(projection, 1));
  write(renderProjection(command.format, projection));
  note(`\nProjection: ${stem}.json and ${stem}.md\n`);
  return 0;
}

// -- skipbench report --project ----------------------------------------------------------------------------------

/** `--project model=<m>,gpu=<g>[,tp=<n>][,batch=<n>]` of `skipbench report`. */
export interface ReportProjection {
  model: string;
  gpu: string;
  tp: number;
  batch: number;
}

export const REPORT_PROJECT_HELP =
  'add a projected end-to-end section from the measured kernel speedups: model=<preset|file>,gpu=<preset|file>[,tp=<n>][,batch=<n>]';

export function parseProjectSpec(text: string): ReportProjection {
  const spec: Record<string, string> = {};
  for (const item of parseList('--project', text, (_f, t) => t)) {
    const at = item.indexOf('=');
    const key = item.slice(0, at).trim();
    if (at < 1 || !['model', 'gpu', 'tp', 'batch'].includes(key)) {
      throw new SkipbenchError(
        ErrorCodes.CONFIG,
        `--project must be model=<m>,gpu=<g>[,tp=<n>][,batch=<n>] (got "${text}")`,
        {
          field: '--project',
          allowed: 'model=<m>,gpu=<g>[,tp=<n>][,batch=<n>]',
          received: text,
        },
      );
    }
    spec[key] = item.slice(at + 1).trim();
  }
  if (!spec.model || !spec.gpu) {
    throw new SkipbenchError(ErrorCodes.CONFIG, `--project needs model= and gpu= (got "${text}")`, {
      field: '--project',
      received: text,
    });
  }
  return {
    model: specArg('--model')(spec.model),
    gpu: specArg('--gpu')(spec.gpu),
    tp: spec.tp === undefined ? 1 : parseInteger('--project tp', spec.tp, 1, 1024),
    batch: spec.batch === undefined ? 1 : parseInteger('--project batch', spec.batch, 1, 1 << 20),
  };
}

/**
 * The projection section `skipbench report --project` appends after a result file: the result's own contexts and
 * phases, S measured per cell (first skip arm), default efficiency. `format` is the report's: table or markdown.
 */
export function projectionSectionFor(result: ResultFile, file: string, spec: ReportProjection, format: string): string {
  if (format !== 'table' && format !== 'markdown') {
    throw new SkipbenchError(
      ErrorCodes.CONFIG,
      `--project works with --format table | markdown; for JSON run: skipbench project --results ${file} --format json`,
      { field: '--project', allowed: 'table | markdown', received: format },
    );
  }
  const contexts = [...new Set(result.cells.map((c) => c.context))].sort((a, b) => a - b);
  const phases = PHASES.filter((p) => result.cells.some((c) => c.phase === p));
  const options: ProjectOptions = {
    ...spec,
    contexts,
    phases,
    sparsity: { ...PROJECT_DEFAULTS.sparsity },
    kernelSpeedup: {},
    results: file,
    efficiency: { ...DEFAULT_EFFICIENCY },
    allReduce: true,
    overheadMs: { ...PROJECT_DEFAULTS.overheadMs },
  };
  const projection = project(resolveProjectConfig(options, result));
  return format === 'table' ? `\n${renderProjectionTable(projection)}` : `\n${renderProjectionMarkdown(projection, 2)}`;
}
