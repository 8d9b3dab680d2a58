/**
 * `skipbench bench`: dense vs Skip Softmax against running OpenAI-compatible servers. Flags only: the measuring is
 * runServerBenchmark's.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import { formatMs, formatRatio, formatTokens } from '../../reports/format.js';
import { render } from '../../reports/render.js';
import type { Phase } from '../../reports/schema.js';
import { vllmExport } from '../../reports/vllm-export.js';
import {
  resolveServerBenchConfig,
  SERVER_BENCH_DEFAULTS,
  type LengthDistribution,
  type LoadSpec,
  type ServerArmSpec,
  type ServerBenchConfig,
  type ServerBenchUserConfig,
} from '../bench/config.js';
import { runServerBenchmark, type ServerProgress } from '../bench/runner.js';
import { createProgressBar, type ProgressBar } from '../progress-bar.js';
import { writeFileAtomic, writeJsonAtomic } from '../result-writer.js';
import { parseInteger, parseList, parseNumber, parseTokenCount } from '../units.js';

export interface BenchCommand {
  name: 'bench';
  config: ServerBenchConfig;
  vllm: boolean;
  quiet: boolean;
}

/** The flag behind every config field, for error messages (a field without a flag fails to compile). */
const BENCH_FLAGS: Record<keyof ServerBenchConfig, string> = {
  arms: '--arm',
  load: '--concurrency / --request-rate',
  capacity: '--capacity',
  accuracy: '--accuracy',
  numPrompts: '--num-prompts',
  inputLengths: '--input-lengths',
  outputLengths: '--output-lengths',
  durationMs: '--duration',
  endpoint: '--endpoint',
  promptFormat: '--prompt-format',
  model: '--model',
  contexts: '--contexts',
  phases: '--phases',
  rounds: '--rounds',
  warmup: '--warmup',
  outputTokens: '--output-tokens',
  seed: '--seed',
  apiKeyEnv: '--api-key-env',
  headers: '--header',
  timeoutMs: '--timeout',
  idleTimeoutMs: '--idle-timeout',
  extraBody: '--extra-body',
  maxCachedShare: '--max-cached-share',
  launchTimeoutMs: '--launch-timeout',
  outDir: '--out',
};

function armFlag(text: string, previous: ServerArmSpec[]): ServerArmSpec[] {
  const at = text.indexOf('=');
  if (at < 1) throw new SkipbenchError(ErrorCodes.CONFIG, `--arm must be id=url (got "${text}")`, { field: '--arm' });
  return [...previous, { id: text.slice(0, at), baseUrl: text.slice(at + 1) }];
}

function headerFlag(text: string, previous: Record<string, string>): Record<string, string> {
  const at = text.indexOf(':');
  if (at < 1) throw new SkipbenchError(ErrorCodes.CONFIG, `--header must be "Name: value" (got "${text}")`, { field: '--header' });
  return { ...previous, [text.slice(0, at).trim()]: text.slice(at + 1).trim() };
}

function jsonFlag(field: string) {
  return (text: string) => {
    try {
      return JSON.parse(text);
    } catch {
      throw new SkipbenchError(ErrorCodes.CONFIG, `${field} must be JSON (got ${text})`, { field });
    }
  };
}

function lengthDistFlag(field: string) {
  return (text: string): LengthDistribution => {
    const [kind, spread] = text.split(':');
    if (!['fixed', 'uniform', 'normal'].includes(kind)) {
      throw new SkipbenchError(ErrorCodes.CONFIG, `${field} must be fixed, uniform:SPREAD or normal:SPREAD (got "${text}")`, { field });
    }
    return { kind: kind as LengthDistribution['kind'], spread: spread === undefined ? (kind === 'fixed' ? 0 : 0.1) : parseNumber(field, spread, 0, 1) };
  };
}

function armsFile(path: string): ServerArmSpec[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SkipbenchError(ErrorCodes.CONFIG, `--arms-file ${path}: ${(error as Error).message}`, { field: '--arms-file' });
  }
  const arms = (value as { arms?: unknown })?.arms ?? value;
  if (!Array.isArray(arms)) {
    throw new SkipbenchError(ErrorCodes.CONFIG, '--arms-file must hold a list of arms or {"arms": [...]}', { field: '--arms-file' });
  }
  return arms as ServerArmSpec[];
}

function resolveFromFlags(user: ServerBenchUserConfig): ServerBenchConfig {
  try {
    return resolveServerBenchConfig(user);
  } catch (error) {
    if (!(error instanceof SkipbenchError) || !error.field) throw error;
    const flag = BENCH_FLAGS[error.field.split('.')[0] as keyof ServerBenchConfig];
    if (!flag) throw error;
    throw new SkipbenchError(error.code, `${flag}: ${error.message}`, { field: flag, allowed: error.allowed, received: error.received });
  }
}

export function registerBench(program: Command, done: (command: BenchCommand) => void): void {
  const d = SERVER_BENCH_DEFAULTS;
  program
    .command('bench')
    .description(
      'Dense vs Skip Softmax against running OpenAI-compatible servers (TensorRT-LLM, vLLM, SGLang, llama.cpp, ' +
        '`skipbench serve`): a prefill probe (TTFT, max_tokens 1) and a decode run (TPOT, ITL by position) per ' +
        'context, the same prompts to every arm in paired rounds. The first arm is the baseline.',
    )
    .option('--arm <id=url>', 'an arm: id and server URL (repeat; the first is the dense baseline)', armFlag, [])
    .option('--arms-file <json>', 'arms from a JSON file: [{id, baseUrl, launch?, thresholdScaleFactor?}] ({config} in launch = generated TensorRT-LLM YAML)')
    .addOption(new Option('--endpoint <name>', 'OpenAI endpoint').choices(['completions', 'chat']).default(d.endpoint))
    .addOption(
      new Option('--prompt-format <format>', 'completions prompt as text, or as token ids (BOS first)').choices(['text', 'token-ids']).default(d.promptFormat),
    )
    .option('--model <name>', 'the model field to send (default: none)')
    .addOption(
      new Option('--contexts <tokens>', 'prompt lengths as the server counts them (usage.prompt_tokens; K = 1024)')
        .argParser((t) => parseList('--contexts', t, parseTokenCount))
        .default(d.contexts, d.contexts.map(formatTokens).join(',')),
    )
    .addOption(
      new Option('--phases <list>', 'prefill (TTFT probe), decode (TPOT run)')
        .argParser((t) => parseList('--phases', t, (_f, p) => p as Phase))
        .default(d.phases, d.phases.join(',')),
    )
    .option('--rounds <n>', 'paired rounds per context and phase', (t) => parseInteger('--rounds', t, 1, 100000), d.rounds)
    .option('--warmup <n>', 'warmup rounds, sent first and left out of statistics', (t) => parseInteger('--warmup', t, 0, 1000), d.warmup)
    .option('--output-tokens <n>', 'max_tokens of the decode run (sent with ignore_eos)', (t) => parseInteger('--output-tokens', t, 2, 1 << 20), d.outputTokens)
    .option('--seed <n>', 'prompt corpus seed', (t) => parseInteger('--seed', t, 0, Number.MAX_SAFE_INTEGER), d.seed)
    .option('--concurrency <n>', 'load run: closed loop with n requests in flight (instead of paired probes)', (t) => parseInteger('--concurrency', t, 1, 100000))
    .option('--request-rate <r>', 'load run: open loop at r requests/s (inf = all at once)', (t) => (t === 'inf' ? Number.POSITIVE_INFINITY : parseNumber('--request-rate', t, 1e-9)))
    .addOption(new Option('--arrivals <kind>', 'open-loop arrival process').choices(['constant', 'poisson', 'gamma']).default('poisson'))
    .option('--burstiness <k>', 'gamma shape of the inter-arrival times (1 = Poisson, < 1 burstier)', (t) => parseNumber('--burstiness', t, 1e-6), 1)
    .option('--max-concurrency <n>', 'open loop: at most n in flight; later arrivals queue and their queue delay is recorded', (t) => parseInteger('--max-concurrency', t, 1, 100000))
    .option('--accuracy', 'also grade needle (passkey) retrieval through every arm at every context', false)
    .option('--accuracy-depths <list>', 'needle depths in the haystack, 0 (start) .. 1 (end)', (t) => parseList('--accuracy-depths', t, (f, x) => parseNumber(f, x, 0, 1)), [0.1, 0.5, 0.9])
    .option('--accuracy-keys <n>', 'pass keys per prompt (1 = passkey; more = multi-key, all asked for)', (t) => parseInteger('--accuracy-keys', t, 1, 32), 1)
    .option('--accuracy-rounds <n>', 'prompts per context and depth', (t) => parseInteger('--accuracy-rounds', t, 1, 10000), 5)
    .option('--capacity <connections>', 'also measure prefill capacity with autocannon at this many connections (non-streaming, max_tokens 1)', (t) => parseInteger('--capacity', t, 1, 10000))
    .option('--capacity-requests <n>', 'requests per capacity run, each a unique prompt (default: 8 per connection)', (t) => parseInteger('--capacity-requests', t, 1, 1_000_000))
    .option('--input-lengths <kind[:spread]>', 'load runs: prompt lengths fixed, uniform:0.2 (+-20%) or normal:0.1 (std 10%) around each context', lengthDistFlag('--input-lengths'), d.inputLengths)
    .option('--output-lengths <kind[:spread]>', 'load runs: output lengths around --output-tokens, same forms', lengthDistFlag('--output-lengths'), d.outputLengths)
    .option('--num-prompts <n>', 'load run: requests per arm and context (after warmup)', (t) => parseInteger('--num-prompts', t, 1, 1_000_000), d.numPrompts)
    .option('--duration <s>', 'load run: start no request after this many seconds', (t) => parseNumber('--duration', t, 0.001))
    .option('--api-key-env <NAME>', 'environment variable holding the API key (sent as a Bearer token, never written)')
    .option('--header <"Name: value">', 'extra request header (repeat)', headerFlag, {})
    .option('--timeout <ms>', 'per-request total timeout (ms)', (t) => parseNumber('--timeout', t, 1), d.timeoutMs)
    .option('--idle-timeout <ms>', 'longest silence allowed, including waiting for the first token (ms)', (t) => parseNumber('--idle-timeout', t, 1), d.idleTimeoutMs)
    .addOption(
      new Option('--extra-body <json>', 'extra JSON fields for every request').argParser(jsonFlag('--extra-body')).default(d.extraBody, JSON.stringify(d.extraBody)),
    )
    .option('--max-cached-share <fraction>', 'flag cells whose prefix-cache share exceeds this', (t) => parseNumber('--max-cached-share', t, 0, 1), d.maxCachedShare)
    .option('--launch-timeout <ms>', 'how long a launched server may take to become healthy (ms)', (t) => parseNumber('--launch-timeout', t, 1), d.launchTimeoutMs)
    .option('--out <dir>', 'results folder; each run writes a new subfolder', d.outDir)
    .option('--vllm-export', 'also write vLLM --save-result compatible JSON per arm, context and phase', false)
    .option('--quiet', 'no progress lines', false)
    .action((o) => {
      const arms = [...(o.armsFile ? armsFile(o.armsFile) : []), ...o.arm];
      if (o.concurrency !== undefined && o.requestRate !== undefined) {
        throw new SkipbenchError(ErrorCodes.CONFIG, '--concurrency and --request-rate exclude each other', { field: '--concurrency' });
      }
      const load: LoadSpec | undefined =
        o.concurrency !== undefined
          ? { kind: 'closed', concurrency: o.concurrency }
          : o.requestRate !== undefined
            ? {
                kind: 'open',
                arrivals: o.arrivals,
                rate: o.requestRate,
                burstiness: o.burstiness,
                ...(o.maxConcurrency !== undefined ? { maxConcurrency: o.maxConcurrency } : {}),
              }
            : undefined;
      done({
        name: 'bench',
        config: resolveFromFlags({
          arms,
          load,
          numPrompts: o.numPrompts,
          inputLengths: o.inputLengths,
          outputLengths: o.outputLengths,
          accuracy: o.accuracy
            ? { depths: o.accuracyDepths, keys: o.accuracyKeys, rounds: o.accuracyRounds, outputTokens: 12 + 8 * o.accuracyKeys }
            : undefined,
          capacity:
            o.capacity !== undefined ? { connections: o.capacity, requests: o.capacityRequests ?? 8 * o.capacity } : undefined,
          durationMs: o.duration !== undefined ? o.duration * 1000 : undefined,
          endpoint: o.endpoint,
          promptFormat: o.promptFormat,
          model: o.model,
          contexts: o.contexts,
          phases: o.phases,
          rounds: o.rounds,
          warmup: o.warmup,
          outputTokens: o.outputTokens,
          seed: o.seed,
          apiKeyEnv: o.apiKeyEnv,
          headers: o.header,
          timeoutMs: o.timeout,
          idleTimeoutMs: o.idleTimeout,
          extraBody: o.extraBody,
          maxCachedShare: o.maxCachedShare,
          launchTimeoutMs: o.launchTimeout,
          outDir: o.out,
        }),
        vllm: o.vllmExport,
        quiet: o.quiet,
      });
    });
}

/** A progress bar per (context, phase) over its requests, then one summary line per skip arm. */
function printer(stream: NodeJS.WritableStream & { isTTY?: boolean }): (event: ServerProgress) => void {
  let bar: ProgressBar | undefined;
  return (event) => {
    if (event.type === 'phase-start') {
      const label = `[${String(event.index).padStart(2)}/${event.total}] ${formatTokens(event.context)} ${event.phase}`;
      bar = createProgressBar({ total: event.requests, stream, label });
    } else if (event.type === 'request') {
      bar?.tick({ ok: event.sample.status === 'ok' });
    } else if (event.type === 'phase-done') {
      bar?.done();
      const [base, ...others] = event.cells;
      const what = base.phase === 'prefill' ? 'TTFT' : 'TPOT';
      for (const cell of others) {
        stream.write(
          `        ${what} ${base.arm} ${formatMs(base.summary.medianMs)}  ${cell.arm} ${formatMs(cell.summary.medianMs)}  ` +
            `${formatRatio(cell.speedup?.ofMedians)}  failed ${base.metrics.failed}/${cell.metrics.failed}\n`,
        );
      }
    }
  };
}

export async function runBench(command: BenchCommand, argv: string[], signal: AbortSignal): Promise<number> {
  let folder: string | undefined;
  const result = await runServerBenchmark(command.config, {
    signal,
    command: argv,
    onProgress: command.quiet ? undefined : printer(process.stderr),
    onResult: (r) => {
      folder ??= resolve(command.config.outDir, r.run.id);
      writeJsonAtomic(join(folder, 'result.json'), r);
      writeFileAtomic(join(folder, 'summary.md'), render('markdown', r));
      if (command.vllm) {
        for (const entry of vllmExport(r)) {
          const name = String(entry.label).replace(/[^A-Za-z0-9.-]+/g, '-');
          writeJsonAtomic(join(folder, 'vllm', `${name}.json`), entry);
        }
      }
    },
  });
  process.stdout.write(`\n${render('table', result)}\n\nResults: ${folder}/result.json and summary.md\n`);
  return result.run.status === 'completed' ? 0 : 130;
}
