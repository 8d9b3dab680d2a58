/**
 * How much the client itself adds to what it measures (`skipbench client-overhead`). Three figures, each against a
 * target from the issue:
 *
 * 1. Stream overhead. The stamp server (stamp-server.ts, its own process) stamps every token event immediately before
 *    writing it; `sendStreamingRequest` stamps the same event when undici hands over its bytes. Both stamps are epoch
 *    ms, `performance.timeOrigin + performance.now()`, which on one machine reads the same system clock in both
 *    processes; the residual offset between the two (microseconds: each process fixes its time origin at start) is
 *    measured exactly against the shared monotonic clock (GET /stats) and subtracted. Overhead of an event = client
 *    arrival stamp - (server stamp - offset): loopback, kernel and the client's event loop, i.e. what the client
 *    adds to TTFT (first event) and to every ITL. The server puts each stamp into the event's text (`"<stamp>;"`), so
 *    the stamps come back through the record's `text` (collectText) in event order, beside `tokenTimes`, with no
 *    change to the request path and no second parser. All streams run at once through one undici Pool with a
 *    connection each, after a warmup round that opens those connections.
 * 2. Prompt build: a 128K-token prompt built and tokenized by `buildPrompt` with the Llama 3 tokenizer.
 * 3. Client CPU per output token, 1K-token prompt vs 128K-token prompt (token IDs), sequential requests, server
 *    writing back to back. CPU is this process's `process.cpuUsage()` (user + system) around each request. Two
 *    figures: the whole request per output token (includes serialising and sending the prompt, so it grows with the
 *    prompt), and the marginal cost, (CPU of an N-token request - CPU of an n-token one) / (N - n), which cancels
 *    the prompt's fixed cost and is the per-token cost the target compares.
 * Every stream round also records the client's and the server's CPU and the CPU of all other processes, because
 * on a small machine the figures of (1) are set by CPU saturation as much as by latency.
 *
 * Library code: it prints nothing; `onProgress` says which stage runs.
 */
import { setMaxListeners } from 'node:events';
import { Pool } from 'undici';
import { ErrorCodes, invalid } from '../../kernels/errors.js';
import { distribution, median } from '../../reports/stats.js';
import { buildPrompt, llama3Tokenizer } from '../../workloads/prompts/index.js';
import { cpuSnapshot, foreignLoad } from '../cpu-load.js';
import { captureEnvironment } from '../environment.js';
import type { RequestRecord, RequestSpec } from '../server/record.js';
import { sendStreamingRequest } from '../server/request.js';
import { epochMinusMonotonic, epochNow, launchStampServer } from './stamp-server.js';

export const CLIENT_OVERHEAD_DEFAULTS = {
  /** Concurrent streams of the overhead round. */
  streams: 1000,
  /** Token events per stream. */
  tokens: 16,
  /** Measured rounds of the stream overhead, after one warmup round; their samples are pooled. */
  rounds: 5,
  /** Server delay before the first event (ms): longer than sending 1000 requests takes (30-110 ms measured), so
   * that no first event is written while the client is still sending. */
  firstDelayMs: 200,
  /** Server delay between events (ms): 20 tokens/s per stream, 20k tokens/s at 1000 streams (a large serving node's
   * decode rate). */
  intervalMs: 50,
  /** Server prefill time per request, one request at a time (ms), so first events come 1 ms apart as prefills
   * finish; 0 = every first event `firstDelayMs` after its own request, all 1000 within ~30-100 ms. */
  prefillMs: 1,
  /** Tokens of the prompt whose build is timed. */
  promptTokens: 131_072,
  /** Timed builds after the first (cold) one. */
  promptBuilds: 5,
  /** Prompt lengths compared for CPU per output token (small, large). */
  costPrompts: [1024, 131_072] as [number, number],
  /** Output tokens of each cost request (1024: a stray ~1 ms scavenge moves the marginal cost by only ~1 µs). */
  costOutputTokens: 1024,
  /** Output tokens of the short request the marginal cost subtracts. */
  costShortTokens: 16,
  /** Measured cost requests per prompt length (plus one warmup pair). */
  costRequests: 20,
  /** Server delay between events of the cost requests (ms); 0 = back to back. */
  costIntervalMs: 0,
} as const;

/** The targets. */
export const CLIENT_OVERHEAD_TARGETS = {
  /** First-event overhead, median (ms). */
  firstTokenMedianMs: 1,
  /** First-event overhead, p99 (ms). */
  firstTokenP99Ms: 3,
  /** Build + tokenize a 128K-token prompt, first (cold) build (ms). */
  promptBuildMs: 300,
  /** Marginal CPU per output token, 128K prompt / 1K prompt: "no higher", with 10% allowed for measurement noise. */
  costRatio: 1.1,
} as const;

export interface ClientOverheadOptions {
  streams?: number;
  tokens?: number;
  rounds?: number;
  firstDelayMs?: number;
  intervalMs?: number;
  prefillMs?: number;
  promptTokens?: number;
  promptBuilds?: number;
  costPrompts?: [number, number];
  costOutputTokens?: number;
  costShortTokens?: number;
  costRequests?: number;
  costIntervalMs?: number;
  /** Use this running stamp server instead of forking the built one (tests; it then shares the client's loop). */
  serverUrl?: string;
  /** Stops between requests and stages; the result so far is not returned (the promise rejects). */
  signal?: AbortSignal;
  onProgress?: (stage: string) => void;
}

/** Summary of one overhead sample set (ms): reports/stats `distribution` (p-quantiles linearly interpolated). */
export type Distribution = ReturnType<typeof distribution>;

/** One measured round of the stream overhead: every stream started at once. Times after the round started (ms). */
export interface OverheadRound {
  wallMs: number;
  /** The last t_send: until then the client was still writing requests. */
  lastSendMs: number;
  /** Earliest and latest first-event server stamp (offset-corrected). */
  firstStampMinMs: number;
  firstStampMaxMs: number;
  /** This round's first-token overhead, median and p99 (ms), for the spread between rounds. */
  firstTokenP50Ms: number;
  firstTokenP99Ms: number;
  /** CPU time (user + system) of this process and of the stamp server process during the round (ms); the server's
   * is NaN when it runs in this process. */
  clientCpuMs: number;
  serverCpuMs: number;
  /** CPU used by every other process during the round, in cores (harness/cpu-load; 10 ms tick resolution). */
  foreignCores: number;
}

export interface StreamOverhead {
  streams: number;
  tokensPerStream: number;
  firstDelayMs: number;
  intervalMs: number;
  prefillMs: number;
  /** The measured rounds, in order; the distributions below pool their raw samples. */
  rounds: OverheadRound[];
  /** Connections the pool held after the warmup round. */
  connections: number;
  /** Streams over all rounds that completed / failed. */
  ok: number;
  failed: number;
  /** Failure reasons of the failed streams, counted. */
  failures: Record<string, number>;
  /** Streams whose text did not hold one stamp per token event (left out of the samples). */
  unmatched: number;
  /** Client arrival - server stamp of each stream's first token event, every round (ms): what the client adds to
   * TTFT. */
  firstTokenMs: Distribution;
  /** The same for every token event of every stream (ms). */
  allEventsMs: Distribution;
  /** Token events received. */
  events: number;
  /** Client process CPU (user + system) during the measured rounds (ms): requests, streams and records. */
  cpuMs: number;
  /** cpuMs * 1000 / events (µs per token). */
  cpuUsPerToken: number;
  /** Server epoch clock - client epoch clock (ms), measured against the shared monotonic clock and subtracted from
   * every server stamp; 0 when the server runs in this process. */
  clockOffsetMs: number;
}

export interface PromptBuild {
  tokens: number;
  /** First call of llama3Tokenizer() (ms); ~0 when this process had already loaded it. */
  tokenizerLoadMs: number;
  /** First build (cold segment cache) (ms). */
  firstBuildMs: number;
  /** Median of the following builds (ms), each a different request index. */
  medianBuildMs: number;
  buildsMs: number[];
}

export interface TokenCostCase {
  promptTokens: number;
  /** Median over requests of client CPU per output token of the whole request: body, send and stream (µs). */
  cpuUsPerOutputToken: number;
  /** Median over pairs of (CPU of a long request - CPU of a short one) / (long - short tokens) (µs): the streaming
   * cost per token, with the prompt's fixed cost (serialising and sending it) cancelled out. */
  marginalCpuUsPerToken: number;
  /** CPU of each long request (µs). */
  longCpuUs: number[];
  /** CPU of each short request (µs). */
  shortCpuUs: number[];
}

export interface TokenCost {
  outputTokens: number;
  shortTokens: number;
  requests: number;
  small: TokenCostCase;
  large: TokenCostCase;
  /** large / small of cpuUsPerOutputToken. */
  ratio: number;
  /** large / small of marginalCpuUsPerToken: the figure the target applies to. */
  marginalRatio: number;
}

export interface ClientOverheadResult {
  environment: ReturnType<typeof captureEnvironment>;
  /** The Node flags of the measuring process (the CLI adds its garbage-collector flags: harness/relaunch.ts). */
  nodeFlags: string[];
  options: Required<Omit<ClientOverheadOptions, 'serverUrl' | 'signal' | 'onProgress'>> & { serverUrl?: string };
  overhead: StreamOverhead;
  prompt: PromptBuild;
  cost: TokenCost;
}

function resolveOptions(o: ClientOverheadOptions): ClientOverheadResult['options'] {
  const d = CLIENT_OVERHEAD_DEFAULTS;
  const r = {
    streams: o.streams ?? d.streams,
    tokens: o.tokens ?? d.tokens,
    rounds: o.rounds ?? d.rounds,
    firstDelayMs: o.firstDelayMs ?? d.firstDelayMs,
    intervalMs: o.intervalMs ?? d.intervalMs,
    prefillMs: o.prefillMs ?? d.prefillMs,
    promptTokens: o.promptTokens ?? d.promptTokens,
    promptBuilds: o.promptBuilds ?? d.promptBuilds,
    costPrompts: o.costPrompts ?? [...d.costPrompts],
    costOutputTokens: o.costOutputTokens ?? d.costOutputTokens,
    costShortTokens: o.costShortTokens ?? d.costShortTokens,
    costRequests: o.costRequests ?? d.costRequests,
    costIntervalMs: o.costIntervalMs ?? d.costIntervalMs,
    ...(o.serverUrl !== undefined ? { serverUrl: o.serverUrl } : {}),
  } as ClientOverheadResult['options'];
  const integer = (field: string, value: number, lo: number, hi: number) => {
    if (!Number.isSafeInteger(value) || value < lo || value > hi) {
      throw invalid(ErrorCodes.CONFIG, field, `an integer in [${lo}, ${hi}]`, value);
    }
  };
  integer('streams', r.streams, 1, 20_000);
  integer('tokens', r.tokens, 1, 100_000);
  integer('rounds', r.rounds, 1, 1000);
  integer('promptTokens', r.promptTokens, 1, 2_097_152);
  integer('promptBuilds', r.promptBuilds, 1, 1000);
  integer('costPrompts[0]', r.costPrompts[0], 1, 2_097_152);
  integer('costPrompts[1]', r.costPrompts[1], 1, 2_097_152);
  integer('costShortTokens', r.costShortTokens, 1, 100_000);
  integer('costOutputTokens', r.costOutputTokens, r.costShortTokens + 1, 100_000);
  integer('costRequests', r.costRequests, 1, 1000);
  for (const field of ['firstDelayMs', 'intervalMs', 'prefillMs', 'costIntervalMs'] as const) {
    if (!(Number.isFinite(r[field]) && r[field] >= 0))
      throw invalid(ErrorCodes.CONFIG, field, 'a number >= 0', r[field]);
  }
  return r;
}

/** Runs the three measurements. Needs `npm run build` unless `serverUrl` is given (the stamp server is forked). */
export async function measureClientOverhead(options: ClientOverheadOptions = {}): Promise<ClientOverheadResult> {
  const o = resolveOptions(options);
  const { onProgress } = options;
  const launched = o.serverUrl === undefined ? await launchStampServer() : undefined;
  const url = o.serverUrl ?? launched!.url;
  const pool = new Pool(url, {
    connections: o.streams,
    pipelining: 1,
    keepAliveTimeout: 120_000,
    keepAliveMaxTimeout: 120_000,
  });
  // every request listens on the signal: ours, with room for all of them, follows the caller's
  const inner = new AbortController();
  setMaxListeners(o.streams + 16, inner.signal);
  const forward = () => inner.abort(options.signal?.reason);
  if (options.signal?.aborted) forward();
  options.signal?.addEventListener('abort', forward, { once: true });
  const signal = inner.signal;
  try {
    onProgress?.(`stream overhead: ${o.streams} concurrent streams x ${o.tokens} tokens`);
    const overhead = await streamOverhead(url, pool, o, launched !== undefined, signal);
    signal.throwIfAborted();
    onProgress?.(`prompt build: ${o.promptTokens} tokens`);
    const { build, prompts } = promptBuild(o);
    signal.throwIfAborted();
    onProgress?.(`client CPU per token: ${o.costPrompts.join(' vs ')}-token prompts`);
    const cost = await tokenCost(url, pool, o, prompts, signal);
    const environment = captureEnvironment();
    return { environment, nodeFlags: [...process.execArgv], options: o, overhead, prompt: build, cost };
  } finally {
    options.signal?.removeEventListener('abort', forward);
    await pool.destroy();
    await launched?.close();
  }
}

// -- 1. stream overhead --

const REQUEST_TIMEOUT_MS = 120_000;

/** How the stamp server paces one request's events (stamp-server.ts). */
interface StampSchedule {
  firstDelayMs: number;
  intervalMs: number;
  prefillMs?: number;
}

function streamSpec(
  id: string,
  maxTokens: number,
  schedule: StampSchedule,
  prompt: RequestSpec['prompt'] = 'x',
): RequestSpec {
  return {
    id,
    endpoint: 'completions',
    prompt,
    maxTokens,
    extraBody: {
      stamp_first_delay_ms: schedule.firstDelayMs,
      stamp_interval_ms: schedule.intervalMs,
      stamp_prefill_ms: schedule.prefillMs ?? 0,
    },
  };
}

async function streamOverhead(
  url: string,
  pool: Pool,
  o: ClientOverheadResult['options'],
  separateProcess: boolean,
  signal: AbortSignal | undefined,
): Promise<StreamOverhead> {
  const send = (spec: RequestSpec) =>
    sendStreamingRequest(spec, {
      baseUrl: url,
      dispatcher: pool,
      now: epochNow,
      collectText: true,
      timeoutMs: REQUEST_TIMEOUT_MS,
      signal,
    });
  // warmup: one request per stream opens every connection and warms the JIT; not measured. (A warmup round shaped
  // like the measured ones gave a worse p99, 3.9-9.7 ms against 1.3-4.9 ms, in three interleaved pairs with 64 MB
  // semi-spaces that still grew from 1 MB.)
  await Promise.all(Array.from({ length: o.streams }, (_, i) => send(streamSpec(`w${i}`, 2, { firstDelayMs: 0, intervalMs: 0 }))));
  signal?.throwIfAborted();
  const connections = pool.stats.connected;
  const clockOffsetMs = separateProcess ? (await serverStats(pool)).clockOffsetMs : 0;
  const first: number[] = [];
  const all: number[] = [];
  const rounds: OverheadRound[] = [];
  const failures: Record<string, number> = {};
  let ok = 0;
  let events = 0;
  let unmatched = 0;
  let cpuUs = 0;
  for (let round = 0; round < o.rounds; round++) {
    // requests are prepared before the clock starts
    const specs = Array.from({ length: o.streams }, (_, i) =>
      streamSpec(`r${round}s${i}`, o.tokens, o),
    );
    const server0 = separateProcess ? (await serverStats(pool)).cpuUs : 0;
    const machine0 = cpuSnapshot();
    const cpu0 = process.cpuUsage();
    const wall0 = epochNow();
    const records = await Promise.all(specs.map(send));
    const wallMs = epochNow() - wall0;
    const cpu = process.cpuUsage(cpu0);
    const machine1 = cpuSnapshot();
    signal?.throwIfAborted();
    // in-process, the server's CPU is already part of this process's
    const serverCpuMs = separateProcess ? ((await serverStats(pool)).cpuUs - server0) / 1000 : Number.NaN;
    cpuUs += cpu.user + cpu.system;
    const samples = overheadSamples(records, clockOffsetMs);
    for (const x of samples.first) first.push(x);
    for (const x of samples.all) all.push(x);
    events += samples.events;
    unmatched += samples.unmatched;
    let lastSend = Number.NEGATIVE_INFINITY;
    for (const r of records) {
      if (r.status === 'ok') ok += 1;
      else failures[r.reason] = (failures[r.reason] ?? 0) + 1;
      if (r.tSend !== undefined) lastSend = Math.max(lastSend, r.tSend);
    }
    const firstStamps = records.flatMap((r) => (r.status === 'ok' ? serverStamps(r.text ?? '').slice(0, 1) : []));
    const firstToken = distribution(samples.first);
    rounds.push({
      wallMs,
      lastSendMs: lastSend - wall0,
      firstStampMinMs: Math.min(...firstStamps) - clockOffsetMs - wall0,
      firstStampMaxMs: Math.max(...firstStamps) - clockOffsetMs - wall0,
      firstTokenP50Ms: firstToken.p50,
      firstTokenP99Ms: firstToken.p99,
      clientCpuMs: (cpu.user + cpu.system) / 1000,
      serverCpuMs,
      foreignCores: Math.max(0, foreignLoad(machine0, machine1) - (separateProcess ? serverCpuMs / wallMs : 0)),
    });
  }
  const cpuMs = cpuUs / 1000;
  return {
    streams: o.streams,
    tokensPerStream: o.tokens,
    firstDelayMs: o.firstDelayMs,
    intervalMs: o.intervalMs,
    prefillMs: o.prefillMs,
    rounds,
    connections,
    ok,
    failed: o.streams * o.rounds - ok,
    failures,
    unmatched,
    firstTokenMs: distribution(first),
    allEventsMs: distribution(all),
    events,
    cpuMs,
    cpuUsPerToken: events > 0 ? (cpuMs * 1000) / events : Number.NaN,
    clockOffsetMs,
  };
}

/**
 * Per-event overhead from records of the stamp server: the stamps are the `;`-separated numbers of the record's text,
 * one per token event, in the order of `tokenTimes`. A record whose stamps do not match its events one to one is
 * counted in `unmatched` and left out. `offsetMs` (server clock - client clock) is subtracted from each stamp. Pure.
 */
export function overheadSamples(
  records: readonly RequestRecord[],
  offsetMs = 0,
): {
  first: number[];
  all: number[];
  events: number;
  unmatched: number;
} {
  const first: number[] = [];
  const all: number[] = [];
  let events = 0;
  let unmatched = 0;
  for (const r of records) {
    if (r.status !== 'ok') continue;
    events += r.tokenTimes.length;
    const stamps = serverStamps(r.text ?? '');
    if (stamps.length !== r.tokenTimes.length || stamps.some((s) => !Number.isFinite(s))) {
      unmatched += 1;
      continue;
    }
    first.push(r.tokenTimes[0] - (stamps[0] - offsetMs));
    for (let i = 0; i < stamps.length; i++) all.push(r.tokenTimes[i] - (stamps[i] - offsetMs));
  }
  return { first, all, events, unmatched };
}

/** The stamps the stamp server put in the generated text: `"<stamp>;<stamp>;..."`. */
export function serverStamps(text: string): number[] {
  const parts = text.split(';');
  parts.pop(); // after the last ';'
  return parts.map(Number);
}

/** GET /stats: server epoch clock - client epoch clock (ms), both taken against the shared monotonic clock, and
 * the server process's CPU time so far (µs). */
async function serverStats(pool: Pool): Promise<{ clockOffsetMs: number; cpuUs: number }> {
  const response = await pool.request({ path: '/stats', method: 'GET' });
  const stats = (await response.body.json()) as { epochMinusMonotonic: number; cpuUs: number };
  return { clockOffsetMs: stats.epochMinusMonotonic - epochMinusMonotonic(), cpuUs: stats.cpuUs };
}

// -- 2. prompt build --

function promptBuild(o: ClientOverheadResult['options']): { build: PromptBuild; prompts: Map<number, number[]> } {
  const t0 = performance.now();
  const tokenizer = llama3Tokenizer();
  const tokenizerLoadMs = performance.now() - t0;
  const buildsMs: number[] = [];
  let built: number[] | undefined;
  for (let i = 0; i <= o.promptBuilds; i++) {
    const start = performance.now();
    const prompt = buildPrompt({
      tokens: o.promptTokens,
      seed: 0,
      runId: 'client-overhead',
      requestIndex: i,
      endpoint: 'completions',
      tokenizer,
    });
    buildsMs.push(performance.now() - start);
    built ??= prompt.tokenIds;
  }
  // the cost requests send token IDs with BOS, as the bench does by default
  const withBos = (ids: number[]) => (tokenizer.bosId === undefined ? ids : [tokenizer.bosId, ...ids]);
  const prompts = new Map<number, number[]>();
  for (const tokens of o.costPrompts) {
    const ids =
      tokens === o.promptTokens && built
        ? built
        : buildPrompt({
            tokens,
            seed: 0,
            runId: 'client-overhead',
            requestIndex: 1000 + tokens,
            endpoint: 'completions',
            tokenizer,
          }).tokenIds;
    prompts.set(tokens, withBos(ids));
  }
  return {
    build: {
      tokens: o.promptTokens,
      tokenizerLoadMs,
      firstBuildMs: buildsMs[0],
      medianBuildMs: median(buildsMs.slice(1)),
      buildsMs,
    },
    prompts,
  };
}

// -- 3. client CPU per output token --

async function tokenCost(
  url: string,
  pool: Pool,
  o: ClientOverheadResult['options'],
  prompts: Map<number, number[]>,
  signal: AbortSignal | undefined,
): Promise<TokenCost> {
  const [smallTokens, largeTokens] = o.costPrompts;
  const cpuOf = async (spec: RequestSpec): Promise<number> => {
    const before = process.cpuUsage();
    const record = await sendStreamingRequest(spec, {
      baseUrl: url,
      dispatcher: pool,
      timeoutMs: REQUEST_TIMEOUT_MS,
      signal,
    });
    const used = process.cpuUsage(before);
    if (record.status !== 'ok' || record.eventTokens !== spec.maxTokens) {
      const why = record.status === 'failed' ? `${record.reason}: ${record.message}` : `${record.eventTokens} tokens`;
      throw invalid(ErrorCodes.CONFIG, 'stamp server response', `${spec.maxTokens} tokens`, why);
    }
    return used.user + used.system;
  };
  const cases = new Map<number, { long: number[]; short: number[] }>([
    [smallTokens, { long: [], short: [] }],
    [largeTokens, { long: [], short: [] }],
  ]);
  const costSchedule: StampSchedule = { firstDelayMs: 0, intervalMs: o.costIntervalMs };
  // round 0 warms up (JIT, connection); then both prompt lengths alternate so drift hits them alike
  for (let round = 0; round <= o.costRequests; round++) {
    for (const tokens of [smallTokens, largeTokens]) {
      const prompt = prompts.get(tokens)!;
      const long = await cpuOf(streamSpec(`c${tokens}-${round}`, o.costOutputTokens, costSchedule, prompt));
      const short = await cpuOf(streamSpec(`c${tokens}-${round}s`, o.costShortTokens, costSchedule, prompt));
      signal?.throwIfAborted();
      if (round === 0) continue;
      cases.get(tokens)!.long.push(long);
      cases.get(tokens)!.short.push(short);
    }
  }
  const summarise = (tokens: number): TokenCostCase => {
    const { long, short } = cases.get(tokens)!;
    return {
      promptTokens: tokens,
      cpuUsPerOutputToken: median(long.map((us) => us / o.costOutputTokens)),
      marginalCpuUsPerToken: median(long.map((us, i) => (us - short[i]) / (o.costOutputTokens - o.costShortTokens))),
      longCpuUs: long,
      shortCpuUs: short,
    };
  };
  const small = summarise(smallTokens);
  const large = summarise(largeTokens);
  return {
    outputTokens: o.costOutputTokens,
    shortTokens: o.costShortTokens,
    requests: o.costRequests,
    small,
    large,
    ratio: large.cpuUsPerOutputToken / small.cpuUsPerOutputToken,
    marginalRatio: large.marginalCpuUsPerToken / small.marginalCpuUsPerToken,
  };
}

// -- assessment --

export interface TargetCheck {
  figure: string;
  /** The measured value, in `unit`. */
  value: number;
  unit: 'ms' | 'µs' | 'x';
  /** The target in words, e.g. `<= 1 ms`; undefined for figures shown for context only. */
  target?: string;
  /** undefined for context-only figures. */
  pass?: boolean;
}

/** Each figure beside its target. Pure. */
export function assessClientOverhead(r: ClientOverheadResult): TargetCheck[] {
  const t = CLIENT_OVERHEAD_TARGETS;
  const { overhead: s, prompt: p, cost: c } = r;
  const k = (n: number) => (n % 1024 === 0 ? `${n / 1024}K` : String(n));
  return [
    {
      figure: `first-token overhead, median (${s.streams} streams)`,
      value: s.firstTokenMs.p50,
      unit: 'ms',
      target: `<= ${t.firstTokenMedianMs} ms`,
      pass: s.firstTokenMs.p50 <= t.firstTokenMedianMs,
    },
    {
      figure: `first-token overhead, p99 (${s.streams} streams)`,
      value: s.firstTokenMs.p99,
      unit: 'ms',
      target: `<= ${t.firstTokenP99Ms} ms`,
      pass: s.firstTokenMs.p99 <= t.firstTokenP99Ms,
    },
    { figure: 'all-event overhead, median', value: s.allEventsMs.p50, unit: 'ms' },
    { figure: 'all-event overhead, p99', value: s.allEventsMs.p99, unit: 'ms' },
    { figure: 'client CPU per token (stream round)', value: s.cpuUsPerToken, unit: 'µs' },
    { figure: 'tokenizer load', value: p.tokenizerLoadMs, unit: 'ms' },
    {
      figure: `${k(p.tokens)}-token prompt build, first`,
      value: p.firstBuildMs,
      unit: 'ms',
      target: `< ${t.promptBuildMs} ms`,
      pass: p.firstBuildMs < t.promptBuildMs,
    },
    {
      figure: `${k(p.tokens)}-token prompt build, median of ${p.buildsMs.length - 1}`,
      value: p.medianBuildMs,
      unit: 'ms',
      target: `< ${t.promptBuildMs} ms`,
      pass: p.medianBuildMs < t.promptBuildMs,
    },
    {
      figure: `CPU per output token, ${k(c.small.promptTokens)} prompt, marginal`,
      value: c.small.marginalCpuUsPerToken,
      unit: 'µs',
    },
    {
      figure: `CPU per output token, ${k(c.large.promptTokens)} prompt, marginal`,
      value: c.large.marginalCpuUsPerToken,
      unit: 'µs',
    },
    {
      figure: `  ratio ${k(c.large.promptTokens)} / ${k(c.small.promptTokens)}`,
      value: c.marginalRatio,
      unit: 'x',
      target: `<= ${t.costRatio}x`,
      pass: c.marginalRatio <= t.costRatio,
    },
    {
      figure: `CPU per output token, ${k(c.small.promptTokens)} prompt, whole request`,
      value: c.small.cpuUsPerOutputToken,
      unit: 'µs',
    },
    {
      figure: `CPU per output token, ${k(c.large.promptTokens)} prompt, whole request`,
      value: c.large.cpuUsPerOutputToken,
      unit: 'µs',
    },
    {
      figure: `  ratio ${k(c.large.promptTokens)} / ${k(c.small.promptTokens)} (includes sending the prompt)`,
      value: c.ratio,
      unit: 'x',
    },
  ];
}
