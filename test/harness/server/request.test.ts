/**
 * One streaming request against loopback servers that replay the captured llama.cpp streams: the timeline the client
 * records matches when the server wrote each event, the role-only chat chunk never sets t_first, usage and timings
 * land in the record, and with a server-driven fake clock every metric is exact.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, Pool } from 'undici';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { requestMetrics } from '../../../harness/server/metrics.js';
import type { RequestOk, RequestRecord, RequestSpec } from '../../../harness/server/record.js';
import { sendStreamingRequest } from '../../../harness/server/request.js';
import { ErrorCodes } from '../../../kernels/errors.js';
import { fixtureEvents, type Loopback, readBody, ServerDrivenClock, sleep, sseHead, startServer } from './loopback.js';

const COMPLETIONS = fixtureEvents('completions-stream.sse');
const CHAT = fixtureEvents('chat-stream.sse');
const completionSpec: RequestSpec = {
  endpoint: 'completions',
  prompt: 'The quick brown fox',
  maxTokens: 8,
  extraBody: { ignore_eos: true, cache_prompt: false },
};
const chatSpec: RequestSpec = { endpoint: 'chat', messages: [{ role: 'user', content: 'hi' }], maxTokens: 8 };

/**
 * Client and server share one clock, so the client's figure can only exceed the server's (t_send precedes the
 * server's receive stamp, t_first follows its write stamp): the lower bound is exact. Above it, a loop hop costs
 * about 1 ms on an idle machine (client minus server: ~1.7 ms here) but up to a scheduler slice or two on busy cores (10 ms seen on 2 cores with
 * 2 CPU burners), hence the upper tolerance. Events are spaced beyond it, so stamping the wrong event (the role
 * chunk as t_first, the usage chunk as t_last) still fails.
 */
const TOLERANCE_MS = 15;
const SPACING_MS = 30;

/** client >= server, and client - server < TOLERANCE_MS. */
function expectClose(client: number, server: number): void {
  expect(client).toBeGreaterThanOrEqual(server);
  expect(client - server).toBeLessThan(TOLERANCE_MS);
}

const agent = new Agent();
const servers: Loopback[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => agent.close());

function ok(record: RequestRecord): RequestOk {
  if (record.status !== 'ok') throw new Error(`request failed: ${record.reason}: ${record.message}`);
  return record;
}

interface Seen {
  receivedAt: number;
  writes: number[];
  path?: string;
  headers?: IncomingHttpHeaders;
  body?: Record<string, unknown>;
}

/** Replays `events` in real time, `delayMs` apart, stamping (performance.now) its receive time and every write. */
async function replayServer(events: string[], delayMs: number): Promise<{ url: string; seen: Seen }> {
  const seen: Seen = { receivedAt: Number.NaN, writes: [] };
  const server = await startServer(async (req, res) => {
    seen.receivedAt = performance.now();
    seen.path = req.url;
    seen.headers = req.headers;
    seen.body = JSON.parse(await readBody(req));
    sseHead(res);
    for (const event of events) {
      await sleep(delayMs);
      seen.writes.push(performance.now());
      res.write(event);
    }
    res.end();
  });
  servers.push(server);
  return { url: server.url, seen };
}

/** Replays `events` at the fake times `times[i]`: headers at 1005, the end at `end`. */
async function fakeClockServer(events: string[], times: number[], end: number, clock: ServerDrivenClock) {
  const server = await startServer(async (req, res) => {
    await readBody(req);
    clock.value = 1005;
    sseHead(res);
    await clock.nextRead();
    for (let i = 0; i < events.length; i++) {
      clock.value = times[i];
      res.write(events[i]);
      await clock.nextRead();
    }
    clock.value = end;
    res.end();
  });
  servers.push(server);
  return server.url;
}

describe('sendStreamingRequest against a replayed llama.cpp stream (real clock)', () => {
  it('completions: TTFT and E2EL match the server-side write times within a few ms', async () => {
    const { url, seen } = await replayServer(COMPLETIONS, SPACING_MS);
    const r = ok(await sendStreamingRequest(completionSpec, { baseUrl: url, dispatcher: agent }));
    const m = requestMetrics(r);
    // first token: event 0; last token-bearing event: event 7 (event 8 carries only usage, text '')
    expectClose(m.ttftMs!, seen.writes[0] - seen.receivedAt);
    expectClose(m.e2elMs!, seen.writes[7] - seen.receivedAt);
    expect(r.tokenTimes).toHaveLength(8);
    expect(r).toMatchObject({ nOut: 8, nOutSource: 'usage', nIn: 5, nInSource: 'usage', cachedTokens: 0 });
    expect(r).toMatchObject({ httpStatus: 200, sawDone: true, malformedCount: 0, finishReason: 'length' });
    expect(r.serverTimings).toMatchObject({ prompt_n: 5, prompt_ms: 40.719, predicted_n: 8 });
    expect(seen.path).toBe('/v1/completions');
    expect(seen.body).toEqual({
      prompt: 'The quick brown fox',
      max_tokens: 8,
      ignore_eos: true,
      cache_prompt: false,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('chat: the role-only first chunk does not set t_first', async () => {
    const { url, seen } = await replayServer(CHAT, SPACING_MS);
    const r = ok(await sendStreamingRequest(chatSpec, { baseUrl: url, dispatcher: agent }));
    const ttft = requestMetrics(r).ttftMs!;
    // event 0 is the role chunk (written SPACING_MS earlier); event 1 is the first content
    expectClose(ttft, seen.writes[1] - seen.receivedAt);
    expectClose(requestMetrics(r).e2elMs!, seen.writes[8] - seen.receivedAt);
    expect(r.tFirst).toBeGreaterThan(seen.writes[0] + SPACING_MS / 2);
    expect(r).toMatchObject({ nOut: 8, nOutSource: 'usage', nIn: 14, nInSource: 'usage', sawDone: true });
    expect(r.serverTimings).toMatchObject({ prompt_n: 14, predicted_ms: 33.673 });
    expect(seen.path).toBe('/v1/chat/completions');
    expect(seen.body).toMatchObject({ messages: [{ role: 'user', content: 'hi' }], stream: true });
  });

  it('keeps the generated text when asked', async () => {
    const { url } = await replayServer(CHAT, 1);
    const r = ok(await sendStreamingRequest(chatSpec, { baseUrl: url, dispatcher: agent, collectText: true }));
    expect(r.text).toBe('veedorveedorveedorveedor Cem Cem Cem clap');
  });

  it('clears its timers when the request settles', async () => {
    const { url } = await replayServer(COMPLETIONS, 1);
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const options = { baseUrl: url, dispatcher: agent, timeoutMs: 60_000, idleTimeoutMs: 60_000 };
    expect((await sendStreamingRequest(completionSpec, options)).status).toBe('ok');
    await sleep(5); // the replay server's last sleep
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it("works through undici's global dispatcher when none is given", async () => {
    const { url } = await replayServer(COMPLETIONS, 1);
    expect((await sendStreamingRequest(completionSpec, { baseUrl: url })).status).toBe('ok');
  });

  it('stamps t_send when the request is written, so a wait for a pooled connection is queue delay, not TTFT', async () => {
    const { url } = await replayServer(COMPLETIONS, 10);
    const pool = new Pool(url, { connections: 1 });
    try {
      const t0 = performance.now();
      const spec = { ...completionSpec, tSched: t0 };
      const [a, b] = (
        await Promise.all([0, 1].map(() => sendStreamingRequest(spec, { baseUrl: url, dispatcher: pool })))
      ).map(ok);
      const [first, second] = a.tSend <= b.tSend ? [a, b] : [b, a];
      expect(second.tSend).toBeGreaterThanOrEqual(first.tEnd);
      expect(requestMetrics(second).queueDelayMs!).toBeGreaterThan(80);
      expect(requestMetrics(second).ttftMs!).toBeLessThan(40);
    } finally {
      await pool.close();
    }
  });
});

describe('sendStreamingRequest with a server-driven fake clock (exact)', () => {
  it('completions: exact stamps and metrics', async () => {
    const clock = new ServerDrivenClock(1000);
    // text events 0..7 at 1100..1170, usage event at 1180, [DONE] at 1190
    const times = COMPLETIONS.map((_, i) => 1100 + 10 * i);
    const url = await fakeClockServer(COMPLETIONS, times, 1200, clock);
    const r = ok(
      await sendStreamingRequest(
        { ...completionSpec, tSched: 990 },
        { baseUrl: url, dispatcher: agent, now: clock.now },
      ),
    );
    expect(r).toMatchObject({ tSched: 990, tSend: 1000, tHeaders: 1005, tFirst: 1100, tLast: 1170, tEnd: 1200 });
    expect(r.tokenTimes).toEqual([1100, 1110, 1120, 1130, 1140, 1150, 1160, 1170]);
    expect(r.tokenCounts).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(requestMetrics(r)).toEqual({
      queueDelayMs: 10,
      ttftMs: 100,
      ttftFromSchedMs: 110,
      e2elMs: 170,
      tpotMs: 10,
      itlMs: [10, 10, 10, 10, 10, 10, 10],
    });
  });

  it('chat: the role chunk at 1050 is ignored, TTFT comes from the first content at 1100', async () => {
    const clock = new ServerDrivenClock(1000);
    // role 1050, content 1100..1170, finish 1180, usage 1190, [DONE] 1195
    const times = [1050, 1100, 1110, 1120, 1130, 1140, 1150, 1160, 1170, 1180, 1190, 1195];
    const url = await fakeClockServer(CHAT, times, 1200, clock);
    const r = ok(
      await sendStreamingRequest({ ...chatSpec, tSched: 1000 }, { baseUrl: url, dispatcher: agent, now: clock.now }),
    );
    expect(requestMetrics(r)).toEqual({
      queueDelayMs: 0,
      ttftMs: 100,
      ttftFromSchedMs: 100,
      e2elMs: 170,
      tpotMs: 10,
      itlMs: [10, 10, 10, 10, 10, 10, 10],
    });
    expect(r).toMatchObject({ nOut: 8, nOutSource: 'usage', nIn: 14 });
  });
});

describe('API key and headers', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('sends Bearer <key> from the named environment variable and never puts the key in the record', async () => {
    vi.stubEnv('SKB_TEST_API_KEY', 'sk-test-0123456789');
    const { url, seen } = await replayServer(COMPLETIONS, 1);
    const r = await sendStreamingRequest(completionSpec, {
      baseUrl: url,
      dispatcher: agent,
      apiKeyEnv: 'SKB_TEST_API_KEY',
      headers: { 'X-Skipbench-Run': 'run-42' },
    });
    expect(r.status).toBe('ok');
    expect(seen.headers?.authorization).toBe('Bearer sk-test-0123456789');
    expect(seen.headers?.['x-skipbench-run']).toBe('run-42');
    expect(JSON.stringify(r)).not.toContain('sk-test-0123456789');
  });

  it('rejects with SKB_CONFIG, before sending, when the variable is unset', async () => {
    await expect(
      sendStreamingRequest(completionSpec, { baseUrl: 'http://127.0.0.1:9', apiKeyEnv: 'SKB_TEST_UNSET_KEY' }),
    ).rejects.toMatchObject({ code: ErrorCodes.CONFIG, field: 'apiKeyEnv' });
  });

  it('rejects non-positive timeouts with SKB_CONFIG', async () => {
    await expect(
      sendStreamingRequest(completionSpec, { baseUrl: 'http://127.0.0.1:9', idleTimeoutMs: 0 }),
    ).rejects.toMatchObject({ code: ErrorCodes.CONFIG, field: 'idleTimeoutMs' });
  });
});
