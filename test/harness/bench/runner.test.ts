/**
 * The server target end to end against real loopback servers that stream like llama.cpp: a "dense" server and a
 * "skip" server whose prefill (time to the first token) and per-token delay differ, so the speedups are known.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServerBenchConfig } from '../../../harness/bench/config.js';
import { runServerBenchmark } from '../../../harness/bench/runner.js';
import { trtllmSkipSoftmaxYaml } from '../../../harness/bench/trtllm.js';
import { renderMarkdown } from '../../../reports/markdown.js';
import type { ServerCell, ServerResultFile } from '../../../reports/schema.js';
import { renderTable } from '../../../reports/table.js';
import { vllmExport } from '../../../reports/vllm-export.js';

interface FakeServer {
  url: string;
  server: Server;
  prompts: number[];
  texts: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Streams max_tokens tokens: first after `prefillMs`, then one every `tokenMs`; usage in a final chunk. */
async function fakeServer(prefillMs: number, tokenMs: number, failEvery = 0): Promise<FakeServer> {
  const prompts: number[] = [];
  const texts: string[] = [];
  let count = 0;
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw);
    count += 1;
    if (failEvery && count % failEvery === 0) {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}');
      return;
    }
    const promptTokens = Math.round(body.prompt.length / 4);
    prompts.push(promptTokens);
    texts.push(body.prompt);
    if (body.stream === false) {
      await sleep(prefillMs);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ choices: [{ index: 0, text: ' t0', finish_reason: 'length' }], usage: { prompt_tokens: promptTokens, completion_tokens: 1 } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    await sleep(prefillMs);
    for (let i = 0; i < body.max_tokens; i++) {
      if (i > 0) await sleep(tokenMs);
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text: ` t${i}`, finish_reason: null }] })}\n\n`);
    }
    const usage = { prompt_tokens: promptTokens, completion_tokens: body.max_tokens, total_tokens: promptTokens + body.max_tokens };
    res.write(`data: ${JSON.stringify({ choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, prompts, texts };
}

let dense: FakeServer;
let skip: FakeServer;
let flaky: FakeServer;

beforeAll(async () => {
  dense = await fakeServer(60, 8);
  skip = await fakeServer(30, 4);
  flaky = await fakeServer(30, 4, 2);
});

afterAll(() => {
  for (const s of [dense, skip, flaky]) s.server.close();
});

describe('runServerBenchmark', () => {
  let result: ServerResultFile;
  const published: number[] = [];

  beforeAll(async () => {
    const config = resolveServerBenchConfig({
      arms: [
        { id: 'dense', baseUrl: dense.url },
        { id: 'skip', baseUrl: skip.url, thresholdScaleFactor: { prefill: 100, decode: 20 } },
      ],
      contexts: [64, 256],
      rounds: 3,
      warmup: 1,
      outputTokens: 6,
    });
    result = await runServerBenchmark(config, { onResult: (r) => published.push(r.cells.length) });
  });

  it('writes one cell per (context, phase, arm) in the shared schema, publishing after every phase', () => {
    expect(result.schema).toBe('skipbench/result');
    expect(result.target.kind).toBe('server');
    expect(result.run.status).toBe('completed');
    expect(result.cells.map((c) => `${c.context} ${c.phase} ${c.arm}`)).toEqual([
      '64 prefill dense', '64 prefill skip', '64 decode dense', '64 decode skip',
      '256 prefill dense', '256 prefill skip', '256 decode dense', '256 decode skip',
    ]);
    expect(published).toEqual([0, 2, 4, 6, 8, 8]);
    expect(result.arms[1]).toMatchObject({ id: 'skip', thresholdScaleFactor: { prefill: 100, decode: 20 } });
  });

  it('prefill probes ask for one token and time TTFT; decode runs time TPOT', () => {
    for (const cell of result.cells) {
      const counted = cell.samples.filter((s) => !s.warmup);
      expect(counted).toHaveLength(3);
      expect(cell.samples.filter((s) => s.warmup)).toHaveLength(1);
      for (const s of counted) {
        expect(s.status).toBe('ok');
        expect(s.outputTokens).toBe(cell.phase === 'prefill' ? 1 : 6);
        expect(s.outputTokensSource).toBe('usage');
      }
    }
    const prefillDense = result.cells.find((c) => c.phase === 'prefill' && c.arm === 'dense')!;
    expect(prefillDense.summary.medianMs).toBeGreaterThanOrEqual(55);
    const decodeDense = result.cells.find((c) => c.phase === 'decode' && c.arm === 'dense')!;
    expect(decodeDense.summary.medianMs).toBeGreaterThanOrEqual(7);
    expect(decodeDense.summary.medianMs).toBeLessThan(30);
    expect((decodeDense as ServerCell).itlByPosition?.[0].position).toBe(2);
  });

  it('pairs rounds: skip is faster by about 2x in both phases', () => {
    for (const cell of result.cells.filter((c) => c.arm === 'skip')) {
      expect(cell.speedup?.pairedRatios).toHaveLength(3);
      expect(cell.speedup!.ofMedians).toBeGreaterThan(1.4);
      expect(cell.speedup!.ofMedians).toBeLessThan(2.6);
    }
  });

  it('sends every arm the same exact-length prompts, each unique in the run, and records drift', () => {
    expect(dense.texts.length).toBe(16);
    expect(new Set(dense.texts).size).toBe(16);
    expect([...skip.texts].sort()).toEqual([...dense.texts].sort());
    const cell = result.cells.find((c) => c.context === 256 && c.phase === 'prefill' && c.arm === 'dense') as ServerCell;
    for (const s of cell.samples) expect(s.promptTokensClient).toBe(256);
    expect(cell.promptDrift).toBeDefined();
    expect(cell.cachedTokenShare).toBeUndefined();
  });

  it('renders: table with speedups, markdown with per-request latency, vLLM export with its keys', () => {
    const table = renderTable(result);
    expect(table).toMatch(/256\s+decode\s+skip/);
    const md = renderMarkdown(result);
    expect(md).toContain('### Per-request latency');
    expect(md).toContain('Decode ITL by position');
    expect(md).toContain('median TTFT of the prefill probe');
    const exported = vllmExport(result);
    expect(exported).toHaveLength(8);
    for (const key of [
      'date', 'backend', 'label', 'model_id', 'tokenizer_id', 'num_prompts', 'request_rate', 'burstiness',
      'max_concurrency', 'duration', 'completed', 'failed', 'total_input_tokens', 'total_output_tokens',
      'request_throughput', 'request_goodput', 'output_throughput', 'total_token_throughput', 'max_output_tokens_per_s',
      'mean_ttft_ms', 'median_ttft_ms', 'std_ttft_ms', 'p99_ttft_ms', 'mean_tpot_ms', 'p99_itl_ms', 'median_e2el_ms',
      'input_lens', 'output_lens', 'ttfts', 'itls', 'errors',
    ]) {
      expect(exported[0]).toHaveProperty(key);
    }
    expect(exported[0].completed).toBe(3);
    expect((exported[0].ttfts as number[])[0]).toBeLessThan(1); // seconds
  });
});

describe('failures and interruption', () => {
  it('a failing arm is counted per request and the run completes', async () => {
    const config = resolveServerBenchConfig({
      arms: [
        { id: 'dense', baseUrl: dense.url },
        { id: 'skip', baseUrl: flaky.url },
      ],
      contexts: [32],
      phases: ['prefill'],
      rounds: 4,
      warmup: 0,
    });
    const result = await runServerBenchmark(config);
    const cell = result.cells.find((c) => c.arm === 'skip') as ServerCell;
    expect(result.run.status).toBe('completed');
    expect(cell.metrics.failed).toBe(2);
    expect(cell.metrics.completed).toBe(2);
    expect(cell.samples.filter((s) => s.status === 'failed').map((s) => [s.reason, s.httpStatus])).toEqual([
      ['http_status', 500],
      ['http_status', 500],
    ]);
  });

  it('an abort keeps what was measured and marks the run interrupted', async () => {
    const config = resolveServerBenchConfig({
      arms: [{ id: 'dense', baseUrl: dense.url }, { id: 'skip', baseUrl: skip.url }],
      contexts: [32, 64],
      phases: ['prefill'],
      rounds: 3,
      warmup: 0,
    });
    const controller = new AbortController();
    const result = await runServerBenchmark(config, {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'phase-done') controller.abort('test');
      },
    });
    expect(result.run.status).toBe('interrupted');
    expect(result.cells.map((c) => `${c.context} ${c.arm}`)).toEqual(['32 dense', '32 skip']);
  });

  it('rejects bad configuration before sending anything, naming the field', () => {
    expect(() => resolveServerBenchConfig({ arms: [] })).toThrow(expect.objectContaining({ field: 'arms' }));
    expect(() => resolveServerBenchConfig({ arms: [{ id: 'a', baseUrl: 'http://u:p@h' }] })).toThrow(
      expect.objectContaining({ field: 'arms.baseUrl' }),
    );
    expect(() => resolveServerBenchConfig({ arms: [{ id: 'a', baseUrl: 'http://h' }], outputTokens: 1 })).toThrow(
      expect.objectContaining({ field: 'outputTokens' }),
    );
  });
});

describe('TensorRT-LLM configuration', () => {
  it('writes sparse_attention_config for the phases with a factor, nothing for dense', () => {
    expect(trtllmSkipSoftmaxYaml({ prefill: 587.18, decode: 16.52 })).toBe(
      'sparse_attention_config:\n  algorithm: skip_softmax\n  threshold_scale_factor: {prefill: 587.18, decode: 16.52}\n',
    );
    expect(trtllmSkipSoftmaxYaml({ prefill: 1000, decode: 0 })).toContain('threshold_scale_factor: {prefill: 1000}');
    expect(trtllmSkipSoftmaxYaml({ prefill: 0, decode: 0 })).not.toMatch(/^sparse_attention_config:/m);
  });
});

describe('buildServerCells', () => {
  it('flags a cell whose prompt tokens were served from a prefix cache', async () => {
    const { buildServerCells } = await import('../../../harness/bench/cells.js');
    const sample = (round: number, cachedTokens: number) => ({
      status: 'ok' as const,
      round,
      sequence: round,
      request: round,
      warmup: false,
      promptTokensServer: 100,
      promptTokensClient: 100,
      outputTokens: 1,
      cachedTokens,
      ttftMs: 10,
      sendAtMs: round * 20,
      lastAtMs: round * 20 + 10,
    });
    const cells = buildServerCells(
      new Map([
        ['dense', [sample(0, 0), sample(1, 0)]],
        ['skip', [sample(0, 90), sample(1, 0)]],
      ]),
      { context: 100, phase: 'prefill', arms: ['dense', 'skip'], maxCachedShare: 0.05 },
    );
    expect(cells[0]).toMatchObject({ cachedTokenShare: 0, cacheFlagged: false });
    expect(cells[1]).toMatchObject({ cachedTokenShare: 0.45, cacheFlagged: true });
    expect(cells[1].metrics.durationMs).toBe(30);
    expect(cells[1].metrics.requestThroughput).toBeCloseTo(2 / 0.03, 9);
  });
});

describe('load runs', () => {
  it('closed loop: every arm gets the same request stream, cells carry the load and throughput', async () => {
    const config = resolveServerBenchConfig({
      arms: [{ id: 'dense', baseUrl: dense.url }, { id: 'skip', baseUrl: skip.url }],
      contexts: [48],
      load: { kind: 'closed', concurrency: 3 },
      numPrompts: 6,
      warmup: 1,
      outputTokens: 4,
    });
    const result = await runServerBenchmark(config);
    expect(result.target.load).toMatch(/closed loop, 3 concurrent; 6 requests per arm/);
    expect(result.cells.map((c) => `${c.phase} ${c.arm}`)).toEqual(['decode dense', 'decode skip']);
    for (const cell of result.cells) {
      expect(cell.load).toEqual({ kind: 'closed', concurrency: 3 });
      expect(cell.samples).toHaveLength(7);
      expect(cell.samples.map((s) => s.request)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(cell.metrics.completed).toBe(6);
      expect(cell.metrics.outputThroughput).toBeGreaterThan(0);
    }
    expect(result.cells[1].speedup?.pairedRatios).toHaveLength(6);
  });

  it('open loop: sends on the arrival schedule and records queue delay under max concurrency', async () => {
    const config = resolveServerBenchConfig({
      arms: [{ id: 'dense', baseUrl: dense.url }],
      contexts: [32],
      load: { kind: 'open', arrivals: 'constant', rate: 100, burstiness: 1, maxConcurrency: 1 },
      numPrompts: 4,
      warmup: 0,
      outputTokens: 2,
    });
    const result = await runServerBenchmark(config);
    const queue = result.cells[0].samples.map((s) => s.queueDelayMs ?? 0);
    // each request holds the only slot ~70 ms while arrivals come every 10 ms: the queue delay grows
    expect(queue[3]).toBeGreaterThan(queue[1]);
    expect(queue[3]).toBeGreaterThan(100);
  });

  it('varies prompt and output lengths around the context when asked, identically for every arm', async () => {
    const config = resolveServerBenchConfig({
      arms: [{ id: 'dense', baseUrl: dense.url }, { id: 'skip', baseUrl: skip.url }],
      contexts: [200],
      load: { kind: 'closed', concurrency: 4 },
      numPrompts: 12,
      warmup: 0,
      outputTokens: 6,
      inputLengths: { kind: 'uniform', spread: 0.5 },
      outputLengths: { kind: 'normal', spread: 0.3 },
    });
    const result = await runServerBenchmark(config);
    const [d, s] = result.cells;
    const inputs = d.samples.map((x) => x.promptTokensClient!);
    expect(Math.min(...inputs)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...inputs)).toBeLessThanOrEqual(300);
    expect(new Set(inputs).size).toBeGreaterThan(3);
    expect(s.samples.map((x) => x.promptTokensClient)).toEqual(inputs);
    expect(s.samples.map((x) => x.outputTokens)).toEqual(d.samples.map((x) => x.outputTokens));
    expect(new Set(d.samples.map((x) => x.outputTokens)).size).toBeGreaterThan(1);
  });

  it('load needs named endpoints, and concurrency and rate must be valid', () => {
    expect(() =>
      resolveServerBenchConfig({ arms: [{ id: 'a', baseUrl: 'http://h', launch: 'x' }], load: { kind: 'closed', concurrency: 2 } }),
    ).toThrow(expect.objectContaining({ field: 'load' }));
    expect(() => resolveServerBenchConfig({ arms: [{ id: 'a', baseUrl: 'http://h' }], load: { kind: 'closed', concurrency: 0 } })).toThrow(
      expect.objectContaining({ field: 'load.concurrency' }),
    );
  });
});

describe('prefill capacity (autocannon)', () => {
  it('measures requests/s and whole-response latency per arm with unique non-streaming prompts', async () => {
    const before = { dense: dense.prompts.length, skip: skip.prompts.length };
    const config = resolveServerBenchConfig({
      arms: [{ id: 'dense', baseUrl: dense.url }, { id: 'skip', baseUrl: skip.url }],
      contexts: [40],
      phases: ['prefill'],
      rounds: 1,
      warmup: 0,
      capacity: { connections: 2, requests: 8 },
    });
    const result = await runServerBenchmark(config);
    expect(result.capacity?.map((r) => r.arm)).toEqual(['dense', 'skip']);
    for (const r of result.capacity!) {
      expect(r).toMatchObject({ context: 40, connections: 2, ok: 8, non2xx: 0, errors: 0 });
      expect(r.requestsPerSecond).toBeGreaterThan(0);
    }
    // dense holds each connection ~60 ms per request, skip ~30 ms: about twice the capacity
    const [d, s] = result.capacity!;
    expect(s.requestsPerSecond / d.requestsPerSecond).toBeGreaterThan(1.4);
    expect(d.latencyMs.p50).toBeGreaterThanOrEqual(55);
    // one probe request per arm plus 8 capacity requests, every prompt different
    expect(dense.prompts.length - before.dense).toBe(9);
    expect(renderMarkdown(result)).toContain('### Prefill capacity');
  });
});
