/**
 * The client-overhead benchmark: the stamp server (in this process and forked from dist/, so `npm run build` first),
 * the pure sample extraction and assessment, the whole measurement at small sizes, and the command's flags. Counts
 * and shapes only: no timing thresholds.
 */
import { Command } from 'commander';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assessClientOverhead,
  type ClientOverheadResult,
  measureClientOverhead,
  overheadSamples,
  serverStamps,
} from '../../../harness/bench/client-overhead.js';
import {
  epochNow,
  launchStampServer,
  type StampServer,
  startStampServer,
} from '../../../harness/bench/stamp-server.js';
import {
  type ClientOverheadCommand,
  registerClientOverhead,
  renderClientOverhead,
} from '../../../harness/commands/client-overhead.js';
import type { RequestOk, RequestRecord } from '../../../harness/server/record.js';
import { sendStreamingRequest } from '../../../harness/server/request.js';
import { ErrorCodes } from '../../../kernels/errors.js';

let server: StampServer;

beforeAll(async () => {
  server = await startStampServer();
});

afterAll(async () => {
  await server?.close();
});

const body = (maxTokens: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ prompt: [1, 2, 3], max_tokens: maxTokens, stream: true, ...extra });

describe('stamp server', () => {
  it('writes max_tokens events with increasing stamps, the same in the JSON field and the text, then usage and [DONE]', async () => {
    const before = epochNow();
    const response = await request(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body(5, { stamp_first_delay_ms: 0, stamp_interval_ms: 1 }),
    });
    const text = await response.body.text();
    const after = epochNow();
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream');
    const data = text
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice(6));
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    const tokens = chunks.filter((c) => c.choices.length > 0);
    expect(tokens).toHaveLength(5);
    const stamps = tokens.map((c) => c.stamp as number);
    expect(tokens.map((c) => c.choices[0].text)).toEqual(stamps.map((s) => `${s};`));
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]).toBeGreaterThan(stamps[i - 1]);
    expect(stamps[0]).toBeGreaterThanOrEqual(before);
    expect(stamps[4]).toBeLessThanOrEqual(after);
    expect(tokens[4].choices[0].finish_reason).toBe('length');
    expect(chunks.at(-1).usage).toEqual({ prompt_tokens: 3, completion_tokens: 5 });
  });

  it('gives sendStreamingRequest one stamp per token event, recoverable from the collected text', async () => {
    const record = await sendStreamingRequest(
      {
        endpoint: 'completions',
        prompt: 'x',
        maxTokens: 4,
        extraBody: { stamp_first_delay_ms: 1, stamp_interval_ms: 0 },
      },
      { baseUrl: server.url, now: epochNow, collectText: true },
    );
    expect(record.status).toBe('ok');
    const stamps = serverStamps(record.text ?? '');
    expect(stamps).toHaveLength(4);
    expect(record.tokenTimes).toHaveLength(4);
    expect(record.nOut).toBe(4);
    expect(record.sawDone).toBe(true);
    // same process, same clock: every event arrives after it was stamped
    for (const [i, s] of stamps.entries()) expect(record.tokenTimes[i]).toBeGreaterThanOrEqual(s);
  });

  it('with stamp_prefill_ms, gives each first event a slot that far after the previous one (one prefill at a time)', async () => {
    const send = () =>
      sendStreamingRequest(
        {
          endpoint: 'completions',
          prompt: 'x',
          maxTokens: 1,
          extraBody: { stamp_first_delay_ms: 0, stamp_interval_ms: 0, stamp_prefill_ms: 8 },
        },
        { baseUrl: server.url, now: epochNow, collectText: true },
      );
    const before = epochNow();
    const records = await Promise.all(Array.from({ length: 5 }, send));
    const firsts = records.map((r) => serverStamps(r.text ?? '')[0]).sort((a, b) => a - b);
    expect(firsts).toHaveLength(5);
    // each first event is written no sooner than its slot, 8 ms after the previous slot (a late write can bring two
    // writes closer, never the slots): the fifth is at least 4 slots after the first request arrived
    expect(firsts[4] - before).toBeGreaterThanOrEqual(32);
  });

  it('answers /health, /stats and 404 for anything else', async () => {
    expect((await request(`${server.url}/health`)).statusCode).toBe(200);
    const stats = (await (await request(`${server.url}/stats`)).body.json()) as Record<string, number>;
    expect(Number.isFinite(stats.epochMinusMonotonic)).toBe(true);
    expect(stats.cpuUs).toBeGreaterThan(0);
    const other = await request(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
    await other.body.dump();
    expect(other.statusCode).toBe(404);
  });

  it('runs as its own process from dist/ and exits when closed', async () => {
    const child = await launchStampServer();
    const response = await request(`${child.url}/health`);
    expect(response.statusCode).toBe(200);
    await child.close();
    expect(() => process.kill(child.pid, 0)).toThrow();
  });
});

function okRecord(tokenTimes: number[], text: string): RequestOk {
  return {
    endpoint: 'completions',
    status: 'ok',
    tSched: 0,
    tSend: 0,
    tHeaders: 1,
    tFirst: tokenTimes[0],
    tLast: tokenTimes.at(-1)!,
    tEnd: tokenTimes.at(-1)!,
    httpStatus: 200,
    tokenTimes,
    tokenCounts: tokenTimes.map(() => 1),
    eventTokens: tokenTimes.length,
    nOut: tokenTimes.length,
    nOutSource: 'events',
    nInSource: 'none',
    malformedCount: 0,
    sawDone: true,
    bytesReceived: 100,
    text,
  };
}

describe('overheadSamples', () => {
  it('pairs each event time with its stamp, subtracts the clock offset and skips mismatched or failed records', () => {
    const records: RequestRecord[] = [
      okRecord([10.5, 20.25], '10;20;'),
      okRecord([30, 41], '29.5;40;'),
      okRecord([50, 60], '49;'), // one stamp for two events: unmatched
      {
        endpoint: 'completions',
        status: 'failed',
        reason: 'connection',
        message: 'reset',
        tSched: 0,
        tokenTimes: [],
        tokenCounts: [],
        eventTokens: 0,
        nOut: 0,
        nOutSource: 'events',
        nInSource: 'none',
        malformedCount: 0,
        sawDone: false,
        bytesReceived: 0,
      },
    ];
    const s = overheadSamples(records, 0.25);
    expect(s.first).toEqual([0.75, 0.75]);
    expect(s.all).toEqual([0.75, 0.5, 0.75, 1.25]);
    expect(s.events).toBe(6);
    expect(s.unmatched).toBe(1);
  });

  it('reads the stamps of the text in order', () => {
    expect(serverStamps('1712.5;1713.25;')).toEqual([1712.5, 1713.25]);
    expect(serverStamps('')).toEqual([]);
  });
});

describe('measureClientOverhead', () => {
  let result: ClientOverheadResult;

  beforeAll(async () => {
    result = await measureClientOverhead({
      streams: 20,
      tokens: 4,
      rounds: 2,
      firstDelayMs: 5,
      intervalMs: 2,
      prefillMs: 1,
      promptTokens: 4096,
      promptBuilds: 2,
      costPrompts: [256, 4096],
      costOutputTokens: 32,
      costShortTokens: 4,
      costRequests: 2,
    });
  });

  it('measures every stream and event of every round against the forked stamp server', () => {
    const s = result.overhead;
    expect(s.ok).toBe(40);
    expect(s.failed).toBe(0);
    expect(s.unmatched).toBe(0);
    expect(s.connections).toBe(20);
    expect(s.rounds).toHaveLength(2);
    expect(s.events).toBe(160);
    expect(s.firstTokenMs.n).toBe(40);
    expect(s.allEventsMs.n).toBe(160);
    for (const x of [s.firstTokenMs.p50, s.firstTokenMs.p99, s.allEventsMs.p50, s.allEventsMs.p99, s.cpuUsPerToken]) {
      expect(Number.isFinite(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(0);
    }
    expect(Number.isFinite(s.clockOffsetMs)).toBe(true);
    // the forked server prefills one request at a time: the 20th first event comes 19 slots of 1 ms after the first
    // one's 5 ms delay (round times start before the first request is sent; the clock offset is µs)
    for (const round of s.rounds) expect(round.firstStampMaxMs).toBeGreaterThanOrEqual(23.9);
  });

  it('times the prompt builds and compares CPU per output token at both prompt lengths', () => {
    const p = result.prompt;
    expect(p.tokens).toBe(4096);
    expect(p.buildsMs).toHaveLength(3);
    expect(p.firstBuildMs).toBe(p.buildsMs[0]);
    const c = result.cost;
    expect([c.small.promptTokens, c.large.promptTokens]).toEqual([256, 4096]);
    for (const side of [c.small, c.large]) {
      expect(side.longCpuUs).toHaveLength(2);
      expect(side.shortCpuUs).toHaveLength(2);
      expect(Number.isFinite(side.cpuUsPerOutputToken)).toBe(true);
      expect(Number.isFinite(side.marginalCpuUsPerToken)).toBe(true);
    }
    expect(c.ratio).toBeCloseTo(c.large.cpuUsPerOutputToken / c.small.cpuUsPerOutputToken, 10);
    expect(c.marginalRatio).toBeCloseTo(c.large.marginalCpuUsPerToken / c.small.marginalCpuUsPerToken, 10);
  });

  it('sets PASS or MISS against each target and leaves context figures without one', () => {
    const passing = structuredClone(result);
    passing.overhead.firstTokenMs.p50 = 0.5;
    passing.overhead.firstTokenMs.p99 = 5;
    passing.prompt.firstBuildMs = 100;
    passing.cost.marginalRatio = 1.05;
    const checks = assessClientOverhead(passing);
    const gated = checks.filter((c) => c.target !== undefined);
    expect(gated.map((c) => c.pass)).toEqual([true, false, true, passing.prompt.medianBuildMs < 300, true]);
    expect(checks.filter((c) => c.target === undefined).every((c) => c.pass === undefined)).toBe(true);
    const table = renderClientOverhead(passing, 'skipbench client-overhead --streams 20');
    expect(table).toContain('$ skipbench client-overhead --streams 20');
    expect(table).toContain('PASS');
    expect(table).toContain('MISS');
  });

  it('stops when the caller aborts', async () => {
    await expect(
      measureClientOverhead({ streams: 4, tokens: 2, rounds: 1, signal: AbortSignal.abort() }),
    ).rejects.toThrow();
  });

  it('rejects invalid options before starting anything', async () => {
    await expect(measureClientOverhead({ streams: 0 })).rejects.toMatchObject({
      code: ErrorCodes.CONFIG,
      field: 'streams',
    });
    await expect(measureClientOverhead({ costOutputTokens: 8, costShortTokens: 8 })).rejects.toMatchObject({
      code: ErrorCodes.CONFIG,
      field: 'costOutputTokens',
    });
  });
});

describe('skipbench client-overhead flags', () => {
  const parse = (args: string[]): ClientOverheadCommand | undefined => {
    let parsed: ClientOverheadCommand | undefined;
    const program = new Command('skipbench');
    registerClientOverhead(program, (command) => {
      parsed = command;
    });
    for (const command of [program, ...program.commands]) {
      command.exitOverride();
      command.configureOutput({ writeOut: () => {}, writeErr: () => {} });
    }
    program.parse(args, { from: 'user' });
    return parsed;
  };

  it('defaults to 1000 streams of 16 tokens, table output', () => {
    expect(parse(['client-overhead'])).toEqual({
      name: 'client-overhead',
      options: {
        streams: 1000,
        tokens: 16,
        rounds: 5,
        firstDelayMs: 200,
        intervalMs: 50,
        prefillMs: 1,
        costRequests: 20,
      },
      json: false,
    });
  });

  it('takes --streams, --tokens, --prefill, --json and rejects out-of-range values by code', () => {
    const command = parse(['client-overhead', '--streams', '20', '--tokens', '4', '--prefill', '0.5', '--json']);
    expect(command?.options).toMatchObject({ streams: 20, tokens: 4, prefillMs: 0.5 });
    expect(command?.json).toBe(true);
    for (const bad of [['--streams', '0'], ['--prefill', '-1']]) {
      expect(() => parse(['client-overhead', ...bad])).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG }));
    }
  });
});
