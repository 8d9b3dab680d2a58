/**
 * runKernelBenchmark end to end with the in-process reference executor (fast, no workers, no ceilings probe):
 * cells, provenance of sampled prefill, speedups, progress and result callbacks, interruption, failing arms.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import { type KernelConfig, type KernelUserConfig, resolveKernelConfig } from '../../harness/kernel/config.js';
import { createReferenceExecutor, type Executor } from '../../harness/kernel/executor.js';
import { type KernelProgress, runKernelBenchmark } from '../../harness/kernel/runner.js';
import { choosePrefillSample } from '../../harness/kernel/sampling.js';
import { render } from '../../reports/render.js';
import type { Cell, KernelResultFile, KernelSampleFailed, ResultFile } from '../../reports/schema.js';

const BASE: KernelUserConfig = {
  contexts: [256, 512],
  phases: ['prefill', 'decode'],
  numQueryHeads: 2,
  numKvHeads: 1,
  headDim: 64,
  headMix: 'sink,local',
  // lambda > 1 in prefill (factor > L): most tiles skip on any input, so the skip arm cannot equal dense
  prefillFactors: [2000],
  decodeFactors: [40],
  reps: 2,
  warmup: 1,
  minSampleMs: 0,
  fullPrefillMax: 256,
  // far below one tile's work: the sampled prefill takes the minimum of 4 strata
  prefillSampleFlops: 1e3,
  implementation: 'reference',
  outDir: 'unused',
};

function config(overrides: KernelUserConfig = {}): KernelConfig {
  return resolveKernelConfig({ ...BASE, ...overrides });
}

const cellKey = (c: Cell) => `${c.context} ${c.phase} ${c.arm}`;

describe('runKernelBenchmark with the reference executor', () => {
  const published: { cells: number; status: string }[] = [];
  const events: KernelProgress[] = [];
  let result: KernelResultFile;
  let lastPublished: ResultFile | undefined;
  const c = config();

  it('runs every (context, phase, arm) and completes', async () => {
    result = await runKernelBenchmark(c, {
      executor: createReferenceExecutor(),
      command: ['kernel', '--test'],
      onProgress: (e) => events.push(e),
      onResult: (r) => {
        published.push({ cells: r.cells.length, status: r.run.status });
        lastPublished = r;
      },
    });
    expect(result.run.status).toBe('completed');
    expect(result.run.finishedAt).toBeDefined();
    expect(result.run.command).toEqual(['kernel', '--test']);
    expect(result.run.id).toMatch(/^kernel-\d{8}-\d{6}-[0-9a-f]{6}$/);
    expect(result.cells.map(cellKey)).toEqual([
      '256 prefill dense',
      '256 prefill skip',
      '256 decode dense',
      '256 decode skip',
      '512 prefill dense',
      '512 prefill skip',
      '512 decode dense',
      '512 decode skip',
    ]);
    expect(result.arms).toEqual([
      { id: 'dense', thresholdScaleFactor: { prefill: 0, decode: 0 } },
      { id: 'skip', thresholdScaleFactor: { prefill: 2000, decode: 40 } },
    ]);
    expect(result.target).toMatchObject({
      kind: 'kernel',
      implementation: 'reference',
      threads: 1,
      shape: { numQueryHeads: 2, numKvHeads: 1, headDim: 64 },
      workload: { headPatterns: ['sink', 'local'] },
      tiles: { prefill: { blockM: 64, blockN: 128 }, decode: { blockN: 64, partitions: 1 } },
    });
    // 'auto' partitions resolved against the executor's one thread and recorded as a number
    expect(result.run.config.partitions).toBe(1);
    expect(result.environment.ceilings).toBeUndefined();
  });

  it('publishes after each phase with a growing cells array, and once more at the end', () => {
    expect(published[0]).toEqual({ cells: 0, status: 'running' });
    expect(published.map((p) => p.cells)).toEqual([0, 2, 4, 6, 8, 8]);
    expect(published.at(-1)?.status).toBe('completed');
    expect(lastPublished).toBe(result);
  });

  it('emits phase-start, one sample event per timed sample, and phase-done', () => {
    const starts = events.filter((e) => e.type === 'phase-start');
    const done = events.filter((e) => e.type === 'phase-done');
    const samples = events.filter((e) => e.type === 'sample');
    expect(starts.map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(starts.every((e) => e.total === 4)).toBe(true);
    expect(done).toHaveLength(4);
    // 4 phases x 2 arms x 2 reps, arms interleaved: dense, skip | skip, dense
    expect(samples).toHaveLength(16);
    expect(samples.slice(0, 4).map((e) => e.arm)).toEqual(['dense', 'skip', 'skip', 'dense']);
    const sequences = samples.map((e) => e.sample.sequence);
    expect(sequences).toEqual([...Array(16).keys()]);
  });

  it('measures 256 in full and samples the 512 prefill', () => {
    const at = (L: number, phase: string, arm: string) =>
      result.cells.find((x) => x.context === L && x.phase === phase && x.arm === arm)!;
    expect(at(256, 'prefill', 'dense').provenance).toEqual({ kind: 'measured' });
    expect(at(512, 'decode', 'skip').provenance).toEqual({ kind: 'measured' });
    const sample = choosePrefillSample(512, c.blockM, c.headDim, c.fullPrefillMax, c.prefillSampleFlops, c.seed);
    expect(sample.tiles).toHaveLength(4);
    for (const arm of ['dense', 'skip']) {
      const cell = at(512, 'prefill', arm);
      if (cell.provenance.kind !== 'sampled') throw new Error('512 prefill should be sampled');
      expect(cell.provenance.sampledTiles).toBe(4);
      expect(cell.provenance.totalTiles).toBe(8);
      expect(cell.provenance.workFraction).toBeGreaterThan(0);
      expect(cell.provenance.workFraction).toBeLessThan(1);
      expect(cell.provenance.workFraction).toBeCloseTo(sample.sampledWork / sample.totalWork, 12);
      expect(cell.provenance.method).toMatch(/stratified/);
      const s = cell.summary;
      expect(s.estimatedFullMs).toBeCloseTo((s.medianMs * sample.totalWork) / sample.sampledWork, 9);
      expect(s.estimatedFullMs).toBeGreaterThan(s.medianMs);
      // the counters cover only the sampled tiles: 4 tiles x (1..4 KV tiles of 128)
      expect(cell.work.visitedTiles).toBe(
        2 * sample.tiles!.reduce((n, t) => n + Math.floor((t * 64 + 63) / 128) + 1, 0),
      );
    }
    for (const cell of result.cells.filter((x) => x.provenance.kind === 'measured')) {
      expect(cell.summary.estimatedFullMs).toBe(cell.summary.medianMs);
    }
  });

  it('dense cells have no error or speedup; skip cells have both, paired per round', () => {
    for (const cell of result.cells) {
      expect(cell.samples).toHaveLength(2);
      expect(cell.summary.n).toBe(2);
      expect(cell.summary.failed).toBe(0);
      expect(cell.summary.medianMs).toBeGreaterThan(0);
      expect(cell.work.sparsity).toBeGreaterThanOrEqual(0);
      expect(cell.work.sparsity).toBeLessThanOrEqual(1);
      expect(cell.work.bound).toBe('unknown');
      expect(cell.disturbed).toBe(cell.foreignLoad > c.maxForeignLoad);
      if (cell.arm === 'dense') {
        expect(cell.error).toBeUndefined();
        expect(cell.speedup).toBeUndefined();
        expect(cell.work.skippedTiles).toBe(0);
        expect(cell.heads.every((h) => h.error === undefined)).toBe(true);
      } else {
        expect(cell.speedup?.baselineArm).toBe('dense');
        expect(cell.speedup?.pairedRatios).toHaveLength(c.reps);
        expect(cell.speedup?.pairedRatios.every((r) => r > 0 && Number.isFinite(r))).toBe(true);
        expect(cell.error?.relativeL2).toBeGreaterThanOrEqual(0);
        expect(cell.heads.every((h) => h.error !== undefined)).toBe(true);
      }
    }
    // factor 2000 > L: lambda > 1, so prefill skips, and the output moves away from dense
    for (const L of [256, 512]) {
      const skip = result.cells.find((x) => x.context === L && x.phase === 'prefill' && x.arm === 'skip')!;
      expect(skip.work.sparsity).toBeGreaterThan(0);
      expect(skip.work.flops).toBeLessThan(skip.work.denseFlops);
      expect(skip.error!.relativeL2).toBeGreaterThan(0);
    }
  });

  it('labels heads with their patterns: query heads in prefill, GQA groups in decode', () => {
    const prefill = result.cells.find((x) => x.phase === 'prefill')!;
    expect(prefill.heads.map((h) => h.pattern)).toEqual(['sink', 'local']);
    expect(prefill.partitions).toBeUndefined();
    const decode = result.cells.find((x) => x.phase === 'decode')!;
    expect(decode.heads.map((h) => h.pattern)).toEqual(['sink+local']);
    expect(decode.partitions).toBe(1);
  });

  it('renders without errors', () => {
    expect(render('table', result)).toContain('sampled');
    expect(render('markdown', result)).toContain('## skipbench');
  });
});

describe('runKernelBenchmark interruption', () => {
  it('an abort after the first sample keeps what was measured and marks the run interrupted', async () => {
    const controller = new AbortController();
    const statuses: string[] = [];
    let samples = 0;
    const result = await runKernelBenchmark(config(), {
      executor: createReferenceExecutor(),
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'sample' && samples++ === 0) controller.abort('test stop');
      },
      onResult: (r) => statuses.push(r.run.status),
    });
    expect(samples).toBe(1);
    expect(result.run.status).toBe('interrupted');
    expect(result.run.reason).toBe('test stop');
    expect(statuses.at(-1)).toBe('interrupted');
    // the dense arm's one sample is kept; the skip arm measured nothing and is left out
    expect(result.cells.map(cellKey)).toEqual(['256 prefill dense']);
    expect(result.cells[0].samples).toHaveLength(1);
    expect(result.cells[0].samples[0].status).toBe('ok');
  });

  it('an abort before the run starts measures nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await runKernelBenchmark(config(), {
      executor: createReferenceExecutor(),
      signal: controller.signal,
    });
    expect(result.run.status).toBe('interrupted');
    expect(result.cells).toEqual([]);
  });
});

describe('runKernelBenchmark with a failing arm', () => {
  /** Delegates to the reference executor but fails every skip-arm run: prefill with a SkipbenchError, decode with a TypeError. */
  function failingSkip(): Executor & { closed: number } {
    const inner = createReferenceExecutor();
    const wrapper = {
      implementation: 'reference-failing',
      threads: 1,
      closed: 0,
      preparePrefill: (...args: Parameters<Executor['preparePrefill']>) => {
        const phase = inner.preparePrefill(...args);
        return {
          run: async (factor: number, iterations: number) => {
            if (factor > 0) throw new SkipbenchError(ErrorCodes.OPTION, 'skip arm refused by the test');
            return phase.run(factor, iterations);
          },
          collect: () => phase.collect(),
        };
      },
      prepareDecode: (...args: Parameters<Executor['prepareDecode']>) => {
        const phase = inner.prepareDecode(...args);
        return {
          run: async (factor: number, iterations: number) => {
            if (factor > 0) throw new TypeError('decode skip arm broke');
            return phase.run(factor, iterations);
          },
          collect: () => phase.collect(),
        };
      },
      close: async () => {
        wrapper.closed++;
      },
    };
    return wrapper;
  }

  it('records failed samples with their error codes and completes', async () => {
    const executor = failingSkip();
    const result = await runKernelBenchmark(config({ contexts: [256] }), { executor });
    expect(result.run.status).toBe('completed');
    expect(result.target.implementation).toBe('reference-failing');
    // an injected executor belongs to the caller: the runner does not close it
    expect(executor.closed).toBe(0);
    expect(result.cells.map(cellKey)).toEqual([
      '256 prefill dense',
      '256 prefill skip',
      '256 decode dense',
      '256 decode skip',
    ]);
    for (const cell of result.cells) {
      if (cell.arm === 'dense') {
        expect(cell.summary.n).toBe(2);
        expect(cell.summary.failed).toBe(0);
        continue;
      }
      expect(cell.summary.n).toBe(0);
      expect(cell.summary.failed).toBe(2);
      expect(Number.isNaN(cell.summary.medianMs)).toBe(true);
      expect(cell.error).toBeUndefined();
      expect(cell.speedup?.pairedRatios).toEqual([]);
      const codes = (cell.samples as KernelSampleFailed[]).map((s) => [s.status, s.error.code]);
      const code = cell.phase === 'prefill' ? ErrorCodes.OPTION : 'SKB_UNEXPECTED';
      expect(codes).toEqual([
        ['failed', code],
        ['failed', code],
      ]);
    }
    const table = render('table', result);
    expect(table).toMatch(/2 failed/);
    expect(() => render('markdown', result)).not.toThrow();
    expect(() => JSON.parse(render('json', result))).not.toThrow();
  });
});
