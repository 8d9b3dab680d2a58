/**
 * Needle accuracy through every arm: a "good" server answers with the pass keys it finds in the prompt, a "lossy"
 * one forgets them for needles in the first half of the haystack (as if those tiles were skipped).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServerBenchConfig } from '../../../harness/bench/config.js';
import { runServerBenchmark } from '../../../harness/bench/runner.js';
import { renderMarkdown } from '../../../reports/markdown.js';

async function answering(lossy: boolean): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw);
    const prompt: string = body.prompt;
    const keys = [...prompt.matchAll(/pass key for \w+ is (\d+)\./g)].map((m) => ({ key: m[1], at: m.index ?? 0 }));
    const remembered = keys.filter((k) => !lossy || k.at / prompt.length > 0.5).map((k) => k.key);
    const answer = remembered.length ? ` ${remembered.join(', ')}.` : ' I am not sure.';
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text: answer }] })}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

let good: { url: string; server: Server };
let lossy: { url: string; server: Server };

beforeAll(async () => {
  good = await answering(false);
  lossy = await answering(true);
});

afterAll(() => {
  good.server.close();
  lossy.server.close();
});

describe('needle accuracy in skipbench bench', () => {
  it('grades every arm on the same prompts, per depth, with a Wilson interval, beside the speedups', async () => {
    const config = resolveServerBenchConfig({
      arms: [{ id: 'dense', baseUrl: good.url }, { id: 'skip', baseUrl: lossy.url }],
      contexts: [600],
      phases: ['prefill'],
      rounds: 2,
      warmup: 0,
      accuracy: { depths: [0.1, 0.9], keys: 1, rounds: 4, outputTokens: 20 },
    });
    const result = await runServerBenchmark(config);
    const rows = result.accuracy!.map((a) => `${a.arm} ${a.depth} ${a.exact}/${a.n}`);
    expect(rows).toEqual(['dense 0.1 4/4', 'skip 0.1 0/4', 'dense 0.9 4/4', 'skip 0.9 4/4']);
    const lost = result.accuracy!.find((a) => a.arm === 'skip' && a.depth === 0.1)!;
    expect(lost.wrong).toBe(4);
    expect(lost.exactRateCi[0]).toBe(0);
    expect(lost.exactRateCi[1]).toBeGreaterThan(0.3);
    expect(result.cells).toHaveLength(2);
    const md = renderMarkdown(result);
    expect(md).toContain('### Accuracy (needle retrieval)');
    expect(md).toMatch(/\| 600 \| skip \| passkey \| 0\.10 \| 4 \| 0% \(0%–\d+%\) \|/);
  });

  it('multi-key prompts ask for every key and score partial answers', async () => {
    const config = resolveServerBenchConfig({
      arms: [{ id: 'dense', baseUrl: good.url }, { id: 'skip', baseUrl: lossy.url }],
      contexts: [900],
      phases: ['prefill'],
      rounds: 1,
      warmup: 0,
      accuracy: { depths: [0.5], keys: 3, rounds: 3, outputTokens: 40 },
    });
    const result = await runServerBenchmark(config);
    const dense = result.accuracy!.find((a) => a.arm === 'dense')!;
    expect(dense).toMatchObject({ task: 'multikey', keys: 3, exact: 3, meanScore: 1 });
  });
});
