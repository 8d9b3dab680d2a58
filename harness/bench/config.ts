/**
 * Server benchmark configuration: arms (named endpoints, optionally started by a launch command), contexts, phases,
 * rounds. Resolved and validated before any request is sent; errors name the field and the allowed range.
 */
import { ErrorCodes, invalid } from '../../kernels/errors.js';
import { PHASES, type Phase } from '../../reports/schema.js';
import { lengthSampler } from '../../workloads/index.js';

export interface ServerArmSpec {
  id: string;
  /** Server root URL (a trailing /v1 is accepted). Never put credentials here: use apiKeyEnv. */
  baseUrl: string;
  /** Shell command that starts this arm's server; `{config}` is replaced by a generated TensorRT-LLM YAML file. */
  launch?: string;
  /** The arm's Skip Softmax factors, when known (recorded, and used for the generated YAML). */
  thresholdScaleFactor?: { prefill: number; decode: number };
}

/** A load run instead of one-at-a-time probes: closed loop (fixed concurrency) or open loop (arrival process). */
export type LoadSpec =
  | { kind: 'closed'; concurrency: number }
  | { kind: 'open'; arrivals: 'constant' | 'poisson' | 'gamma'; rate: number; burstiness: number; maxConcurrency?: number };

export interface LengthDistribution {
  kind: 'fixed' | 'uniform' | 'normal';
  /** Relative spread around the mean (0..1). */
  spread: number;
}

export interface ServerBenchConfig {
  arms: ServerArmSpec[];
  /** Absent: paired one-at-a-time prefill probes and decode runs. Present: a load run per context and arm. */
  load?: LoadSpec;
  /** Needle retrieval accuracy per context and arm: depths, keys per prompt, prompts per depth, max_tokens. */
  accuracy?: { depths: number[]; keys: number; rounds: number; outputTokens: number };
  /** Prefill capacity runs (autocannon) per context and arm: connections and requests (one unique prompt each). */
  capacity?: { connections: number; requests: number };
  /**
   * Load runs: how prompt and output lengths vary around the context and outputTokens. fixed: exactly them;
   * uniform: within +-spread of them; normal: std = spread x them. Clamped to [2, 2x]. Probes always use fixed lengths.
   */
  inputLengths: LengthDistribution;
  outputLengths: LengthDistribution;
  /** Requests per load run (after warmup). */
  numPrompts: number;
  /** A load run starts no request after this long (ms); absent = send all numPrompts. */
  durationMs?: number;
  endpoint: 'completions' | 'chat';
  /** Completions prompts as text, or as token ids (BOS id first, so usage.prompt_tokens stays the context on servers
   * that add no BOS to id prompts, as vLLM; drift reports any server that does). */
  promptFormat: 'text' | 'token-ids';
  model?: string;
  /** Prompt lengths in tokens as the server counts them (usage.prompt_tokens: the KV length L). */
  contexts: number[];
  phases: Phase[];
  /** Paired rounds per (context, phase): each round sends one request to every arm. */
  rounds: number;
  /** Rounds sent first and left out of every statistic. */
  warmup: number;
  /** max_tokens of the decode run (the prefill probe always asks for 1). */
  outputTokens: number;
  seed: number;
  apiKeyEnv?: string;
  headers: Record<string, string>;
  /** Per-request total and idle timeouts (ms). */
  timeoutMs: number;
  idleTimeoutMs: number;
  /** Extra body fields for every request, e.g. {"ignore_eos": true, "min_tokens": 64}. */
  extraBody: Record<string, unknown>;
  /** A cell whose prefix-cache share exceeds this is flagged (its TTFT is not a prefill measurement). */
  maxCachedShare: number;
  /** How long a launched server may take to answer its health check (ms). */
  launchTimeoutMs: number;
  outDir: string;
}

export type ServerBenchUserConfig = { [K in keyof ServerBenchConfig]?: ServerBenchConfig[K] };

export const SERVER_BENCH_DEFAULTS = {
  endpoint: 'completions' as const,
  promptFormat: 'text' as const,
  contexts: [1024, 4096, 16384],
  phases: ['prefill', 'decode'] as Phase[],
  rounds: 5,
  warmup: 1,
  numPrompts: 100,
  inputLengths: { kind: 'fixed', spread: 0 } as LengthDistribution,
  outputLengths: { kind: 'fixed', spread: 0 } as LengthDistribution,
  outputTokens: 64,
  seed: 1,
  headers: {},
  timeoutMs: 600_000,
  idleTimeoutMs: 300_000,
  extraBody: { ignore_eos: true },
  maxCachedShare: 0.05,
  launchTimeoutMs: 600_000,
  outDir: 'results',
};

function check(ok: boolean, field: string, allowed: string, received: unknown): void {
  if (!ok) throw invalid(ErrorCodes.CONFIG, field, allowed, received);
}

const isInt = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

export function resolveServerBenchConfig(user: ServerBenchUserConfig): ServerBenchConfig {
  const c: ServerBenchConfig = {
    ...SERVER_BENCH_DEFAULTS,
    arms: [],
    ...Object.fromEntries(Object.entries(user).filter(([, v]) => v !== undefined)),
  };
  check(Array.isArray(c.arms) && c.arms.length >= 1, 'arms', 'at least one arm (id=url), dense first', c.arms);
  const ids = new Set<string>();
  for (const arm of c.arms) {
    check(typeof arm.id === 'string' && /^[A-Za-z0-9._-]{1,32}$/.test(arm.id), 'arms.id', '1-32 characters of [A-Za-z0-9._-]', arm.id);
    check(!ids.has(arm.id), 'arms.id', 'unique arm ids', arm.id);
    ids.add(arm.id);
    let url: URL | undefined;
    try {
      url = new URL(arm.baseUrl);
    } catch {
      url = undefined;
    }
    check(!!url && (url.protocol === 'http:' || url.protocol === 'https:'), 'arms.baseUrl', 'an http(s) URL', arm.baseUrl);
    check(!url?.username && !url?.password, 'arms.baseUrl', 'a URL without credentials (use --api-key-env)', '<redacted>');
  }
  check(c.endpoint === 'completions' || c.endpoint === 'chat', 'endpoint', 'completions | chat', c.endpoint);
  check(c.promptFormat === 'text' || c.promptFormat === 'token-ids', 'promptFormat', 'text | token-ids', c.promptFormat);
  check(c.promptFormat === 'text' || c.endpoint === 'completions', 'promptFormat', 'text with the chat endpoint', c.promptFormat);
  check(Array.isArray(c.contexts) && c.contexts.length > 0, 'contexts', 'a non-empty list', c.contexts);
  for (const L of c.contexts) check(isInt(L, 2, 2 ** 21), 'contexts', 'integers in [2, 2097152] (tokens)', L);
  check(Array.isArray(c.phases) && c.phases.length > 0 && c.phases.every((p) => PHASES.includes(p)), 'phases', PHASES.join(' | '), c.phases);
  check(isInt(c.rounds, 1, 100000), 'rounds', 'an integer in [1, 100000]', c.rounds);
  check(isInt(c.numPrompts, 1, 1_000_000), 'numPrompts', 'an integer in [1, 1000000]', c.numPrompts);
  if (c.durationMs !== undefined) check(Number.isFinite(c.durationMs) && c.durationMs > 0, 'durationMs', 'a number of milliseconds > 0', c.durationMs);
  if (c.load?.kind === 'closed') check(isInt(c.load.concurrency, 1, 100000), 'load.concurrency', 'an integer in [1, 100000]', c.load.concurrency);
  if (c.load?.kind === 'open') {
    check(['constant', 'poisson', 'gamma'].includes(c.load.arrivals), 'load.arrivals', 'constant | poisson | gamma', c.load.arrivals);
    check(c.load.rate > 0, 'load.rate', 'requests per second > 0 (Infinity = all at once)', c.load.rate);
    check(Number.isFinite(c.load.burstiness) && c.load.burstiness > 0, 'load.burstiness', 'a number > 0 (1 = Poisson)', c.load.burstiness);
    if (c.load.maxConcurrency !== undefined) check(isInt(c.load.maxConcurrency, 1, 100000), 'load.maxConcurrency', 'an integer in [1, 100000]', c.load.maxConcurrency);
  }
  for (const field of ['inputLengths', 'outputLengths'] as const) {
    const dist = c[field];
    check(['fixed', 'uniform', 'normal'].includes(dist?.kind), `${field}.kind`, 'fixed | uniform | normal', dist?.kind);
    check(Number.isFinite(dist.spread) && dist.spread >= 0 && dist.spread <= 1, `${field}.spread`, 'a number in [0, 1]', dist.spread);
  }
  if (c.accuracy) {
    const a = c.accuracy;
    check(Array.isArray(a.depths) && a.depths.length > 0 && a.depths.every((d) => d >= 0 && d <= 1), 'accuracy.depths', 'numbers in [0, 1]', a.depths);
    check(isInt(a.keys, 1, 32), 'accuracy.keys', 'an integer in [1, 32]', a.keys);
    check(isInt(a.rounds, 1, 10000), 'accuracy.rounds', 'an integer in [1, 10000]', a.rounds);
    check(isInt(a.outputTokens, 1, 4096), 'accuracy.outputTokens', 'an integer in [1, 4096]', a.outputTokens);
  }
  if (c.capacity) {
    check(isInt(c.capacity.connections, 1, 10000), 'capacity.connections', 'an integer in [1, 10000]', c.capacity.connections);
    check(isInt(c.capacity.requests, 1, 1_000_000), 'capacity.requests', 'an integer in [1, 1000000]', c.capacity.requests);
  }
  if (c.arms.some((a) => a.launch)) {
    check(!c.load, 'load', 'named endpoints only (launch commands run probes, not load)', c.load?.kind);
    check(!c.capacity, 'capacity', 'named endpoints only (launch commands run probes, not capacity)', c.capacity);
  }
  check(isInt(c.warmup, 0, 1000), 'warmup', 'an integer in [0, 1000]', c.warmup);
  check(isInt(c.outputTokens, 2, 1 << 20), 'outputTokens', 'an integer in [2, 1048576] (TPOT needs two tokens)', c.outputTokens);
  check(isInt(c.seed, 0, Number.MAX_SAFE_INTEGER), 'seed', 'an integer >= 0', c.seed);
  for (const field of ['timeoutMs', 'idleTimeoutMs', 'launchTimeoutMs'] as const) {
    check(Number.isFinite(c[field]) && c[field] > 0, field, 'a number of milliseconds > 0', c[field]);
  }
  check(Number.isFinite(c.maxCachedShare) && c.maxCachedShare >= 0 && c.maxCachedShare <= 1, 'maxCachedShare', 'a number in [0, 1]', c.maxCachedShare);
  c.contexts = [...new Set(c.contexts)].sort((a, b) => a - b);
  return c;
}

/** The i-th length of a distribution around `mean` (deterministic per seed), clamped to [2, 2 x mean]. */
export function lengthAround(dist: LengthDistribution, mean: number, seed: number): (index: number) => number {
  const min = Math.min(mean, 2);
  const max = Math.max(mean, 2 * mean);
  if (dist.kind === 'fixed' || dist.spread === 0) return () => mean;
  const sampler =
    dist.kind === 'uniform'
      ? lengthSampler({ kind: 'uniform', min: Math.max(min, Math.round(mean * (1 - dist.spread))), max: Math.min(max, Math.round(mean * (1 + dist.spread))), seed })
      : lengthSampler({ kind: 'normal', mean, std: dist.spread * mean, min, max, seed });
  return (index) => sampler.at(index);
}
