/**
 * The server target: the same prepared request stream sent to every arm, one request at a time, in paired rounds.
 * Prefill probe: max_tokens = 1, so TTFT is the prefill of an L-token prompt. Decode run: max_tokens = N with
 * ignore_eos, so TPOT (and ITL by position) is decode at KV length L..L+N. Named endpoints are interleaved round by
 * round (the order alternates); arms started by a launch command run one after another (a restart per round would
 * dominate the run), which the result states. Results are published after every (context, phase).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Phase,
  RESULT_SCHEMA,
  RESULT_SCHEMA_VERSION,
  type RequestSample,
  type ServerCell,
  type ServerResultFile,
} from '../../reports/schema.js';
import { type BuiltPrompt, buildPrompt, llama3Tokenizer } from '../../workloads/index.js';
import { captureEnvironment } from '../environment.js';
import { newRunId } from '../run-id.js';
import type { RequestRecord, RequestSpec } from '../server/record.js';
import { type RequestOptions, sendStreamingRequest } from '../server/request.js';
import { buildServerCells, requestSample } from './cells.js';
import type { ServerArmSpec, ServerBenchConfig } from './config.js';
import { type LaunchedArm, launchArm } from './launch.js';
import { arrivalOffsets } from '../../workloads/arrivals.js';
import { type LoadMode, runLoad } from '../server/load.js';
import { type LoadSpec, lengthAround } from './config.js';
import { runAccuracy } from './accuracy.js';
import { prefillCapacity } from './capacity.js';

export type ServerProgress =
  | { type: 'phase-start'; index: number; total: number; context: number; phase: Phase; requests: number }
  | { type: 'request'; context: number; phase: Phase; arm: string; sample: RequestSample }
  | { type: 'phase-done'; index: number; total: number; cells: ServerCell[] };

export interface ServerRunOptions {
  signal?: AbortSignal;
  onProgress?: (event: ServerProgress) => void;
  onResult?: (result: ServerResultFile) => void;
  command?: string[];
  /** Sends one request; default sendStreamingRequest (tests may wrap it). */
  send?: (spec: RequestSpec, options: RequestOptions) => Promise<RequestRecord>;
}

/** Request streams of a run; each (context, stream) gets its own range of request indices. */
const STREAMS = { prefill: 0, decode: 1, load: 2, capacity: 3 } as const;

/**
 * One prompt per request, the same for every arm (a paired comparison on identical inputs), each with a prefix
 * unique to this run and request so no prefix cache can serve it. Two arms on one server would hit its cache with
 * the second copy; the prefix-cache share then flags the cell.
 */
function preparePrompts(
  c: ServerBenchConfig,
  runId: string,
  context: number,
  stream: keyof typeof STREAMS,
  rounds: number,
  lengthOf: (index: number) => number = () => context,
) {
  const tokenizer = llama3Tokenizer();
  const base = (c.contexts.indexOf(context) * 4 + STREAMS[stream]) * 1_000_000;
  const list: BuiltPrompt[] = [];
  for (let r = 0; r < rounds; r++) {
    list.push(
      buildPrompt({
        tokens: lengthOf(r),
        count: 'prompt',
        seed: c.seed,
        runId: runId.slice(-6),
        requestIndex: base + r,
        endpoint: c.endpoint,
        tokenizer,
      }),
    );
  }
  return list;
}

function promptField(c: ServerBenchConfig, prompt: BuiltPrompt): string | number[] {
  if (c.promptFormat === 'text') return prompt.text;
  const bos = llama3Tokenizer().bosId;
  return bos === undefined ? prompt.tokenIds : [bos, ...prompt.tokenIds];
}

function specOf(c: ServerBenchConfig, prompt: BuiltPrompt, phase: Phase, id: string, outputTokens = c.outputTokens): RequestSpec {
  return {
    id,
    endpoint: c.endpoint,
    ...(c.model ? { model: c.model } : {}),
    ...(prompt.messages ? { messages: prompt.messages } : { prompt: promptField(c, prompt) }),
    maxTokens: phase === 'prefill' ? 1 : outputTokens,
    extraBody: phase === 'prefill' ? { ...c.extraBody, ignore_eos: undefined, min_tokens: undefined } : c.extraBody,
    promptTokens: prompt.promptTokens,
  };
}

export async function runServerBenchmark(c: ServerBenchConfig, options: ServerRunOptions = {}): Promise<ServerResultFile> {
  const send = options.send ?? sendStreamingRequest;
  const runId = newRunId('server');
  const launched = c.arms.some((a) => a.launch);
  const runStart = performance.now();
  const result: ServerResultFile = {
    schema: RESULT_SCHEMA,
    schemaVersion: RESULT_SCHEMA_VERSION,
    run: {
      id: runId,
      startedAt: new Date().toISOString(),
      status: 'running',
      command: options.command ?? [],
      config: { ...c, headers: Object.keys(c.headers) },
    },
    environment: captureEnvironment(),
    target: {
      kind: 'server',
      endpoint: c.endpoint,
      ...(c.model ? { model: c.model } : {}),
      tokenizer: 'llama3 (llama3-tokenizer-js)',
      load: describeLoad(c, launched),
    },
    arms: c.arms.map((a) => ({
      id: a.id,
      ...(a.thresholdScaleFactor ? { thresholdScaleFactor: a.thresholdScaleFactor } : {}),
      endpoint: { baseUrl: a.baseUrl, ...(a.launch ? { launch: a.launch } : {}) },
    })),
    cells: [],
  };
  const publish = () => options.onResult?.(result);
  const requestOptions = (arm: ServerArmSpec): RequestOptions => ({
    baseUrl: arm.baseUrl,
    ...(c.apiKeyEnv ? { apiKeyEnv: c.apiKeyEnv } : {}),
    headers: c.headers,
    timeoutMs: c.timeoutMs,
    idleTimeoutMs: c.idleTimeoutMs,
    // the generated text is hashed into each sample: identical greedy outputs across arms are one sign of a no-op
    collectText: true,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const workDir = mkdtempSync(join(tmpdir(), 'skipbench-launch-'));
  let running: LaunchedArm | undefined;
  let sequence = 0;
  try {
    publish();
    if (c.load) await runLoadCells(c, c.load, runId, runStart, result, options, requestOptions, send, publish);
    const total = c.load ? 0 : c.contexts.length * c.phases.length;
    let index = 0;
    for (const context of total ? c.contexts : []) {
      for (const phase of c.phases) {
        if (options.signal?.aborted) break;
        index += 1;
        const rounds = c.warmup + c.rounds;
        options.onProgress?.({ type: 'phase-start', index, total, context, phase, requests: rounds * c.arms.length });
        const prompts = preparePrompts(c, runId, context, phase, rounds);
        const samples = new Map<string, RequestSample[]>(c.arms.map((a) => [a.id, []]));
        const one = async (arm: ServerArmSpec, round: number) => {
          const prompt = prompts[round];
          const record = await send(specOf(c, prompt, phase, `${arm.id}/${context}/${phase}/${round}`), requestOptions(arm));
          const sample = requestSample(record, {
            round: round - c.warmup,
            sequence: sequence++,
            request: round,
            warmup: round < c.warmup,
            runStart,
          });
          samples.get(arm.id)!.push(sample);
          options.onProgress?.({ type: 'request', context, phase, arm: arm.id, sample });
        };
        if (launched) {
          for (const arm of c.arms) {
            running = arm.launch ? await launchArm(arm, workDir, c.launchTimeoutMs) : undefined;
            for (let r = 0; r < rounds && !options.signal?.aborted; r++) await one(arm, r);
            await running?.stop();
            running = undefined;
          }
        } else {
          for (let r = 0; r < rounds && !options.signal?.aborted; r++) {
            const order = r % 2 === 0 ? c.arms : [...c.arms].reverse();
            for (const arm of order) if (!options.signal?.aborted) await one(arm, r);
          }
        }
        const cells = buildServerCells(samples, {
          context,
          phase,
          arms: c.arms.map((a) => a.id),
          maxCachedShare: c.maxCachedShare,
        });
        result.cells.push(...cells.filter((cell) => cell.samples.length > 0));
        publish();
        options.onProgress?.({ type: 'phase-done', index, total, cells });
      }
      if (options.signal?.aborted) break;
    }
    if (c.accuracy) {
      result.accuracy = [];
      await runAccuracy(c, c.accuracy, runId, send, requestOptions, options.signal, (record) => {
        result.accuracy!.push(record);
        publish();
      });
    }
    if (c.capacity) {
      result.capacity = [];
      for (const [i, context] of c.contexts.entries()) {
        const prompts = preparePrompts(c, runId, context, 'capacity', c.capacity.requests);
        for (const arm of i % 2 === 0 ? c.arms : [...c.arms].reverse()) {
          if (options.signal?.aborted) break;
          result.capacity.push(await prefillCapacity(c, arm, context, prompts, c.capacity.connections));
          publish();
        }
      }
    }
    result.run.status = options.signal?.aborted ? 'interrupted' : 'completed';
    if (options.signal?.aborted) result.run.reason = String(options.signal.reason ?? 'aborted');
  } catch (error) {
    result.run.status = 'failed';
    result.run.reason = error instanceof Error ? error.message : String(error);
    throw error;
  } finally {
    await running?.stop();
    rmSync(workDir, { recursive: true, force: true });
    result.run.finishedAt = new Date().toISOString();
    publish();
  }
  return result;
}

function describeLoad(c: ServerBenchConfig, launched: boolean): string {
  const load = c.load;
  if (!load) {
    return launched
      ? 'one request at a time; each arm launched in turn and measured for all rounds (not interleaved)'
      : 'one request at a time, arms interleaved round by round with alternating order';
  }
  const how =
    load.kind === 'closed'
      ? `closed loop, ${load.concurrency} concurrent`
      : `open loop, ${load.arrivals} arrivals at ${load.rate} req/s (burstiness ${load.burstiness})` +
        (load.maxConcurrency ? `, at most ${load.maxConcurrency} in flight` : '');
  return `${how}; ${c.numPrompts} requests per arm and context (the same prompts for every arm), arms one after another, order alternating per context`;
}

/**
 * Load runs: per context, each arm receives the same prepared request stream under the same arrival schedule, one
 * arm after the other (alternating which goes first). Requests pair by index across arms.
 */
async function runLoadCells(
  c: ServerBenchConfig,
  load: LoadSpec,
  runId: string,
  runStart: number,
  result: ServerResultFile,
  options: ServerRunOptions,
  requestOptions: (arm: ServerArmSpec) => RequestOptions,
  send: NonNullable<ServerRunOptions['send']>,
  publish: () => void,
): Promise<void> {
  const total = c.contexts.length;
  const count = c.warmup + c.numPrompts;
  const offsets =
    load.kind === 'open'
      ? arrivalOffsets({ kind: load.arrivals, rate: load.rate, burstiness: load.arrivals === 'gamma' ? load.burstiness : undefined, seed: c.seed, count: c.numPrompts })
      : undefined;
  let sequence = 0;
  for (const [i, context] of c.contexts.entries()) {
    if (options.signal?.aborted) break;
    options.onProgress?.({ type: 'phase-start', index: i + 1, total, context, phase: 'decode', requests: count * c.arms.length });
    const list = preparePrompts(c, runId, context, 'load', count, lengthAround(c.inputLengths, context, c.seed));
    const outputOf = lengthAround(c.outputLengths, c.outputTokens, c.seed + 1);
    const samples = new Map<string, RequestSample[]>(c.arms.map((a) => [a.id, []]));
    const order = i % 2 === 0 ? c.arms : [...c.arms].reverse();
    for (const arm of order) {
      if (options.signal?.aborted) break;
      let taken = 0;
      const mode: LoadMode =
        load.kind === 'closed'
          ? { kind: 'closed', concurrency: load.concurrency }
          : { kind: 'open', offsets: offsets!, ...(load.maxConcurrency ? { maxConcurrency: load.maxConcurrency } : {}) };
      const run = await runLoad({
        next: () => {
          if (taken >= count) return undefined;
          const i = taken++;
          return specOf(c, list[i], 'decode', `${arm.id}/${context}/load/${i}`, outputOf(i));
        },
        mode,
        warmup: c.warmup,
        stop: { count: c.numPrompts, ...(c.durationMs ? { durationMs: c.durationMs } : {}) },
        send: (spec, ctx) => send(spec, { ...requestOptions(arm), ...(ctx.signal ? { signal: ctx.signal } : {}) }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      for (const record of [...run.records].sort((a, b) => a.index - b.index)) {
        const sample = requestSample(record, {
          round: record.index - c.warmup,
          sequence: sequence++,
          request: record.index,
          warmup: record.warmup,
          runStart,
        });
        samples.get(arm.id)!.push(sample);
        options.onProgress?.({ type: 'request', context, phase: 'decode', arm: arm.id, sample });
      }
    }
    const cells = buildServerCells(samples, {
      context,
      phase: 'decode',
      arms: c.arms.map((a) => a.id),
      maxCachedShare: c.maxCachedShare,
    }).map((cell) => ({ ...cell, load: { ...load } }));
    result.cells.push(...cells.filter((cell) => cell.samples.length > 0));
    publish();
    options.onProgress?.({ type: 'phase-done', index: i + 1, total, cells });
  }
}
