/**
 * runKernelBenchmark with the GPU backend against the fake runner (test/fixtures/fake-gpu-runner.mjs, run by node):
 * the result file it writes (cells per context x phase x arm, anchors included), the reports on it, and the run's
 * behaviour when the runner cannot start, fails a reference check, writes garbage or dies.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KernelUserConfig, resolveKernelConfig } from '../../../harness/kernel/config.js';
import { MAX_ITERATIONS } from '../../../harness/kernel/measure.js';
import { runKernelBenchmark } from '../../../harness/kernel/runner.js';
import { ErrorCodes } from '../../../kernels/errors.js';
import { chartDatasets } from '../../../reports/charts/data.js';
import { compareResults, GateCodes } from '../../../reports/compare.js';
import { crossovers } from '../../../reports/crossover.js';
import { renderHtml } from '../../../reports/html/render.js';
import { detectInactive } from '../../../reports/inactive.js';
import { render } from '../../../reports/render.js';
import type { KernelResultFile, KernelSampleFailed, ResultFile } from '../../../reports/schema.js';

const FAKE = fileURLToPath(new URL('../../fixtures/fake-gpu-runner.mjs', import.meta.url));

function config(overrides: KernelUserConfig = {}) {
  return resolveKernelConfig({
    backend: 'gpu',
    python: process.execPath,
    gpuRunner: FAKE,
    contexts: [1024, 2048],
    // one skip arm and the tiles these tests were written for (the GPU defaults have three arms, 128-row tiles)
    prefillFactors: [100],
    decodeFactors: [150],
    blockM: 64,
    partitions: 16,
    batch: 16,
    warmup: 1,
    reps: 4,
    outDir: 'unused',
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected the run to fail');
}

const key = (c: { context: number; phase: string; arm: string }) => `${c.context} ${c.phase} ${c.arm}`;

/** The cells one context gets, in order: prefill times both anchors, decode only sdpa-flash. */
const cellsAt = (L: number) => [
  ...['dense', 'skip', 'sdpa-flash', 'sdpa-cudnn'].map((arm) => `${L} prefill ${arm}`),
  ...['dense', 'skip', 'sdpa-flash'].map((arm) => `${L} decode ${arm}`),
];

describe('runKernelBenchmark --backend gpu against the fake runner', () => {
  let dir: string;
  let log: string;
  let result: KernelResultFile;
  const published: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skipbench-gpu-run-'));
    log = join(dir, 'requests.jsonl');
    result = await runKernelBenchmark(config(), {
      command: ['kernel', '--backend', 'gpu'],
      runnerEnv: { FAKE_GPU_LOG: log },
      onResult: (r) => published.push(r.run.status),
    });
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a completed result: GPU target, device, ceilings, arms with anchors', () => {
    expect(result.schema).toBe('skipbench/result');
    expect(result.schemaVersion).toBe(1);
    expect(result.run.status).toBe('completed');
    expect(published.at(-1)).toBe('completed');
    expect(result.target).toMatchObject({
      kind: 'kernel',
      implementation: 'triton-gpu',
      threads: 1,
      batch: 16,
      shape: { numQueryHeads: 32, numKvHeads: 8, headDim: 128 },
      tiles: { prefill: { blockM: 64, blockN: 128 }, decode: { blockN: 64, partitions: 16 } },
      device: {
        name: 'Fake H100',
        capability: '9.0',
        multiprocessors: 132,
        versions: { torch: '2.5.1', triton: '3.1.0' },
      },
    });
    expect(result.target.workload.headPatterns).toHaveLength(32);
    expect(result.target.workload.description).toMatch(/generated on the GPU/);
    expect(result.environment.gpuCeilings).toEqual({
      copyBytesPerSec: 3e12,
      matmulFlopsPerSec: 7.5e14,
      method: 'fake: made-up numbers',
    });
    expect(result.environment.ceilings).toBeUndefined();
    expect(result.arms).toEqual([
      { id: 'dense', thresholdScaleFactor: { prefill: 0, decode: 0 } },
      { id: 'skip', thresholdScaleFactor: { prefill: 100, decode: 150 } },
      { id: 'sdpa-flash', anchor: 'sdpa-flash' },
      { id: 'sdpa-cudnn', anchor: 'sdpa-cudnn' },
    ]);
    // the CPU-only fields are not recorded; the GPU ones are
    expect(result.run.config).toMatchObject({ backend: 'gpu', batch: 16, tolerance: 0.02, partitions: 16 });
    expect(result.run.config).not.toHaveProperty('threads');
    expect(result.run.config).not.toHaveProperty('wasmVariant');
  });

  it('has a cell per context x phase x arm: prefill times both anchors, decode only sdpa-flash', () => {
    expect(result.cells.map(key)).toEqual([...cellsAt(1024), ...cellsAt(2048)]);
  });

  it('every cell: measured in full, one call per sample, never disturbed, checked against the reference', () => {
    for (const cell of result.cells) {
      expect(cell.provenance).toEqual({ kind: 'measured' });
      expect(cell.samples).toHaveLength(4);
      expect(cell.summary).toMatchObject({ n: 4, failed: 0 });
      expect(cell.summary.estimatedFullMs).toBe(cell.summary.medianMs);
      for (const s of cell.samples) expect(s).toMatchObject({ status: 'ok', iterations: 1 });
      expect(cell.disturbed).toBe(false);
      expect(cell.foreignLoad).toBeGreaterThanOrEqual(0);
      expect(cell.referenceCheck).toMatchObject({ arm: cell.arm, passed: true, tolerance: 0.02 });
      expect(cell.batch).toBe(cell.phase === 'prefill' ? 1 : 16);
      expect(cell.partitions).toBe(cell.phase === 'decode' ? 16 : undefined);
      // the Triton launch options go on the kernel arms' cells only: the anchors ran torch SDPA
      const launch = cell.phase === 'prefill' ? { numWarps: 9, numStages: 3, kernel: 'gluon-ws' } : { numWarps: 4, numStages: 2, paired: true };
      expect(cell.launch).toEqual(cell.arm.startsWith('sdpa') ? undefined : launch);
      expect(cell.heads).toHaveLength(cell.phase === 'prefill' ? 32 : 8);
      expect(['compute', 'bandwidth']).toContain(cell.work.bound);
    }
  });

  it('skip: 0.7x the dense time, half the tiles skipped, errors from the runner; anchors: 1.1x with the dense work', () => {
    for (const cell of result.cells) {
      const dense = result.cells.find(
        (c) => c.context === cell.context && c.phase === cell.phase && c.arm === 'dense',
      )!;
      if (cell.arm === 'dense') {
        expect(cell.speedup).toBeUndefined();
        expect(cell.error).toBeUndefined();
        expect(cell.work.skippedTiles).toBe(0);
        continue;
      }
      expect(cell.speedup?.pairedRatios).toHaveLength(4);
      expect(cell.error?.relativeL2).toBeGreaterThan(0);
      expect(cell.heads.every((h) => h.error !== undefined)).toBe(true);
      if (cell.arm === 'skip') {
        expect(cell.speedup!.ofMedians).toBeCloseTo(1 / 0.7, 1);
        expect(cell.speedup!.medianPairedRatio).toBeCloseTo(1 / 0.7, 1);
        expect(cell.work.sparsity).toBeGreaterThan(0.45);
        expect(cell.work.sparsity).toBeLessThanOrEqual(0.5);
        expect(cell.work.flops).toBeLessThan(cell.work.denseFlops);
      } else {
        expect(cell.speedup!.ofMedians).toBeCloseTo(1 / 1.1, 1);
        expect(cell.work.visitedTiles).toBe(dense.work.visitedTiles);
        expect(cell.work.skippedTiles).toBe(0);
        expect(cell.work.flops).toBe(dense.work.flops);
      }
    }
  });

  it('sends what the protocol says: batch 1 in prefill, the decode batch in decode, release after each phase', () => {
    const requests = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(requests[0].op).toBe('hello');
    expect(requests[1].op).toBe('ceilings');
    expect(requests.at(-1).op).toBe('shutdown');
    expect(requests.map((r) => r.id)).toEqual(requests.map((_, i) => i + 1));
    const prepares = requests.filter((r) => r.op === 'prepare');
    expect(prepares.map((p) => `${p.context} ${p.phase} ${p.batch}`)).toEqual([
      '1024 prefill 1',
      '1024 decode 16',
      '2048 prefill 1',
      '2048 decode 16',
    ]);
    expect(prepares[0].arms).toEqual([
      { id: 'dense', factor: 0 },
      { id: 'skip', factor: 100 },
      { id: 'sdpa-flash', anchor: 'sdpa-flash' },
      { id: 'sdpa-cudnn', anchor: 'sdpa-cudnn' },
    ]);
    expect(prepares[1].arms).toEqual([
      { id: 'dense', factor: 0 },
      { id: 'skip', factor: 150 },
      { id: 'sdpa-flash', anchor: 'sdpa-flash' },
    ]);
    expect(prepares[0].tiles).toEqual({ blockM: 64, blockN: 128 });
    expect(prepares[1].tiles).toEqual({ blockN: 64, partitions: 16 });
    expect(prepares[0].workload.seed).toBe(1);
    expect(prepares[0].tolerance).toBe(0.02);
    // each prepare is followed (after its time requests) by a release before the next prepare
    const ops = requests.map((r) => r.op).filter((op) => op === 'prepare' || op === 'release');
    expect(ops).toEqual(['prepare', 'release', 'prepare', 'release', 'prepare', 'release', 'prepare', 'release']);
    const times = requests.filter((r) => r.op === 'time');
    // warmup 1 + reps 4 per arm: 4 arms in prefill, 3 in decode, two contexts
    expect(times).toHaveLength(2 * (4 * 5 + 3 * 5));
    expect(times.every((t) => t.iterations === 1)).toBe(true);
  });

  it('anchors are no skip arm: not inactive, no crossover, not gated', () => {
    expect(detectInactive(result)).toEqual([]);
    expect(crossovers(result).map((c) => c.arm)).toEqual(['skip', 'skip']);
    const verdict = compareResults(result, result, { minSamples: 4 });
    expect(verdict.problems).toEqual([]);
    expect(verdict.status).toBe('pass');
    expect(verdict.rows.some((r) => r.arm.startsWith('sdpa'))).toBe(false);
    expect(verdict.rows.some((r) => r.arm === 'skip' && r.metric === 'speedup')).toBe(true);
    expect(verdict.warnings.map((w) => w.code)).toContain(GateCodes.ANCHORS);
    const floors = compareResults(result, result, { minSamples: 4, floors: [{ metric: 'speedup', min: 1.2 }] });
    expect(floors.floors.every((f) => f.arm === 'skip')).toBe(true);
    // the speedup chart draws skip arms only; the time chart shows the anchors beside dense and skip
    const charts = chartDatasets([result as ResultFile]);
    expect(new Set(charts.kernel_speedup.map((r) => r.series))).toEqual(new Set(['skip']));
    expect(new Set(charts.kernel_time.map((r) => r.series))).toEqual(new Set(['dense', 'skip', 'sdpa-flash', 'sdpa-cudnn']));
  });

  it('every report renders: table, markdown, json and html, with the anchors, reference checks and the GPU', () => {
    const table = render('table', result);
    expect(table).toMatch(/^1K\s+prefill\s+sdpa-cudnn\s/m);
    expect(table).toMatch(/^2K\s+decode\s+sdpa-flash\s/m);
    expect(table).not.toMatch(/disturbed/);
    const markdown = render('markdown', result);
    expect(markdown).toContain('### Dense vs torch SDPA');
    expect(markdown).toContain('### Reference check');
    expect(markdown).toContain('Fake H100');
    expect(markdown).toContain('torch 2.5.1');
    expect(markdown).toContain('bf16 GEMM');
    expect(markdown).toContain(
      'Gluon prefill: 9 warps, 3 pipeline stages (warp-specialised: 1 TMA producer warp, 2 consumer warpgroups deciding' +
        ' their own 64-row tiles; the skip arms add a warp that loads V only for tiles kept or predicted kept)',
    );
    expect(markdown).toContain('Triton decode: 4 warps, 2 pipeline stages, two KV tiles per iteration (predicated V loads)');
    expect(markdown).not.toContain('WARNING');
    expect(JSON.parse(render('json', result))).toEqual(JSON.parse(JSON.stringify(result)));
    const html = renderHtml(result as ResultFile);
    expect(html).toContain('Dense vs torch SDPA');
    expect(html).toContain('sdpa-cudnn');
  });
});

describe('runKernelBenchmark --backend gpu when things go wrong', () => {
  it('--prefill-kernel goes to the runner as tiles.kernel, and the cells record the kernel that ran', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'skipbench-gpu-kernel-'));
    const kernelLog = join(logDir, 'requests.jsonl');
    const run = await runKernelBenchmark(config({ reps: 2, contexts: [1024], prefillKernel: 'triton' }), {
      runnerEnv: { FAKE_GPU_LOG: kernelLog },
    });
    const prepare = readFileSync(kernelLog, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .find((r) => r.op === 'prepare' && r.phase === 'prefill');
    expect(prepare.tiles).toEqual({ blockM: 64, blockN: 128, kernel: 'triton' });
    const cell = run.cells.find((c) => c.kind === 'kernel' && c.phase === 'prefill' && c.arm === 'dense');
    expect(cell?.kind === 'kernel' ? cell.launch?.kernel : undefined).toBe('triton');
    rmSync(logDir, { recursive: true, force: true });
  });

  it('a failed reference check fails that context only: one failed sample per arm, the run completes', async () => {
    const result = await runKernelBenchmark(config({ reps: 2 }), { runnerEnv: { FAKE_GPU_MODE: 'check-fail' } });
    expect(result.run.status).toBe('completed');
    const failed = result.cells.filter((c) => c.context === 2048);
    expect(failed.map(key)).toEqual(cellsAt(2048));
    for (const cell of failed) {
      expect(cell.samples).toHaveLength(1);
      expect(cell.summary).toMatchObject({ n: 0, failed: 1 });
      const sample = cell.samples[0] as KernelSampleFailed;
      expect(sample.status).toBe('failed');
      expect(sample.error.code).toBe(ErrorCodes.GPU_CHECK_FAILED);
      expect(sample.error.message).toMatch(/exceeds the tolerance/);
    }
    // the other context measured normally
    const ok = result.cells.filter((c) => c.context !== 2048);
    expect(ok).toHaveLength(7);
    expect(ok.every((c) => c.summary.n === 2)).toBe(true);
    expect(render('table', result)).toMatch(/1 failed/);
    expect(render('markdown', result)).toMatch(/all arms \| — \| — \| NO \| skip: relative L2 0\.31/);
  });

  it('a python executable that does not exist: SKB_GPU_UNAVAILABLE naming it', async () => {
    const error = await failure(runKernelBenchmark(config({ python: '/no/such/python3' })));
    expect(error.code).toBe(ErrorCodes.GPU_UNAVAILABLE);
    expect(error.message).toContain('/no/such/python3');
    expect(error.message).toContain('--python');
  });

  it('torch missing: the run fails at once with the runner message naming torch', async () => {
    const published: ResultFile[] = [];
    const error = await failure(
      runKernelBenchmark(config(), { runnerEnv: { FAKE_GPU_MODE: 'no-torch' }, onResult: (r) => published.push(r) }),
    );
    expect(error.code).toBe(ErrorCodes.GPU_UNAVAILABLE);
    expect(error.message).toMatch(/torch is not installed/);
    expect(published).toEqual([]);
  });

  it('a malformed line: SKB_GPU_PROTOCOL, the run is marked failed', async () => {
    const published: ResultFile[] = [];
    const error = await failure(
      runKernelBenchmark(config(), { runnerEnv: { FAKE_GPU_MODE: 'garbage' }, onResult: (r) => published.push(r) }),
    );
    expect(error.code).toBe(ErrorCodes.GPU_PROTOCOL);
    expect(error.message).toContain('this is not json');
    expect(published.at(-1)?.run.status).toBe('failed');
  });

  it('a runner that dies mid-run: the run fails with the exit code and the stderr tail, keeping what it measured', async () => {
    const published: ResultFile[] = [];
    const error = await failure(
      runKernelBenchmark(config({ reps: 2 }), {
        runnerEnv: { FAKE_GPU_MODE: 'die', FAKE_GPU_DIE_AT: '20' },
        onResult: (r) => published.push(r),
      }),
    );
    expect(error.code).toBe(ErrorCodes.GPU_RUNNER);
    expect(error.message).toContain('exited with code 3');
    expect(error.message).toContain('an illegal memory access was encountered');
    const last = published.at(-1)!;
    expect(last.run.status).toBe('failed');
    expect(last.run.reason).toContain('exited with code 3');
    // 1K prefill (4 arms x 3 calls) measured in full before the runner died in 1K decode
    expect(last.cells.filter((c) => c.phase === 'prefill' && c.summary.n === 2)).toHaveLength(4);
  });
});

describe('iterations per sample', () => {
  it('never exceed what the real runner accepts per time call', () => {
    const runner = readFileSync(fileURLToPath(new URL('../../../harness/gpu/runner.py', import.meta.url)), 'utf8');
    const cap = /iterations > (\d+)/.exec(runner);
    expect(cap).not.toBeNull();
    expect(MAX_ITERATIONS).toBe(Number(cap![1]));
  });
});
