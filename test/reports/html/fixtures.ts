/**
 * Real results for the report tests: a kernel run on the in-process reference kernel (tiny contexts, no workers)
 * and a server run against two loopback servers that stream like llama.cpp, the skip one twice as fast.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveServerBenchConfig } from '../../../harness/bench/config.js';
import { runServerBenchmark } from '../../../harness/bench/runner.js';
import { resolveKernelConfig } from '../../../harness/kernel/config.js';
import { createReferenceExecutor } from '../../../harness/kernel/executor.js';
import { runKernelBenchmark } from '../../../harness/kernel/runner.js';
import type { KernelResultFile, ResultFile, ServerResultFile } from '../../../reports/schema.js';

export const XSS = '<script>alert(1)</script>';

export async function kernelResult(): Promise<KernelResultFile> {
  const config = resolveKernelConfig({
    contexts: [128, 256],
    phases: ['prefill', 'decode'],
    numQueryHeads: 2,
    numKvHeads: 1,
    headDim: 64,
    headMix: 'sink,local',
    // factors far above the context: most tiles skip on any input, so skip differs from dense
    prefillFactors: [2000],
    decodeFactors: [40],
    reps: 5,
    warmup: 1,
    minSampleMs: 0,
    fullPrefillMax: 128,
    prefillSampleFlops: 1e3,
    implementation: 'reference',
    outDir: 'unused',
  });
  const result = await runKernelBenchmark(config, { executor: createReferenceExecutor() });
  // the reference kernel probes no ceilings: give the roofline some, as the wasm kernel would measure
  result.environment.ceilings = {
    streamReadBytesPerSec: 2e10,
    scoreTileFlopsPerSec: 2e11,
    threads: 1,
    measuredAt: '2026-01-01T00:00:00.000Z',
    method: 'test ceilings',
    cached: false,
  };
  return result;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Streams max_tokens tokens: the first after `prefillMs`, then one every `tokenMs`; usage in a final chunk. */
async function fakeServer(prefillMs: number, tokenMs: number): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw);
    const promptTokens = Math.round(body.prompt.length / 4);
    const usage = { prompt_tokens: promptTokens, completion_tokens: body.stream === false ? 1 : body.max_tokens };
    if (body.stream === false) {
      await sleep(prefillMs);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ choices: [{ index: 0, text: ' t0', finish_reason: 'length' }], usage }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    await sleep(prefillMs);
    for (let i = 0; i < body.max_tokens; i++) {
      if (i > 0) await sleep(tokenMs);
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text: ` t${i}`, finish_reason: null }] })}\n\n`);
    }
    res.write(`data: ${JSON.stringify({ choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

export async function serverResult(model = 'test-model'): Promise<ServerResultFile> {
  const dense = await fakeServer(12, 3);
  const skip = await fakeServer(6, 1);
  try {
    const config = resolveServerBenchConfig({
      arms: [
        { id: 'dense', baseUrl: dense.url },
        { id: 'skip', baseUrl: skip.url, thresholdScaleFactor: { prefill: 100, decode: 20 } },
      ],
      contexts: [64, 128],
      rounds: 3,
      warmup: 1,
      outputTokens: 8,
      model,
    });
    return await runServerBenchmark(config);
  } finally {
    dense.server.close();
    skip.server.close();
  }
}

/**
 * The result with every string a user or a server controls replaced by markup: the model, arm ids, the workload,
 * head patterns, the run id and reason, server names.
 */
export function hostile<T extends ResultFile>(result: T): T {
  const r = structuredClone(result);
  const rename = new Map(r.arms.map((a, i) => [a.id, i === 0 ? a.id : `${XSS}-${i}`]));
  r.arms = r.arms.map((a) => ({ ...a, id: rename.get(a.id)! }));
  for (const c of r.cells) {
    c.arm = rename.get(c.arm)!;
    if (c.kind === 'kernel') for (const h of c.heads) h.pattern = XSS;
  }
  r.run.reason = XSS;
  r.environment.host.cpuModel = XSS;
  if (r.target.kind === 'server') {
    r.target.model = XSS;
    r.target.server = XSS;
  } else {
    r.target.workload.description = XSS;
  }
  return r;
}
