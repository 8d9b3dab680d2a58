/**
 * From request records to result cells: one sample per request (failed ones included), latency distributions over
 * the successful non-warmup requests, the headline figure per phase (median TTFT for prefill, median TPOT for
 * decode), paired speedups by round, prompt drift and prefix-cache share. Pure: no I/O, no timing.
 */
import { createHash } from 'node:crypto';
import type { Distribution, Phase, RequestSample, ServerCell, TimeSummary } from '../../reports/schema.js';
import { distribution, mad, median } from '../../reports/stats.js';
import { requestMetrics } from '../server/metrics.js';
import type { RequestRecord } from '../server/record.js';

export interface SampleInfo {
  round: number;
  sequence: number;
  request: number;
  warmup: boolean;
  /** Clock value at the start of the run, so that sendAtMs / lastAtMs are relative to it. */
  runStart: number;
}

export function requestSample(record: RequestRecord, info: SampleInfo): RequestSample {
  const m = requestMetrics(record);
  const sample: RequestSample = {
    status: record.status,
    round: info.round,
    sequence: info.sequence,
    request: info.request,
    warmup: info.warmup,
    promptTokensClient: record.nInClient,
    promptTokensServer: record.nIn,
    outputTokens: record.nOut,
    outputTokensSource: record.nOutSource,
    cachedTokens: record.cachedTokens,
    sendAtMs: record.tSend !== undefined ? record.tSend - info.runStart : undefined,
    lastAtMs: record.tLast !== undefined ? record.tLast - info.runStart : undefined,
    queueDelayMs: m.queueDelayMs,
    ttftMs: m.ttftMs,
    ttftFromSchedMs: m.ttftFromSchedMs,
    e2elMs: m.e2elMs,
    tpotMs: m.tpotMs,
    itlMs: m.itlMs,
    httpStatus: record.httpStatus,
    ...(record.text !== undefined && record.status === 'ok'
      ? { outputSha1: createHash('sha1').update(record.text).digest('hex') }
      : {}),
    ...(record.serverTimings ? { serverTimings: { ...record.serverTimings } } : {}),
  };
  if (record.status === 'failed') {
    sample.reason = record.reason;
    sample.message = record.message;
  }
  return JSON.parse(JSON.stringify(sample)) as RequestSample; // drops undefined fields
}

const counted = (samples: readonly RequestSample[]) => samples.filter((s) => !s.warmup);
const succeeded = (samples: readonly RequestSample[]) => counted(samples).filter((s) => s.status === 'ok');

/** The per-phase headline latency of a request: TTFT in prefill, TPOT in decode. */
export function headline(sample: RequestSample, phase: Phase): number | undefined {
  return phase === 'prefill' ? sample.ttftMs : sample.tpotMs;
}

function values(samples: readonly RequestSample[], pick: (s: RequestSample) => number | undefined): number[] {
  return samples.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
}

function summary(samples: readonly RequestSample[], phase: Phase): TimeSummary {
  const times = values(succeeded(samples), (s) => headline(s, phase));
  const m = times.length ? median(times) : Number.NaN;
  return {
    n: times.length,
    failed: counted(samples).length - succeeded(samples).length,
    medianMs: m,
    minMs: times.length ? Math.min(...times) : Number.NaN,
    maxMs: times.length ? Math.max(...times) : Number.NaN,
    madMs: times.length ? mad(times) : Number.NaN,
    estimatedFullMs: m,
  };
}

const BUCKETS = 16;

function itlByPosition(samples: readonly RequestSample[]): ServerCell['itlByPosition'] {
  const rows = succeeded(samples).map((s) => s.itlMs ?? []);
  const longest = Math.max(0, ...rows.map((r) => r.length));
  if (longest === 0) return undefined;
  const width = Math.ceil(longest / BUCKETS);
  const out: NonNullable<ServerCell['itlByPosition']> = [];
  for (let start = 0; start < longest; start += width) {
    const bucket = rows.flatMap((r) => r.slice(start, start + width));
    // position = the decode step the gap leads to (gap i precedes output token i + 2, token 1 being the first)
    if (bucket.length) out.push({ position: start + 2, medianMs: median(bucket), n: bucket.length });
  }
  return out;
}

export interface CellContext {
  context: number;
  phase: Phase;
  /** Arm ids in order; the first is the baseline. */
  arms: string[];
  maxCachedShare: number;
}

export function buildServerCells(samplesByArm: ReadonlyMap<string, RequestSample[]>, ctx: CellContext): ServerCell[] {
  const baseline = ctx.arms[0];
  const baseSamples = samplesByArm.get(baseline) ?? [];
  const baseByRound = new Map(
    succeeded(baseSamples).flatMap((s) => {
      const v = headline(s, ctx.phase);
      return v === undefined ? [] : [[s.round, v] as const];
    }),
  );
  const baseSummary = summary(baseSamples, ctx.phase);
  return ctx.arms.map((arm) => {
    const samples = samplesByArm.get(arm) ?? [];
    const ok = succeeded(samples);
    const cellSummary = summary(samples, ctx.phase);
    const sends = values(ok, (s) => s.sendAtMs);
    const lasts = values(ok, (s) => s.lastAtMs);
    const durationMs = sends.length && lasts.length ? Math.max(...lasts) - Math.min(...sends) : Number.NaN;
    const inTokens = values(ok, (s) => s.promptTokensServer ?? s.promptTokensClient).reduce((a, b) => a + b, 0);
    const outTokens = values(ok, (s) => s.outputTokens).reduce((a, b) => a + b, 0);
    const perSecond = (x: number) => (durationMs > 0 ? x / (durationMs / 1000) : Number.NaN);
    const dist = (pick: (s: RequestSample) => number | undefined): Distribution => distribution(values(ok, pick));
    const drift = ok
      .filter((s) => s.promptTokensServer !== undefined && s.promptTokensClient !== undefined)
      .map((s) => s.promptTokensServer! - s.promptTokensClient!);
    // only servers that report usage.prompt_tokens_details.cached_tokens say anything about their prefix cache
    const cachedReports = values(ok, (s) => s.cachedTokens);
    const cached = cachedReports.reduce((a, b) => a + b, 0);
    const cachedTokenShare = cachedReports.length && inTokens > 0 ? cached / inTokens : undefined;
    const cell: ServerCell = {
      kind: 'server',
      context: ctx.context,
      phase: ctx.phase,
      arm,
      provenance: { kind: 'measured' },
      samples,
      summary: cellSummary,
      metrics: {
        ttft: dist((s) => s.ttftMs),
        tpot: dist((s) => s.tpotMs),
        itl: distribution(ok.flatMap((s) => s.itlMs ?? [])),
        e2el: dist((s) => s.e2elMs),
        queueDelay: dist((s) => s.queueDelayMs),
        completed: ok.length,
        failed: counted(samples).length - ok.length,
        durationMs,
        requestThroughput: perSecond(ok.length),
        outputThroughput: perSecond(outTokens),
        totalTokenThroughput: perSecond(inTokens + outTokens),
      },
      // the client's own CPU is not what limits a server; foreign load is recorded for kernel runs
      foreignLoad: 0,
      disturbed: false,
      cacheFlagged: (cachedTokenShare ?? 0) > ctx.maxCachedShare,
      ...(drift.length ? { promptDrift: { mean: drift.reduce((a, b) => a + b, 0) / drift.length, max: Math.max(...drift.map(Math.abs)) } } : {}),
      ...(cachedTokenShare !== undefined ? { cachedTokenShare } : {}),
      ...(ctx.phase === 'decode' ? { itlByPosition: itlByPosition(samples) } : {}),
    };
    if (arm !== baseline) {
      const paired = ok
        .filter((s) => baseByRound.has(s.round) && headline(s, ctx.phase) !== undefined)
        .map((s) => baseByRound.get(s.round)! / headline(s, ctx.phase)!);
      cell.speedup = {
        baselineArm: baseline,
        ofMedians: baseSummary.medianMs / cellSummary.medianMs,
        pairedRatios: paired,
        medianPairedRatio: paired.length ? median(paired) : Number.NaN,
      };
    }
    return cell;
  });
}
