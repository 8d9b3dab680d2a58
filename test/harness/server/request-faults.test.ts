/**
 * Fault injection: every way a request can go wrong ends as a record (status 'failed' with a reason, or 'ok' when the
 * stream still delivered), never as an exception, and keeps the timings it got before the fault.
 */
import { getEventListeners } from 'node:events';
import type http from 'node:http';
import { Agent } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RequestFailed, RequestRecord, RequestSpec } from '../../../harness/server/record.js';
import { type RequestOptions, sendStreamingRequest } from '../../../harness/server/request.js';
import { fixtureEvents, type Loopback, readBody, readFixture, sleep, sseHead, startServer } from './loopback.js';

const COMPLETIONS = fixtureEvents('completions-stream.sse');
const CHAT = fixtureEvents('chat-stream.sse');
const spec: RequestSpec = { endpoint: 'completions', prompt: [1, 2, 3], maxTokens: 8 };

const agent = new Agent();
const servers: Loopback[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => agent.close());

async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>) {
  const server = await startServer(async (req, res) => {
    await readBody(req);
    await handler(req, res);
  });
  servers.push(server);
  return server.url;
}

function send(url: string, options: Partial<RequestOptions> = {}): Promise<RequestRecord> {
  return sendStreamingRequest(spec, { baseUrl: url, dispatcher: agent, ...options });
}

function failed(record: RequestRecord): RequestFailed {
  if (record.status !== 'failed') throw new Error('expected a failed request');
  return record;
}

/** Writes events a few ms apart. */
async function writeEvents(res: http.ServerResponse, events: string[]): Promise<void> {
  for (const event of events) {
    res.write(event);
    await sleep(3);
  }
}

describe('HTTP errors', () => {
  it('HTTP 500: failed http_status with an excerpt of the body', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal boom: the model fell over');
    });
    const r = failed(await send(url));
    expect(r).toMatchObject({ reason: 'http_status', httpStatus: 500 });
    expect(r.message).toContain('internal boom: the model fell over');
    expect(r.tSend).toBeDefined();
    expect(r.tHeaders).toBeDefined();
    expect(r.tFirst).toBeUndefined();
  });

  it('HTTP 429 with Retry-After: 2 -> retryAfterMs 2000', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(429, { 'retry-after': '2', 'content-type': 'application/json' });
      res.end('{"error":{"message":"busy"}}');
    });
    expect(failed(await send(url))).toMatchObject({ reason: 'http_status', httpStatus: 429, retryAfterMs: 2000 });
  });

  it("HTTP 400 with llama.cpp's over-length error body", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
      res.end(readFixture('error-too-long.json'));
    });
    const r = failed(await send(url));
    expect(r).toMatchObject({ reason: 'http_status', httpStatus: 400 });
    expect(r.message).toContain('request (9002 tokens) exceeds the available context size (8192 tokens)');
    expect(r.retryAfterMs).toBeUndefined();
  });

  it('keeps at most 4 KiB of a long error body', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(502);
      res.end('x'.repeat(20_000));
    });
    const r = failed(await send(url));
    expect(r.message.length).toBeLessThan(4096 + 64);
    expect(r.bytesReceived).toBe(20_000);
  });
});

describe('broken streams', () => {
  it('connection reset after two events: failed connection, partial t_first and token times kept', async () => {
    const url = await serve(async (req, res) => {
      sseHead(res);
      await writeEvents(res, COMPLETIONS.slice(0, 2));
      await sleep(5);
      req.socket.destroy();
    });
    const r = failed(await send(url));
    expect(r.reason).toBe('connection');
    expect(r.tFirst).toBeDefined();
    expect(r.tokenTimes).toHaveLength(2);
    expect(r).toMatchObject({ nOut: 2, nOutSource: 'events', httpStatus: 200 });
  });

  it('a malformed SSE line in the middle is counted and the request is still ok', async () => {
    const url = await serve(async (_req, res) => {
      sseHead(res);
      await writeEvents(res, [...COMPLETIONS.slice(0, 3), 'this line is not SSE\n', ...COMPLETIONS.slice(3)]);
      res.end();
    });
    expect(await send(url)).toMatchObject({ status: 'ok', malformedCount: 1, nOut: 8 });
  });

  it('a stream that stalls past the idle timeout fails with timeout, keeping what arrived', async () => {
    const url = await serve(async (_req, res) => {
      sseHead(res);
      await writeEvents(res, COMPLETIONS.slice(0, 2)); // then silence
    });
    const started = performance.now();
    const r = failed(await send(url, { idleTimeoutMs: 200 }));
    const elapsed = performance.now() - started;
    expect(r.reason).toBe('timeout');
    expect(r.message).toContain('200 ms');
    expect(r.tokenTimes).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(1000);
  });

  it('headers slower than the total timeout: failed timeout with t_send but no t_headers', async () => {
    const url = await serve(() => {
      // never answers
    });
    const started = performance.now();
    const r = failed(await send(url, { timeoutMs: 200 }));
    expect(r.reason).toBe('timeout');
    expect(r.tSend).toBeDefined();
    expect(r.tHeaders).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('the total timeout also ends a stream that keeps trickling', async () => {
    const url = await serve(async (_req, res) => {
      sseHead(res);
      for (let i = 0; i < 100 && !res.destroyed; i++) {
        res.write(': keep-alive\n\n');
        await sleep(20);
      }
    });
    const r = failed(await send(url, { timeoutMs: 200, idleTimeoutMs: 100 }));
    expect(r.reason).toBe('timeout');
    expect(r.message).toContain('within 200 ms');
  });

  it('gaps shorter than the idle timeout never trip it, however long the stream runs in total', async () => {
    // the idle timer re-arms itself for the time left since the last bytes instead of being refreshed per chunk
    const url = await serve(async (_req, res) => {
      sseHead(res);
      for (const event of COMPLETIONS) {
        res.write(event);
        await sleep(40);
      }
      res.end();
    });
    const started = performance.now();
    const r = await send(url, { idleTimeoutMs: 100 });
    expect(performance.now() - started).toBeGreaterThan(300); // several idle limits in all
    expect(r.status).toBe('ok');
  });

  it('missing usage: N_out is counted from the events', async () => {
    const textOnly = COMPLETIONS.slice(0, 3);
    const url = await serve(async (_req, res) => {
      sseHead(res);
      await writeEvents(res, [...textOnly, 'data: [DONE]\n\n']);
      res.end();
    });
    expect(await send(url)).toMatchObject({
      status: 'ok',
      nOut: 3,
      nOutSource: 'events',
      eventTokens: 3,
      nInSource: 'none',
      sawDone: true,
    });
  });

  it('[DONE] absent but the stream closes: ok', async () => {
    const url = await serve(async (_req, res) => {
      sseHead(res);
      await writeEvents(res, COMPLETIONS.slice(0, -1));
      res.end();
    });
    expect(await send(url)).toMatchObject({ status: 'ok', sawDone: false, nOut: 8, nOutSource: 'usage' });
  });

  it('an error object inside a 200 stream: failed server_error', async () => {
    const url = await serve(async (_req, res) => {
      sseHead(res);
      await writeEvents(res, [COMPLETIONS[0], 'data: {"error":{"message":"KV cache full","code":500}}\n\n']);
      await sleep(1000); // the client must not wait for the end
      res.end();
    });
    const r = failed(await send(url));
    expect(r.reason).toBe('server_error');
    expect(r.message).toContain('KV cache full');
    expect(r.tokenTimes).toHaveLength(1);
  });

  it('a stream with no token-bearing event: failed no_tokens', async () => {
    const url = await serve(async (_req, res) => {
      sseHead(res);
      await writeEvents(res, [CHAT[0], CHAT[9], CHAT[11]]); // role chunk, finish chunk, [DONE]
      res.end();
    });
    expect(failed(await send(url))).toMatchObject({ reason: 'no_tokens', finishReason: 'length', sawDone: true });
  });

  it('a 200 response that is not SSE (stream ignored): failed malformed', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(readFixture('completions.json'));
    });
    const r = failed(await send(url));
    expect(r.reason).toBe('malformed');
    expect(r.malformedCount).toBe(1);
  });
});

describe('aborts and connections', () => {
  it("the caller's AbortSignal: failed aborted, partial timings kept", async () => {
    const controller = new AbortController();
    const url = await serve(async (_req, res) => {
      sseHead(res);
      await writeEvents(res, COMPLETIONS.slice(0, 2));
      controller.abort();
    });
    const r = failed(await send(url, { signal: controller.signal }));
    expect(r.reason).toBe('aborted');
    expect(r.tokenTimes.length).toBeGreaterThanOrEqual(1);
  });

  it('one signal shared by many requests: aborting it fails every one in flight, and settled requests leave no listener behind', async () => {
    const controller = new AbortController();
    const { signal } = controller;
    const url = await serve(async (_req, res) => {
      sseHead(res);
      await writeEvents(res, COMPLETIONS.slice(0, 1)); // then silence until aborted
    });
    const quick = await serve(async (_req, res) => {
      sseHead(res);
      await writeEvents(res, COMPLETIONS);
      res.end();
    });
    // requests that finish before the abort unregister; the signal ends up with no listener of ours
    const done = await Promise.all(Array.from({ length: 5 }, () => send(quick, { signal })));
    expect(done.every((r) => r.status === 'ok')).toBe(true);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    const pending = Array.from({ length: 20 }, () => send(url, { signal }));
    await sleep(100);
    expect(getEventListeners(signal, 'abort')).toHaveLength(1); // one for all 20
    controller.abort();
    const records = await Promise.all(pending);
    expect(records.map((r) => (r.status === 'failed' ? r.reason : r.status))).toEqual(Array(20).fill('aborted'));
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('an already aborted signal sends nothing', async () => {
    let hits = 0;
    const url = await serve(() => {
      hits++;
    });
    const r = failed(await send(url, { signal: AbortSignal.abort() }));
    expect(r.reason).toBe('aborted');
    expect(r.tSend).toBeUndefined();
    await sleep(20);
    expect(hits).toBe(0);
  });

  it('connection refused: failed connection without t_send', async () => {
    const server = await startServer(() => {});
    const url = server.url;
    await server.close();
    const r = failed(await send(url));
    expect(r.reason).toBe('connection');
    expect(r.tSend).toBeUndefined();
  });
});
