/**
 * `skipbench client-overhead`: measures what the client itself adds (first-token overhead under 1000 concurrent
 * streams, 128K-token prompt build, CPU per output token at 1K vs 128K prompts) and prints each figure beside its
 * target. A report, not a gate: exit code 0 whatever the figures. Flags only; the measuring is
 * measureClientOverhead's.
 */
import type { Command } from 'commander';
import { formatMs } from '../../reports/format.js';
import {
  assessClientOverhead,
  CLIENT_OVERHEAD_DEFAULTS,
  type ClientOverheadOptions,
  type ClientOverheadResult,
  measureClientOverhead,
  type TargetCheck,
} from '../bench/client-overhead.js';
import { parseInteger, parseNumber } from '../units.js';

export interface ClientOverheadCommand {
  name: 'client-overhead';
  options: ClientOverheadOptions;
  json: boolean;
}

export function registerClientOverhead(program: Command, done: (command: ClientOverheadCommand) => void): void {
  const d = CLIENT_OVERHEAD_DEFAULTS;
  const int = (flag: string, min: number, max: number) => (t: string) => parseInteger(flag, t, min, max);
  program
    .command('client-overhead')
    .description(
      "Measure the client's own overhead against a local stamp server (a separate process that stamps each SSE event " +
        'as it writes it): first-token overhead over concurrent streams, 128K-token prompt build time, and client CPU ' +
        'per output token at a 1K vs a 128K prompt. Prints each figure beside its target; always exits 0.',
    )
    .option('--streams <n>', 'concurrent streams', int('--streams', 1, 20_000), d.streams)
    .option('--tokens <n>', 'token events per stream', int('--tokens', 1, 100_000), d.tokens)
    .option(
      '--rounds <n>',
      'measured rounds of concurrent streams (samples pooled)',
      int('--rounds', 1, 1000),
      d.rounds,
    )
    .option(
      '--first-delay <ms>',
      'server delay before the first event (ms)',
      (t) => parseNumber('--first-delay', t, 0),
      d.firstDelayMs,
    )
    .option('--interval <ms>', 'server delay between events (ms)', (t) => parseNumber('--interval', t, 0), d.intervalMs)
    .option(
      '--prefill <ms>',
      'server prefill time per request, one request at a time, so first events are at least this far apart ' +
        '(ms; 0 = none)',
      (t) => parseNumber('--prefill', t, 0),
      d.prefillMs,
    )
    .option(
      '--cost-requests <n>',
      'sequential requests per prompt length for CPU per token',
      int('--cost-requests', 1, 1000),
      d.costRequests,
    )
    .option('--json', 'print the result as JSON instead of the table', false)
    .action((o) => {
      done({
        name: 'client-overhead',
        options: {
          streams: o.streams,
          tokens: o.tokens,
          rounds: o.rounds,
          firstDelayMs: o.firstDelay,
          intervalMs: o.interval,
          prefillMs: o.prefill,
          costRequests: o.costRequests,
        },
        json: o.json,
      });
    });
}

const shellQuote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);

function formatValue(c: TargetCheck): string {
  if (!Number.isFinite(c.value)) return '—';
  if (c.unit === 'ms') return formatMs(c.value);
  if (c.unit === 'µs') return `${c.value.toFixed(2)} µs`;
  return `${c.value.toFixed(2)}x`;
}

/** The figures as a plain-text table. Pure. */
export function renderClientOverhead(result: ClientOverheadResult, commandLine: string): string {
  const checks = assessClientOverhead(result);
  const rows = checks.map((c) => [
    c.figure,
    formatValue(c),
    c.target ?? '',
    c.pass === undefined ? '' : c.pass ? 'PASS' : 'MISS',
  ]);
  const head = ['figure', 'measured', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const s = result.overhead;
  const env = result.environment.host;
  const notes = [
    `$ ${commandLine}`,
    `${env.cpuModel}, ${env.logicalCpus} logical CPUs, Node ${result.environment.runtime.node}` +
      (result.nodeFlags.length > 0 ? ` (${result.nodeFlags.join(' ')})` : ''),
    `stream rounds: ${s.rounds.length} x ${s.streams} concurrent streams over ${s.connections} connections, ` +
      `${s.tokensPerStream} tokens each (first after ${s.firstDelayMs} ms` +
      (s.prefillMs > 0 ? ` and a one-at-a-time prefill of ${s.prefillMs} ms` : '') +
      `, then every ${s.intervalMs} ms); ` +
      `${s.ok}/${s.ok + s.failed} ok, ${s.events} token events` +
      (s.failed > 0 ? `, failed: ${JSON.stringify(s.failures)}` : '') +
      (s.unmatched > 0 ? `, ${s.unmatched} streams without matching stamps` : ''),
    ...s.rounds.map(
      (r, i) =>
        `  round ${i + 1}: last request sent at ${formatMs(r.lastSendMs)}, first events written ` +
        `${formatMs(r.firstStampMinMs)}..${formatMs(r.firstStampMaxMs)}, first-token overhead p50 ` +
        `${formatMs(r.firstTokenP50Ms)} p99 ${formatMs(r.firstTokenP99Ms)}, wall ${formatMs(r.wallMs)}, CPU client ` +
        `${formatMs(r.clientCpuMs)} server ${formatMs(r.serverCpuMs)}, other processes ${r.foreignCores.toFixed(2)} cores`,
    ),
    `clock offset server - client: ${(s.clockOffsetMs * 1000).toFixed(1)} µs (subtracted)`,
    `overhead = client arrival stamp - server write stamp, pooled over rounds; CPU per output token: marginal = (CPU of a ` +
      `${result.cost.outputTokens}-token request - CPU of a ${result.cost.shortTokens}-token one) / ` +
      `${result.cost.outputTokens - result.cost.shortTokens}, median of ${result.cost.requests}`,
  ];
  return [...notes, '', line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Runs the measurement and prints the table (or JSON). Returns 0 (a report, not a gate), 130 when interrupted. */
export async function runClientOverhead(command: ClientOverheadCommand, signal: AbortSignal): Promise<number> {
  const commandLine = process.argv.map(shellQuote).join(' ');
  let result: ClientOverheadResult;
  try {
    result = await measureClientOverhead({
      ...command.options,
      signal,
      onProgress: command.json ? undefined : (stage) => process.stderr.write(`${stage} ...\n`),
    });
  } catch (error) {
    if (signal.aborted) return 130;
    throw error;
  }
  if (command.json) {
    process.stdout.write(
      `${JSON.stringify({ command: commandLine, ...result, checks: assessClientOverhead(result) }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`${renderClientOverhead(result, commandLine)}\n`);
  }
  return 0;
}
