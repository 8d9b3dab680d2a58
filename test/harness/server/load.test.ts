/**
 * The load runner. Most cases run under vitest's fake timers with a fake `send` whose requests take a chosen time, so
 * every t_sched and t_send is exact; one case checks the open-loop timer on real time, and one drives a real loopback
 * SSE server through sendStreamingRequest.
 */
import { Agent } from 'undici';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type LoadMode,
  type LoadOptions,
  type LoadRecord,
  type LoadResult,
  runLoad,
  type SendContext,
} from '../../../harness/server/load.js';
import type { RequestOk, RequestRecord, RequestSpec } from '../../../harness/server/record.js';
import { sendStreamingRequest } from '../../../harness/server/request.js';
import { ErrorCodes, SkipbenchError } from '../../../kernels/errors.js';
import { type Loopback, readBody, sleep, sseHead, startServer } from './loopback.js';

const now = () => performance.now();

/** An iterator over `n` prepared specs (Infinity: endless). */
function specs(n = Number.POSITIVE_INFINITY): () => RequestSpec | undefined {
  let i = 0;
  return () => (i < n ? { id: `r${i}`, endpoint: 'completions', prompt: `prompt ${i++}`, maxTokens: 4 } : undefined);
}

function okRecord(spec: RequestSpec, tSend: number, tEnd: number): RequestOk {
  return {
    id: spec.id,
    endpoint: spec.endpoint,
    tSched: spec.tSched as number,
    tSend,
    tHeaders: tSend,
    tFirst: tEnd,
    tLast: tEnd,
    tEnd,
    tokenTimes: [tEnd],
    tokenCounts: [1],
    eventTokens: 1,
    nOut: 1,
    nOutSource: 'events',
    nInSource: 'none',
    malformedCount: 0,
    sawDone: true,
    httpStatus: 200,
    bytesReceived: 10,
    status: 'ok',
  };
}

/**
 * A fake server: each request takes `durationMs(spec)` ms of (fake) time, stamps t_send when called, and counts how
 * many are in flight. Aborting the context's signal ends it at once as a failed 'aborted' record.
 */
function fakeSend(durationMs: (spec: RequestSpec) => number = () => 10) {
  const state = { inFlight: 0, maxInFlight: 0, calls: 0 };
  const send = (spec: RequestSpec, context: SendContext): Promise<RequestRecord> => {
    const tSend = now();
    state.calls++;
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    return new Promise((resolve) => {
      const done = (record: RequestRecord) => {
        state.inFlight--;
        resolve(record);
      };
      const timer = setTimeout(() => done(okRecord(spec, tSend, now())), durationMs(spec));
      context.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        done({ ...okRecord(spec, tSend, now()), status: 'failed', reason: 'aborted', message: 'aborted' });
      });
    });
  };
  return { send, state };
}

/** Runs to completion under fake timers. */
async function drive(options: LoadOptions): Promise<LoadResult> {
  const promise = runLoad({ now, ...options });
  await vi.runAllTimersAsync();
  return promise;
}

const measured = (result: LoadResult) => result.records.filter((r) => !r.warmup);
const tSends = (records: LoadRecord[], origin: number) => records.map((r) => (r.tSend as number) - origin);
const tScheds = (records: LoadRecord[], origin: number) => records.map((r) => r.tSched - origin);

describe('runLoad under fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('closed loop keeps exactly `concurrency` requests in flight, sends them all, and sets t_sched when a lane frees', async () => {
    const durations = [30, 10, 20, 10, 10, 40, 10, 5, 5, 5];
    const { send, state } = fakeSend((spec) => durations[Number(spec.id?.slice(1))]);
    const result = await drive({ next: specs(10), mode: { kind: 'closed', concurrency: 3 }, send });
    expect(state.maxInFlight).toBe(3);
    expect(result.maxInFlight).toBe(3);
    expect(result.records.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(result.records.every((r) => r.status === 'ok' && !r.warmup)).toBe(true);
    expect(result.interrupted).toBe(false);
    // lanes: r0 0-30, r1 0-10, r2 0-20; r3 takes r1's lane at 10, r4 r2's at 20, r5 r3's at 20, r6 r0's at 30, ...
    expect(tScheds(result.records, result.startedAt).slice(0, 7)).toEqual([0, 0, 0, 10, 20, 20, 30]);
    for (const r of result.records) expect(r.tSend).toBe(r.tSched);
    // every later t_sched is the moment some earlier request ended
    const ends = new Set(result.records.map((r) => r.tEnd));
    for (const r of result.records.slice(3)) expect(ends.has(r.tSched)).toBe(true);
    expect(result.endedAt).toBe(Math.max(...result.records.map((r) => r.tEnd as number)));
  });

  it('open loop sends each request at startedAt + offset', async () => {
    const offsets = Float64Array.from([0, 10, 20, 35, 50, 50, 90]);
    const { send } = fakeSend(() => 100);
    const result = await drive({ next: specs(), mode: { kind: 'open', offsets }, send });
    expect(result.records).toHaveLength(7);
    expect(tScheds(result.records, result.startedAt)).toEqual(Array.from(offsets));
    expect(tSends(result.records, result.startedAt)).toEqual(Array.from(offsets));
    expect(result.maxInFlight).toBe(7);
  });

  it('open loop at maxConcurrency 1 queues later requests: t_sched stays on schedule, t_send - t_sched grows', async () => {
    const offsets = Float64Array.from([0, 10, 20, 30, 40]);
    const { send, state } = fakeSend(() => 30);
    const result = await drive({ next: specs(), mode: { kind: 'open', offsets, maxConcurrency: 1 }, send });
    expect(state.maxInFlight).toBe(1);
    expect(tScheds(result.records, result.startedAt)).toEqual([0, 10, 20, 30, 40]);
    expect(tSends(result.records, result.startedAt)).toEqual([0, 30, 60, 90, 120]);
    expect(result.records.map((r) => (r.tSend as number) - r.tSched)).toEqual([0, 20, 40, 60, 80]);
  });

  it('does not let timer lateness accumulate over a long schedule', async () => {
    const offsets = Float64Array.from({ length: 200 }, (_, i) => i * 7.5);
    const { send } = fakeSend(() => 1);
    const result = await drive({ next: specs(), mode: { kind: 'open', offsets }, send });
    const lateness = result.records.map((r) => (r.tSend as number) - r.tSched);
    expect(Math.max(...lateness)).toBeLessThan(1); // fractional targets: at most one sub-ms step late, never more
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
  });

  it('sends warmup requests first, flags them, and starts the open-loop schedule after they finish', async () => {
    const offsets = Float64Array.from([0, 10, 20]);
    const { send } = fakeSend(() => 25);
    const start = now();
    const result = await drive({ next: specs(), mode: { kind: 'open', offsets }, warmup: 2, send });
    expect(result.records.map((r) => [r.index, r.warmup])).toEqual([
      [0, true],
      [1, true],
      [2, false],
      [3, false],
      [4, false],
    ]);
    // warmup ran sequentially (open loop without maxConcurrency: 1 lane), then the schedule began
    expect(tSends(result.records.slice(0, 2), start)).toEqual([0, 25]);
    expect(result.startedAt - start).toBe(50);
    expect(tScheds(measured(result), result.startedAt)).toEqual([0, 10, 20]);
  });

  it('flags closed-loop warmup requests and applies count to measured requests only', async () => {
    const { send } = fakeSend(() => 10);
    const seen: [number, boolean][] = [];
    const result = await drive({
      next: specs(),
      mode: { kind: 'closed', concurrency: 2 },
      warmup: 3,
      stop: { count: 5 },
      send,
      onRecord: (_record, info) => seen.push([info.index, info.warmup]),
    });
    expect(result.records).toHaveLength(8);
    expect(result.records.filter((r) => r.warmup).map((r) => r.index)).toEqual([0, 1, 2]);
    expect(measured(result)).toHaveLength(5);
    expect(seen).toHaveLength(8);
    expect(seen.filter(([, warmup]) => warmup)).toHaveLength(3);
    for (const r of measured(result)) expect(r.tSched).toBeGreaterThanOrEqual(result.startedAt);
  });

  it('stops an open loop after `count` requests', async () => {
    const offsets = Float64Array.from({ length: 10 }, (_, i) => i * 10);
    const { send } = fakeSend(() => 5);
    const result = await drive({ next: specs(), mode: { kind: 'open', offsets }, stop: { count: 3 }, send });
    expect(result.records.map((r) => r.index)).toEqual([0, 1, 2]);
  });

  it('stops when the iterator runs dry', async () => {
    const { send } = fakeSend(() => 5);
    const result = await drive({ next: specs(4), mode: { kind: 'closed', concurrency: 8 }, send });
    expect(result.records).toHaveLength(4);
  });

  it('closed loop starts nothing after durationMs and lets in-flight requests finish', async () => {
    const { send } = fakeSend(() => 30);
    const result = await drive({
      next: specs(),
      mode: { kind: 'closed', concurrency: 2 },
      stop: { durationMs: 100 },
      send,
    });
    expect(tScheds(result.records, result.startedAt)).toEqual([0, 0, 30, 30, 60, 60, 90, 90]);
    expect(result.endedAt - result.startedAt).toBe(120);
    expect(result.records.every((r) => r.status === 'ok')).toBe(true);
  });

  it('open loop with durationMs: schedules nothing after it and records arrivals still queued as not sent', async () => {
    const offsets = Float64Array.from({ length: 20 }, (_, i) => i * 10);
    const { send } = fakeSend(() => 40);
    const result = await drive({
      next: specs(),
      mode: { kind: 'open', offsets, maxConcurrency: 1 },
      stop: { durationMs: 55 },
      send,
    });
    // arrivals at 0..50; r0 runs 0-40, r1 40-80; at 80 (past the deadline) the four still queued are given up
    expect(tScheds(result.records, result.startedAt)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(result.records.map((r) => r.status)).toEqual(['ok', 'ok', 'failed', 'failed', 'failed', 'failed']);
    for (const r of result.records.slice(2)) {
      expect(r).toMatchObject({ status: 'failed', reason: 'aborted', notSent: 'duration' });
      expect('tSend' in r).toBe(false);
      expect(r.tEnd! - result.startedAt).toBe(80);
    }
    expect(result.interrupted).toBe(false);
  });

  it('an abort stops new requests, lets in-flight ones finish and returns interrupted with every record', async () => {
    const controller = new AbortController();
    const { send } = fakeSend(() => 50);
    const promise = runLoad({
      now,
      next: specs(),
      mode: { kind: 'closed', concurrency: 2 },
      send,
      signal: controller.signal,
    });
    await vi.advanceTimersByTimeAsync(120);
    controller.abort();
    await vi.runAllTimersAsync();
    const result = await promise;
    expect(result.interrupted).toBe(true);
    expect(result.records).toHaveLength(6); // started at 0, 50, 100 on each lane
    expect(result.records.every((r) => r.status === 'ok')).toBe(true);
    expect(result.endedAt - result.startedAt).toBe(150);
  });

  it('an abort in open loop records queued arrivals as not sent and schedules no more', async () => {
    const controller = new AbortController();
    const offsets = Float64Array.from({ length: 10 }, (_, i) => i * 10);
    const { send } = fakeSend(() => 35);
    const promise = runLoad({
      now,
      next: specs(),
      mode: { kind: 'open', offsets, maxConcurrency: 1 },
      send,
      signal: controller.signal,
    });
    await vi.advanceTimersByTimeAsync(45); // r0 done at 35, r1 running since 35, r2..r4 queued
    controller.abort();
    await vi.runAllTimersAsync();
    const result = await promise;
    expect(result.interrupted).toBe(true);
    expect(result.records.map((r) => r.notSent ?? r.status)).toEqual([
      'ok',
      'ok',
      'interrupted',
      'interrupted',
      'interrupted',
    ]);
    expect(result.records[1].tEnd! - result.startedAt).toBe(70); // in flight at the abort: finished
  });

  it('cancelSignal also aborts requests in flight through the signal given to send', async () => {
    const cancel = new AbortController();
    const { send } = fakeSend(() => 50);
    const promise = runLoad({
      now,
      next: specs(),
      mode: { kind: 'closed', concurrency: 2 },
      send,
      cancelSignal: cancel.signal,
    });
    await vi.advanceTimersByTimeAsync(60);
    cancel.abort();
    await vi.runAllTimersAsync();
    const result = await promise;
    expect(result.interrupted).toBe(true);
    expect(result.records.map((r) => (r.status === 'failed' ? r.reason : 'ok'))).toEqual([
      'ok',
      'ok',
      'aborted',
      'aborted',
    ]);
    expect(result.endedAt - result.startedAt).toBe(60);
  });

  it('an already aborted signal sends nothing', async () => {
    const { send, state } = fakeSend();
    const result = await drive({
      next: specs(),
      mode: { kind: 'closed', concurrency: 2 },
      send,
      signal: AbortSignal.abort(),
    });
    expect(state.calls).toBe(0);
    expect(result).toMatchObject({ records: [], interrupted: true });
  });

  it('turns a send that throws or rejects into a failed record and carries on', async () => {
    const { send: inner } = fakeSend(() => 10);
    const send = (spec: RequestSpec, context: SendContext): Promise<RequestRecord> => {
      if (spec.id === 'r1') throw new TypeError('boom');
      if (spec.id === 'r2') return Promise.reject(new Error('socket gone'));
      return inner(spec, context);
    };
    const result = await drive({ next: specs(4), mode: { kind: 'closed', concurrency: 1 }, send });
    expect(result.records.map((r) => r.status)).toEqual(['ok', 'failed', 'failed', 'ok']);
    expect(result.records[1]).toMatchObject({ reason: 'connection', id: 'r1', endpoint: 'completions', nOut: 0 });
    expect((result.records[1] as { message: string }).message).toContain('boom');
    expect((result.records[2] as { message: string }).message).toContain('socket gone');
  });

  it('rejects with an error thrown by onRecord once in-flight requests are done', async () => {
    const { send, state } = fakeSend(() => 10);
    const bug = new Error('callback bug');
    const promise = runLoad({
      now,
      next: specs(),
      mode: { kind: 'closed', concurrency: 2 },
      send,
      onRecord: () => {
        throw bug;
      },
    });
    const settled = promise.catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    expect(await settled).toBe(bug);
    expect(state.calls).toBe(2);
    expect(state.inFlight).toBe(0);
  });

  it.each<[string, Partial<LoadOptions>]>([
    ['concurrency', { mode: { kind: 'closed', concurrency: 0 } }],
    ['concurrency', { mode: { kind: 'closed', concurrency: 1.5 } }],
    ['maxConcurrency', { mode: { kind: 'open', offsets: new Float64Array(2), maxConcurrency: 0 } }],
    ['offsets', { mode: { kind: 'open', offsets: Float64Array.from([0, 10, 5]) } }],
    ['offsets', { mode: { kind: 'open', offsets: Float64Array.from([-1]) } }],
    ['offsets', { mode: { kind: 'open', offsets: [0, 1] as unknown as Float64Array } }],
    ['mode', { mode: { kind: 'burst' } as unknown as LoadMode }],
    ['warmup', { warmup: -1 }],
    ['warmupConcurrency', { warmupConcurrency: 0 }],
    ['count', { stop: { count: 1.5 } }],
    ['durationMs', { stop: { durationMs: 0 } }],
    ['send', { send: undefined }],
  ])('rejects a bad %s with SKB_CONFIG before sending', async (field, patch) => {
    const { send, state } = fakeSend();
    const error = await runLoad({ next: specs(), mode: { kind: 'closed', concurrency: 1 }, send, ...patch }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SkipbenchError);
    expect(error).toMatchObject({ code: ErrorCodes.CONFIG, field });
    expect(state.calls).toBe(0);
  });
});

describe('runLoad on real time', () => {
  const agent = new Agent();
  const servers: Loopback[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  afterAll(() => agent.close());

  /**
   * Typically < 1 ms late (at most 3 ms seen with 2 CPU burners on 2 cores), but a scheduler slice on a busy machine
   * can add 10-20 ms to any one request: each request gets that much, the median must stay within a few ms (a drifting
   * or systematically late timer fails it).
   */
  const LATE_TOLERANCE_MS = 25;
  const MEDIAN_TOLERANCE_MS = 4;

  it('open loop hands each request to send within a few ms of its t_sched', async () => {
    const offsets = Float64Array.from({ length: 9 }, (_, i) => i * 15);
    const { send } = fakeSend(() => 5);
    const result = await runLoad({ next: specs(), mode: { kind: 'open', offsets }, send });
    const lateness = result.records.map((r, i) => {
      expect(r.tSched).toBe(result.startedAt + offsets[i]);
      return (r.tSend as number) - r.tSched;
    });
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...lateness)).toBeLessThan(LATE_TOLERANCE_MS);
    expect(lateness.sort((a, b) => a - b)[4]).toBeLessThan(MEDIAN_TOLERANCE_MS);
  });

  it('runs an open loop end to end against a loopback SSE server through sendStreamingRequest', async () => {
    const tokens = ['Hello', ',', ' world'];
    const server = await startServer(async (req, res) => {
      const body = JSON.parse(await readBody(req));
      sseHead(res);
      for (const text of tokens) {
        await sleep(5);
        res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text, finish_reason: null }] })}\n\n`);
      }
      const usage = { prompt_tokens: 3, completion_tokens: tokens.length, total_tokens: 3 + tokens.length };
      res.write(`data: ${JSON.stringify({ choices: [], usage, model: body.model ?? 'test' })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
    servers.push(server);
    const offsets = Float64Array.from([0, 10, 20, 30]);
    const result = await runLoad({
      next: specs(),
      mode: { kind: 'open', offsets, maxConcurrency: 2 },
      warmup: 1,
      send: (spec, { signal }) => sendStreamingRequest(spec, { baseUrl: server.url, dispatcher: agent, signal }),
    });
    expect(result.records).toHaveLength(5);
    expect(result.records[0].warmup).toBe(true);
    for (const [i, r] of measured(result).entries()) {
      if (r.status !== 'ok') throw new Error(`request failed: ${r.reason}: ${r.message}`);
      expect(r.nOut).toBe(3);
      expect(r.nOutSource).toBe('usage');
      expect(r.tSched).toBe(result.startedAt + offsets[i]);
      expect(r.tSend).toBeGreaterThanOrEqual(r.tSched);
      expect(r.tFirst).toBeGreaterThan(r.tSend);
      expect(r.id).toBe(`r${i + 1}`);
    }
  });
});
