/**
 * The server target against the reference server (`skipbench serve`): a dense instance and a Skip Softmax
 * instance of the same tiny model, benchmarked end to end over loopback HTTP. The reference server reports the
 * sparsity it reached in its timings, which is how this test knows the skip arm really skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServerBenchConfig } from '../../../harness/bench/config.js';
import { runServerBenchmark } from '../../../harness/bench/runner.js';
import { type ReferenceServer, startReferenceServer } from '../../../harness/serve/index.js';
import type { ServerCell, ServerResultFile } from '../../../reports/schema.js';

const shape = { layers: 1, numQueryHeads: 4, numKvHeads: 1, headDim: 64 as const, threads: 1, maxContext: 4096 };
let dense: ReferenceServer;
let skip: ReferenceServer;
let result: ServerResultFile;

beforeAll(async () => {
  dense = await startReferenceServer({ ...shape });
  skip = await startReferenceServer({ ...shape, prefillFactor: 100, decodeFactor: 100 });
  const config = resolveServerBenchConfig({
    arms: [
      { id: 'dense', baseUrl: dense.url },
      { id: 'skip', baseUrl: skip.url, thresholdScaleFactor: { prefill: 100, decode: 100 } },
    ],
    contexts: [512, 2048],
    rounds: 2,
    warmup: 1,
    outputTokens: 8,
  });
  result = await runServerBenchmark(config);
});

afterAll(async () => {
  await Promise.all([dense?.close(), skip?.close()]);
});

const sparsityOf = (cell: ServerCell, phase: 'prefill' | 'decode') =>
  cell.samples
    .filter((s) => !s.warmup)
    .map((s) => (s.serverTimings?.skipbench as Record<string, number> | undefined)?.[`${phase}_sparsity`]);

describe('skipbench bench against skipbench serve', () => {
  it('completes every request with exact prompt lengths (no drift) and no prefix cache', () => {
    expect(result.run.status).toBe('completed');
    expect(result.cells).toHaveLength(8);
    for (const cell of result.cells) {
      expect(cell.metrics.failed).toBe(0);
      expect(cell.promptDrift).toEqual({ mean: 0, max: 0 });
      expect(cell.cachedTokenShare).toBe(0);
      for (const s of cell.samples) expect(s.promptTokensServer).toBe(cell.context);
    }
  });

  it('keeps the server-reported timings beside the client figures: the skip arm skipped, dense did not', () => {
    // prompts carry a per-run prefix, so the synthetic attention (seeded by the prompt) differs between runs: the
    // skip arm must skip somewhere in each phase, the dense arm never
    for (const phase of ['prefill', 'decode'] as const) {
      const reported = (arm: string) =>
        result.cells.filter((c) => c.arm === arm && c.phase === phase).flatMap((c) => sparsityOf(c, phase));
      expect(reported('dense').every((x) => x === 0)).toBe(true);
      expect(reported('skip').every((x) => typeof x === 'number')).toBe(true);
      expect(Math.max(...reported('skip').map((x) => x ?? 0))).toBeGreaterThan(0.05);
    }
  });

  it('pairs the skip arm with dense round by round and decodes exactly max_tokens', () => {
    const cell = result.cells.find((c) => c.context === 2048 && c.phase === 'prefill' && c.arm === 'skip')!;
    expect(cell.speedup?.pairedRatios).toHaveLength(2);
    expect(cell.summary.medianMs).toBeGreaterThan(0);
    const decode = result.cells.find((c) => c.context === 2048 && c.phase === 'decode' && c.arm === 'skip')!;
    expect(decode.samples.filter((s) => !s.warmup).every((s) => s.outputTokens === 8)).toBe(true);
  });
});

describe('token-id prompts', () => {
  it('sends the prompt as token ids with BOS first; the server counts exactly the context', async () => {
    const config = resolveServerBenchConfig({
      arms: [{ id: 'dense', baseUrl: dense.url }],
      contexts: [300],
      phases: ['prefill'],
      rounds: 2,
      warmup: 0,
      promptFormat: 'token-ids',
    });
    const run = await runServerBenchmark(config);
    const cell = run.cells[0];
    expect(cell.metrics.completed).toBe(2);
    for (const s of cell.samples) expect(s.promptTokensServer).toBe(300);
    expect(() => resolveServerBenchConfig({ arms: config.arms, endpoint: 'chat', promptFormat: 'token-ids' })).toThrow(
      expect.objectContaining({ field: 'promptFormat' }),
    );
  });
});
