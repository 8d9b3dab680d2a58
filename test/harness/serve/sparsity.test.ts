/**
 * The "skip arm actually skips" signal: with threshold_scale_factor > 0 in a phase, the server's skipped-tile
 * counters grow and its response timings report sparsity > 0 in that phase; with factor 0 they stay 0 while the
 * visited tiles are the same. And the WebAssembly engine, which keeps each layer's K/V resident across decode steps,
 * makes exactly the tile decisions of the reference kernel on the same request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetrics } from '../../../harness/serve/metrics.js';
import { type ReferenceServer, startReferenceServer } from '../../../harness/serve/server.js';
import { postJson, promptText, TINY } from './helpers.js';

const servers: ReferenceServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function start(user: Parameters<typeof startReferenceServer>[0]): Promise<ReferenceServer> {
  const server = await startReferenceServer(user);
  servers.push(server);
  return server;
}

async function metrics(server: ReferenceServer): Promise<Record<string, number>> {
  return parseMetrics(await (await fetch(`${server.url}/metrics`)).text());
}

/** Skipbench timings of one non-streaming completion. */
async function complete(server: ReferenceServer, prompt: string, maxTokens: number) {
  const { status, json } = await postJson(`${server.url}/v1/completions`, { prompt, max_tokens: maxTokens });
  expect(status).toBe(200);
  return json.timings.skipbench;
}

const PROMPT = promptText(600, 9);
const MAX_TOKENS = 24;

describe('dense vs skip', () => {
  let dense: ReferenceServer;
  let skip: ReferenceServer;
  let prefillOnly: ReferenceServer;
  beforeAll(async () => {
    [dense, skip, prefillOnly] = await Promise.all([
      start({ ...TINY }),
      start({ ...TINY, prefillFactor: 100, decodeFactor: 100 }),
      start({ ...TINY, prefillFactor: 100 }),
    ]);
  });

  it('factor 0 skips nothing; factor 100 skips in both phases over the same visited tiles', async () => {
    const d = await complete(dense, PROMPT, MAX_TOKENS);
    const s = await complete(skip, PROMPT, MAX_TOKENS);
    expect(d).toMatchObject({
      prefill_tiles_skipped: 0,
      decode_tiles_skipped: 0,
      prefill_sparsity: 0,
      decode_sparsity: 0,
    });
    expect(d.prefill_tiles_visited).toBeGreaterThan(0);
    expect(d.decode_tiles_visited).toBeGreaterThan(0);
    expect(s.prefill_tiles_visited).toBe(d.prefill_tiles_visited);
    expect(s.decode_tiles_visited).toBe(d.decode_tiles_visited);
    expect(s.prefill_sparsity).toBeGreaterThan(0);
    expect(s.decode_sparsity).toBeGreaterThan(0);
    expect(s.prefill_sparsity).toBe(s.prefill_tiles_skipped / s.prefill_tiles_visited);
    expect(s).toMatchObject({ prefill_threshold_scale_factor: 100, decode_threshold_scale_factor: 100 });

    const md = await metrics(dense);
    const ms = await metrics(skip);
    expect(md['skipbench:prefill_tiles_skipped_total']).toBe(0);
    expect(md['skipbench:decode_tiles_skipped_total']).toBe(0);
    expect(ms['skipbench:prefill_tiles_skipped_total']).toBe(s.prefill_tiles_skipped);
    expect(ms['skipbench:decode_tiles_skipped_total']).toBe(s.decode_tiles_skipped);
    expect(ms['skipbench:prefill_tiles_visited_total']).toBe(md['skipbench:prefill_tiles_visited_total']);

    // counters accumulate over requests
    await complete(skip, promptText(300, 10), 4);
    expect((await metrics(skip))['skipbench:prefill_tiles_skipped_total']).toBeGreaterThan(s.prefill_tiles_skipped);
  });

  it('applies each phase its own factor: a prefill-only factor leaves decode dense', async () => {
    const p = await complete(prefillOnly, PROMPT, MAX_TOKENS);
    expect(p.prefill_sparsity).toBeGreaterThan(0);
    expect(p.decode_tiles_skipped).toBe(0);
  });

  it('does the same work for the same prompt, and different work for another', async () => {
    const a = await complete(skip, PROMPT, MAX_TOKENS);
    const b = await complete(skip, PROMPT, MAX_TOKENS);
    const c = await complete(skip, promptText(600, 11), MAX_TOKENS);
    expect(b.prefill_tiles_skipped).toBe(a.prefill_tiles_skipped);
    expect(b.decode_tiles_skipped).toBe(a.decode_tiles_skipped);
    expect([c.prefill_tiles_skipped, c.decode_tiles_skipped]).not.toEqual([
      a.prefill_tiles_skipped,
      a.decode_tiles_skipped,
    ]);
  });
});

describe('engines agree', () => {
  it('the resident-KV WebAssembly engine makes the reference kernel decisions (GQA 2 groups, 2 partitions)', async () => {
    const shape = { ...TINY, numQueryHeads: 4, numKvHeads: 2, partitions: 2, prefillFactor: 50, decodeFactor: 30 };
    const [wasm, reference] = await Promise.all([
      start({ ...shape, threads: 2 }),
      start({ ...shape, implementation: 'reference' }),
    ]);
    const prompt = promptText(150, 12);
    const w = await complete(wasm, prompt, 40);
    const r = await complete(reference, prompt, 40);
    expect(r.implementation).toBe('reference');
    for (const key of [
      'prefill_tiles_visited',
      'prefill_tiles_skipped',
      'decode_tiles_visited',
      'decode_tiles_skipped',
    ]) {
      expect(w[key], key).toBe(r[key]);
    }
    expect(w.prefill_tiles_skipped + w.decode_tiles_skipped).toBeGreaterThan(0);
  });
});
