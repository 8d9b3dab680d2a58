/**
 * The gate as a pure function over hand-built result files: a known regression is caught, noise passes, floors hold,
 * and every input it cannot judge makes the verdict unusable with a coded reason.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../kernels/errors.js';
import { headlineSamples } from '../../reports/bootstrap.js';
import { compareResults, GateCodes, judge, resolveCompareOptions } from '../../reports/compare.js';
import type {
  KernelCell,
  KernelResultFile,
  KernelSample,
  Phase,
  RequestSample,
  ResultFile,
  ServerCell,
  ServerResultFile,
} from '../../reports/schema.js';
import { RESULT_SCHEMA, RESULT_SCHEMA_VERSION } from '../../reports/schema.js';
import { distribution, median } from '../../reports/stats.js';
import { EXIT_CODES, type GateVerdict, renderVerdictMarkdown, renderVerdictTable } from '../../reports/verdict.js';
import { gaussian, mulberry32 } from '../helpers/random.js';

// -- building result files --------------------------------------------------------------------------------------

interface Spec {
  /** Per (context, phase): dense ms per round and the skip arm's speedup. */
  cells: { context: number; phase: Phase; denseMs: number; speedup: number }[];
  rounds?: number;
  /** Relative per-sample jitter (std of a multiplicative normal). */
  noise?: number;
  seed?: number;
  /** Multiply every skip (or dense) time. */
  skipScale?: number;
  denseScale?: number;
}

const counters = { visitedTiles: 10, skippedTiles: 5, flops: 1, denseFlops: 2, bytes: 1, denseBytes: 2 };

function kernelCell(context: number, phase: Phase, arm: string, times: number[], dense?: number[]): KernelCell {
  const samples: KernelSample[] = times.map((t, round) => ({
    status: 'ok',
    round,
    sequence: round * 2,
    wallMs: t,
    iterations: 1,
    timeMs: t,
    foreignLoad: 0,
  }));
  const cell: KernelCell = {
    kind: 'kernel',
    context,
    phase,
    arm,
    provenance: { kind: 'measured' },
    samples,
    summary: {
      n: times.length,
      failed: 0,
      medianMs: median(times),
      minMs: Math.min(...times),
      maxMs: Math.max(...times),
      madMs: 0,
      estimatedFullMs: median(times),
    },
    work: {
      ...counters,
      sparsity: 0.5,
      arithmeticIntensity: 1,
      bound: 'unknown',
      denseEquivalentFlopsPerSec: 1,
      achievedFlopsPerSec: 1,
      achievedBytesPerSec: 1,
    },
    heads: [{ head: 0, counters, sparsity: 0.5 }],
    foreignLoad: 0,
    disturbed: false,
  };
  if (dense) {
    const pairedRatios = times.map((t, i) => dense[i] / t);
    cell.speedup = {
      baselineArm: 'dense',
      ofMedians: median(dense) / median(times),
      pairedRatios,
      medianPairedRatio: median(pairedRatios),
    };
  }
  return cell;
}

function kernelFile(spec: Spec): KernelResultFile {
  const rng = mulberry32(spec.seed ?? 1);
  const jitter = () => 1 + (spec.noise ?? 0.02) * gaussian(rng);
  const n = spec.rounds ?? 15;
  const cells = spec.cells.flatMap(({ context, phase, denseMs, speedup }) => {
    // a drift both arms share within a round (what interleaving cancels), plus independent jitter per arm
    const drift = Array.from({ length: n }, () => jitter());
    const dense = drift.map((d) => denseMs * d * jitter() * (spec.denseScale ?? 1));
    const skip = drift.map((d) => (denseMs / speedup) * d * jitter() * (spec.skipScale ?? 1));
    return [kernelCell(context, phase, 'dense', dense), kernelCell(context, phase, 'skip', skip, dense)];
  });
  return {
    schema: RESULT_SCHEMA,
    schemaVersion: RESULT_SCHEMA_VERSION,
    run: {
      id: `kernel-test-${spec.seed ?? 1}`,
      startedAt: '2025-01-01T00:00:00Z',
      status: 'completed',
      command: [],
      config: {},
    },
    environment: {
      host: {
        hostname: 'h',
        platform: 'linux',
        arch: 'x64',
        osRelease: '6',
        cpuModel: 'cpu',
        logicalCpus: 2,
        totalMemoryBytes: 1,
      },
      runtime: { node: '20', v8: '11' },
      skipbench: '0.1.0',
    },
    target: {
      kind: 'kernel',
      implementation: 'reference',
      threads: 1,
      shape: { numQueryHeads: 2, numKvHeads: 1, headDim: 64 },
      workload: { description: 'synthetic' },
      tiles: { prefill: { blockM: 64, blockN: 128 }, decode: { blockN: 64, partitions: 1 } },
    },
    arms: [
      { id: 'dense', thresholdScaleFactor: { prefill: 0, decode: 0 } },
      { id: 'skip', thresholdScaleFactor: { prefill: 100, decode: 150 } },
    ],
    cells,
  };
}

const GRID: Spec['cells'] = [
  { context: 8192, phase: 'prefill', denseMs: 40, speedup: 1.3 },
  { context: 32768, phase: 'prefill', denseMs: 600, speedup: 1.4 },
  { context: 8192, phase: 'decode', denseMs: 2, speedup: 1.2 },
  { context: 32768, phase: 'decode', denseMs: 8, speedup: 1.35 },
];

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const codes = (v: GateVerdict) => v.problems.map((p) => p.code);
const rowsOf = (v: GateVerdict, status: string) => v.rows.filter((r) => r.status === status);

// -- regression, noise, improvement ------------------------------------------------------------------------------

describe('compareResults: regressions and noise', () => {
  const baseline = kernelFile({ cells: GRID, seed: 1 });

  it('a file against itself passes with zero change everywhere', () => {
    const v = compareResults(baseline, clone(baseline));
    expect(v.status).toBe('pass');
    expect(EXIT_CODES[v.status]).toBe(0);
    expect(v.problems).toEqual([]);
    expect(v.rows).toHaveLength(4 * 3); // latency for dense and skip, speedup for skip
    expect(v.rows.every((r) => r.status === 'ok' && r.change === 0)).toBe(true);
    expect(v.rows.filter((r) => r.metric === 'speedup').every((r) => r.verdict === 'faster')).toBe(true);
  });

  it('pure noise passes: independent runs of the same thing', () => {
    for (let seed = 2; seed <= 9; seed++) {
      const v = compareResults(baseline, kernelFile({ cells: GRID, seed }));
      expect(v.status, `seed ${seed}: ${renderVerdictTable(v)}`).toBe('pass');
      expect(rowsOf(v, 'regression')).toEqual([]);
    }
  });

  it('catches skip times 30% slower: speedup and skip latency regress, dense does not, exit 1', () => {
    const v = compareResults(baseline, kernelFile({ cells: GRID, seed: 2, skipScale: 1.3 }));
    expect(v.status).toBe('regression');
    expect(EXIT_CODES[v.status]).toBe(1);
    const regressed = rowsOf(v, 'regression');
    expect(regressed.filter((r) => r.metric === 'speedup')).toHaveLength(4);
    expect(regressed.filter((r) => r.metric === 'latency').map((r) => r.arm)).toEqual(['skip', 'skip', 'skip', 'skip']);
    for (const r of regressed.filter((r) => r.metric === 'speedup')) {
      expect(r.change).toBeGreaterThan(-0.27);
      expect(r.change).toBeLessThan(-0.19); // 1 / 1.3 - 1 = -23%
      expect(r.current!.high).toBeLessThan(r.baseline!.low);
    }
  });

  it('catches the current file scaled by hand (the same samples, skip times x 1.3)', () => {
    const current = clone(baseline);
    for (const cell of current.cells.filter((c) => c.arm === 'skip')) {
      const dense = current.cells.find(
        (d) => d.arm === 'dense' && d.context === cell.context && d.phase === cell.phase,
      )!;
      const times = cell.samples.map((s) => (s.status === 'ok' ? s.timeMs * 1.3 : 0));
      Object.assign(cell, kernelCell(cell.context, cell.phase, 'skip', times, headlineSamples(dense)));
    }
    const v = compareResults(baseline, current);
    expect(v.status).toBe('regression');
    expect(rowsOf(v, 'regression')).toHaveLength(8);
  });

  it('a slower machine regresses latency but not speedup; gating speedup alone passes', () => {
    const current = kernelFile({ cells: GRID, seed: 3, skipScale: 1.3, denseScale: 1.3 });
    const v = compareResults(baseline, current);
    expect(v.status).toBe('regression');
    expect(rowsOf(v, 'regression').every((r) => r.metric === 'latency')).toBe(true);
    expect(compareResults(baseline, current, { metrics: ['speedup'] }).status).toBe('pass');
  });

  it('a faster skip arm is an improvement and passes', () => {
    const v = compareResults(baseline, kernelFile({ cells: GRID, seed: 4, skipScale: 0.7 }));
    expect(v.status).toBe('pass');
    expect(rowsOf(v, 'improved').filter((r) => r.metric === 'speedup')).toHaveLength(4);
  });

  it('worse by more than the threshold within the noise is inconclusive, not a failure', () => {
    const noisy = { cells: GRID.slice(0, 1), noise: 0.25, rounds: 6 };
    const v = compareResults(kernelFile({ ...noisy, seed: 5 }), kernelFile({ ...noisy, seed: 6, skipScale: 1.12 }));
    const speedup = v.rows.find((r) => r.metric === 'speedup')!;
    expect(speedup.change).toBeLessThan(-0.05);
    expect(speedup.status).toBe('inconclusive');
    expect(v.status).toBe('pass');
  });

  it('a larger threshold lets a 30% slowdown through', () => {
    expect(
      compareResults(baseline, kernelFile({ cells: GRID, seed: 2, skipScale: 1.3 }), { threshold: 0.5 }).status,
    ).toBe('pass');
  });

  it('is deterministic and serialisable', () => {
    const current = kernelFile({ cells: GRID, seed: 7 });
    const v = compareResults(baseline, current);
    expect(compareResults(baseline, current)).toEqual(v);
    expect(JSON.parse(JSON.stringify(v))).toEqual(v);
    expect(v).toMatchObject({
      schema: 'skipbench/verdict',
      schemaVersion: 1,
      inputs: { baseline: { runId: 'kernel-test-1', target: 'kernel' } },
    });
    expect(v.options).toEqual({
      threshold: 0.05,
      metrics: ['speedup', 'latency'],
      floors: [],
      minSamples: 5,
      level: 0.95,
      resamples: 2000,
      seed: 1,
    });
  });
});

describe('judge', () => {
  const e = (estimate: number, low: number, high: number) => ({ estimate, low, high, n: 10 });

  it('speedup: higher is better', () => {
    expect(judge('speedup', e(1.4, 1.35, 1.45), e(1.2, 1.15, 1.25), 0.05)).toMatchObject({ status: 'regression' });
    expect(judge('speedup', e(1.4, 1.3, 1.5), e(1.3, 1.2, 1.35), 0.05)).toMatchObject({ status: 'inconclusive' });
    expect(judge('speedup', e(1.4, 1.35, 1.45), e(1.36, 1.34, 1.38), 0.05)).toMatchObject({ status: 'ok' });
    expect(judge('speedup', e(1.2, 1.15, 1.25), e(1.4, 1.35, 1.45), 0.05)).toMatchObject({ status: 'improved' });
  });

  it('latency: lower is better', () => {
    expect(judge('latency', e(10, 9.8, 10.2), e(12, 11.8, 12.2), 0.05)).toMatchObject({
      status: 'regression',
      change: expect.closeTo(0.2, 12),
    });
    expect(judge('latency', e(10, 9, 11), e(11, 10.5, 11.5), 0.05)).toMatchObject({ status: 'inconclusive' });
    expect(judge('latency', e(12, 11.8, 12.2), e(10, 9.8, 10.2), 0.05)).toMatchObject({ status: 'improved' });
    // non-overlapping but within the threshold: a real but small change, not a regression
    expect(judge('latency', e(10, 9.99, 10.01), e(10.3, 10.29, 10.31), 0.05)).toMatchObject({ status: 'ok' });
  });
});

// -- floors ------------------------------------------------------------------------------------------------------

describe('compareResults: floors', () => {
  const baseline = kernelFile({ cells: GRID, seed: 1 });
  const prefill32k = { metric: 'speedup' as const, phase: 'prefill' as const, minContext: 32768, min: 1.0 };

  it('holds when the long prefill is faster than dense', () => {
    const v = compareResults(baseline, kernelFile({ cells: GRID, seed: 2 }), { floors: [prefill32k] });
    expect(v.status).toBe('pass');
    expect(v.floors).toHaveLength(1);
    expect(v.floors[0]).toMatchObject({ context: 32768, phase: 'prefill', arm: 'skip', status: 'ok' });
  });

  it('is violated when the whole interval lies below the floor, even with no change against the baseline', () => {
    const slow = GRID.map((c) => ({ ...c, speedup: 0.8 }));
    const v = compareResults(kernelFile({ cells: slow, seed: 1 }), kernelFile({ cells: slow, seed: 2 }), {
      floors: [prefill32k],
    });
    expect(rowsOf(v, 'regression')).toEqual([]);
    expect(v.floors.map((f) => f.status)).toEqual(['violated']);
    expect(v.status).toBe('regression');
  });

  it('a median below the floor with the interval reaching it is inconclusive', () => {
    const near = [{ context: 32768, phase: 'prefill' as const, denseMs: 100, speedup: 0.97 }];
    const v = compareResults(
      kernelFile({ cells: near, seed: 1, noise: 0.2, rounds: 6 }),
      kernelFile({ cells: near, seed: 3, noise: 0.2, rounds: 6 }),
      {
        floors: [prefill32k],
      },
    );
    expect(v.floors[0].current.estimate).toBeLessThan(1);
    expect(v.floors[0].current.high).toBeGreaterThanOrEqual(1);
    expect(v.floors[0].status).toBe('inconclusive');
    expect(v.status).toBe('pass');
  });

  it('applies to every matching skip cell; phase, context and arm narrow it', () => {
    const all = compareResults(baseline, clone(baseline), { floors: [{ metric: 'speedup', min: 1 }] });
    expect(all.floors).toHaveLength(4);
    const decode = compareResults(baseline, clone(baseline), {
      floors: [{ metric: 'speedup', phase: 'decode', min: 1.5 }],
    });
    expect(decode.floors.map((f) => `${f.context} ${f.status}`)).toEqual(['8192 violated', '32768 violated']);
  });

  it('a floor that matches no cell makes the verdict unusable', () => {
    const v = compareResults(baseline, clone(baseline), { floors: [{ ...prefill32k, minContext: 131072 }] });
    expect(v.status).toBe('unusable');
    expect(codes(v)).toEqual([GateCodes.FLOOR_UNMATCHED]);
    expect(codes(compareResults(baseline, clone(baseline), { floors: [{ ...prefill32k, arm: 'skip2' }] }))).toEqual([
      GateCodes.FLOOR_UNMATCHED,
    ]);
  });
});

// -- unusable inputs ---------------------------------------------------------------------------------------------

describe('compareResults: unusable inputs fail closed', () => {
  const baseline = kernelFile({ cells: GRID, seed: 1 });
  const current = kernelFile({ cells: GRID, seed: 2 });
  const broken = (edit: (f: KernelResultFile) => void, which: 'baseline' | 'current' = 'current') => {
    const b = clone(baseline);
    const c = clone(current);
    edit(which === 'baseline' ? b : c);
    return compareResults(b, c);
  };
  const expectUnusable = (v: GateVerdict, code: string) => {
    expect(v.status).toBe('unusable');
    expect(EXIT_CODES[v.status]).toBe(2);
    expect(codes(v)).toContain(code);
  };

  it('schema version 2, another schema, or not a result at all', () => {
    expectUnusable(
      broken((f) => Object.assign(f, { schemaVersion: 2 })),
      GateCodes.SCHEMA,
    );
    expectUnusable(
      broken((f) => Object.assign(f, { schema: 'other/result' }), 'baseline'),
      GateCodes.SCHEMA,
    );
    for (const junk of [null, [], 'text', 42, {}]) {
      const v = compareResults(junk as unknown as ResultFile, current);
      expectUnusable(v, GateCodes.SCHEMA);
      expect(v.problems[0].file).toBe('baseline');
    }
  });

  it('an empty baseline (no cells)', () => {
    const v = broken((f) => {
      f.cells = [];
    }, 'baseline');
    expectUnusable(v, GateCodes.EMPTY);
    expect(v.rows).toEqual([]);
  });

  it('malformed cells and arms', () => {
    expectUnusable(
      broken((f) => Object.assign(f.cells[1], { phase: 'train' })),
      GateCodes.SCHEMA,
    );
    expectUnusable(
      broken((f) => Object.assign(f.cells[0], { samples: undefined })),
      GateCodes.SCHEMA,
    );
    expectUnusable(
      broken((f) => Object.assign(f, { arms: [] })),
      GateCodes.SCHEMA,
    );
    expectUnusable(
      broken((f) => Object.assign(f, { cells: 'none' })),
      GateCodes.SCHEMA,
    );
  });

  it('a baseline cell missing from the current file', () => {
    const v = broken((f) => {
      f.cells = f.cells.filter((c) => !(c.context === 32768 && c.phase === 'decode' && c.arm === 'skip'));
    });
    expectUnusable(v, GateCodes.MISSING_CELL);
    expect(v.problems.find((p) => p.code === GateCodes.MISSING_CELL)).toMatchObject({
      context: 32768,
      phase: 'decode',
      arm: 'skip',
      file: 'current',
    });
    expect(v.rows.filter((r) => r.status === 'unusable').map((r) => r.metric)).toEqual(['speedup', 'latency']);
  });

  it('different target kinds, or a different attention shape', () => {
    const server = serverFile(1);
    expectUnusable(compareResults(baseline, server as unknown as ResultFile), GateCodes.TARGET);
    expectUnusable(
      broken((f) => Object.assign(f.target.shape, { headDim: 128 })),
      GateCodes.TARGET,
    );
    expectUnusable(
      broken((f) => Object.assign(f.cells[0], { kind: 'server' })),
      GateCodes.TARGET,
    );
  });

  it('missing or NaN metrics', () => {
    expectUnusable(
      broken((f) => Object.assign(f.cells[0].summary, { medianMs: Number.NaN })),
      GateCodes.MISSING_METRIC,
    );
    expectUnusable(
      broken((f) => delete f.cells[1].speedup),
      GateCodes.MISSING_METRIC,
    );
    expectUnusable(
      broken((f) => Object.assign(f.cells[1].speedup!, { pairedRatios: [] })),
      GateCodes.MISSING_METRIC,
    );
    expectUnusable(
      broken((f) => (f.cells[1].speedup!.pairedRatios[3] = Number.NaN)),
      GateCodes.MISSING_METRIC,
    );
    expectUnusable(
      broken((f) =>
        Object.assign(f.cells[0], { samples: f.cells[0].samples.map((s) => ({ ...s, status: 'failed' })) }),
      ),
      GateCodes.MISSING_METRIC,
    );
    // JSON turns NaN into null: the same verdict
    const nulled = clone(current);
    (nulled.cells[0].summary as unknown as Record<string, unknown>).medianMs = null;
    expectUnusable(compareResults(baseline, nulled), GateCodes.MISSING_METRIC);
  });

  it('figures that disagree with their samples, too few samples, duplicated cells, a different baseline arm', () => {
    expectUnusable(
      broken((f) => (f.cells[0].summary.medianMs *= 1.5)),
      GateCodes.INCONSISTENT,
    );
    expectUnusable(
      broken((f) => (f.cells[1].speedup!.medianPairedRatio = 9)),
      GateCodes.INCONSISTENT,
    );
    expectUnusable(
      compareResults(baseline, kernelFile({ cells: GRID, seed: 2, rounds: 3 })),
      GateCodes.TOO_FEW_SAMPLES,
    );
    expect(compareResults(baseline, kernelFile({ cells: GRID, seed: 2, rounds: 3 }), { minSamples: 3 }).status).toBe(
      'pass',
    );
    expectUnusable(
      broken((f) => f.cells.push(clone(f.cells[0]))),
      GateCodes.DUPLICATE_CELL,
    );
    expectUnusable(
      broken((f) => (f.arms[0].id = 'baseline')),
      GateCodes.ARMS,
    );
  });

  it('latencies measured over different sampled work are not compared', () => {
    const sampled = {
      kind: 'sampled' as const,
      sampledTiles: 4,
      totalTiles: 512,
      workFraction: 0.01,
      method: 'strata',
    };
    expectUnusable(
      broken((f) => Object.assign(f.cells[2], { provenance: sampled })),
      GateCodes.PROVENANCE,
    );
  });

  it('reports every problem, not just the first', () => {
    const v = broken((f) => {
      f.cells = f.cells.slice(2);
      f.cells[0].summary.medianMs = Number.NaN;
    });
    expect(new Set(codes(v))).toEqual(new Set([GateCodes.MISSING_CELL, GateCodes.MISSING_METRIC]));
  });
});

describe('compareResults: never throws on a mangled file', () => {
  it('replacing any field with null, a string, a list or nothing gives a verdict, not an exception', () => {
    const small = kernelFile({ cells: GRID.slice(0, 1), rounds: 5 });
    const paths: (string | number)[][] = [];
    const walk = (x: unknown, path: (string | number)[]) => {
      if (path.length) paths.push(path);
      if (x && typeof x === 'object')
        for (const [k, v] of Object.entries(x)) walk(v, [...path, Array.isArray(x) ? Number(k) : k]);
    };
    walk(small, []);
    expect(paths.length).toBeGreaterThan(100);
    let unusable = 0;
    for (const path of paths) {
      for (const junk of [null, 'x', [], undefined]) {
        const mangled = clone(small) as unknown as Record<string | number, unknown>;
        let at = mangled;
        for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
        at[path[path.length - 1]] = junk;
        for (const v of [
          compareResults(small, mangled as unknown as ResultFile, { resamples: 100 }),
          compareResults(mangled as unknown as ResultFile, small, { resamples: 100 }),
        ]) {
          expect(['pass', 'regression', 'unusable']).toContain(v.status);
          expect(v.status === 'unusable').toBe(v.problems.length > 0);
          if (v.status === 'unusable') unusable++;
        }
      }
    }
    expect(unusable).toBeGreaterThan(2 * paths.length);
  });
});

describe('compareResults: warnings that do not change the verdict', () => {
  const baseline = kernelFile({ cells: GRID, seed: 1 });

  it('cells only in the current file are listed as new, not gated', () => {
    const current = kernelFile({
      cells: [...GRID, { context: 65536, phase: 'prefill', denseMs: 2000, speedup: 1.5 }],
      seed: 2,
    });
    const v = compareResults(baseline, current);
    expect(v.status).toBe('pass');
    expect(rowsOf(v, 'new').map((r) => `${r.context} ${r.arm} ${r.metric}`)).toEqual([
      '65536 dense latency',
      '65536 skip speedup',
      '65536 skip latency',
    ]);
    expect(v.warnings.map((w) => w.code)).toContain(GateCodes.NEW_CELL);
  });

  it('interrupted runs, disturbed cells, another machine, another kernel build, changed factors', () => {
    const current = kernelFile({ cells: GRID, seed: 2 });
    current.run.status = 'interrupted';
    current.cells[0].disturbed = true;
    current.environment.host.cpuModel = 'other';
    current.target.implementation = 'wasm-simd';
    current.arms[1].thresholdScaleFactor = { prefill: 200, decode: 150 };
    const v = compareResults(baseline, current);
    expect(v.status).toBe('pass');
    expect(v.warnings.map((w) => w.code).sort()).toEqual(
      [
        GateCodes.RUN_STATUS,
        GateCodes.DISTURBED,
        GateCodes.HOST,
        GateCodes.TARGET_CHANGED,
        GateCodes.ARM_CHANGED,
      ].sort(),
    );
  });
});

// -- server results ----------------------------------------------------------------------------------------------

function serverCell(context: number, phase: Phase, arm: string, values: number[], dense?: number[]): ServerCell {
  const headline = phase === 'prefill' ? 'ttftMs' : 'tpotMs';
  const samples: RequestSample[] = [
    // a warmup request and a failed one: both recorded, neither counted
    { status: 'ok', round: -1, sequence: 0, request: 0, warmup: true, [headline]: 99999 },
    { status: 'failed', reason: 'timeout', round: 0, sequence: 1, request: 1, warmup: false },
    ...values.map((v, round) => ({
      status: 'ok' as const,
      round,
      sequence: round + 2,
      request: round + 2,
      warmup: false,
      [headline]: v,
    })),
  ];
  const d = distribution(values);
  const cell: ServerCell = {
    kind: 'server',
    context,
    phase,
    arm,
    provenance: { kind: 'measured' },
    samples,
    summary: {
      n: values.length,
      failed: 1,
      medianMs: median(values),
      minMs: d.min,
      maxMs: d.max,
      madMs: 0,
      estimatedFullMs: median(values),
    },
    metrics: {
      ttft: d,
      tpot: d,
      itl: d,
      e2el: d,
      queueDelay: d,
      completed: values.length,
      failed: 1,
      durationMs: 1,
      requestThroughput: 1,
      outputThroughput: 1,
      totalTokenThroughput: 1,
    },
    foreignLoad: 0,
    disturbed: false,
  };
  if (dense) {
    const pairedRatios = values.map((v, i) => dense[i] / v);
    cell.speedup = {
      baselineArm: 'dense',
      ofMedians: median(dense) / median(values),
      pairedRatios,
      medianPairedRatio: median(pairedRatios),
    };
  }
  return cell;
}

function serverFile(seed: number, skipScale = 1): ServerResultFile {
  const rng = mulberry32(seed);
  const series = (ms: number) => Array.from({ length: 12 }, () => ms * (1 + 0.02 * gaussian(rng)));
  const cells = (
    [
      ['prefill', 3000],
      ['decode', 40],
    ] as const
  ).flatMap(([phase, ms]) => {
    const dense = series(ms);
    const skip = series(ms / 1.3).map((v) => v * skipScale);
    return [serverCell(131072, phase, 'dense', dense), serverCell(131072, phase, 'skip', skip, dense)];
  });
  const k = kernelFile({ cells: [], seed });
  return {
    ...k,
    target: { kind: 'server', endpoint: 'completions', tokenizer: 'llama3', load: 'paired rounds' },
    cells,
  };
}

describe('compareResults: server results', () => {
  it('gates TTFT (prefill) and TPOT (decode) over ok non-warmup requests', () => {
    const v = compareResults(serverFile(1), serverFile(2));
    expect(v.status).toBe('pass');
    expect(v.rows.map((r) => `${r.phase} ${r.arm} ${r.measure}`)).toEqual([
      'prefill dense TTFT',
      'prefill skip speedup',
      'prefill skip TTFT',
      'decode dense TPOT',
      'decode skip speedup',
      'decode skip TPOT',
    ]);
    // the 99999 ms warmup request is not in any figure
    expect(Math.max(...v.rows.map((r) => r.current!.high))).toBeLessThan(4000);
    expect(v.rows.find((r) => r.measure === 'TTFT' && r.arm === 'dense')!.current!.n).toBe(12);
  });

  it('catches a slower skip server and refuses a prefix-cached cell', () => {
    expect(compareResults(serverFile(1), serverFile(2, 1.3)).status).toBe('regression');
    const cached = serverFile(2);
    cached.cells[1].cacheFlagged = true;
    expect(codes(compareResults(serverFile(1), cached))).toEqual([GateCodes.PREFIX_CACHE]);
  });
});

// -- options and rendering ---------------------------------------------------------------------------------------

describe('options and rendering', () => {
  it('resolveCompareOptions validates with SKB_CONFIG naming the option', () => {
    for (const [user, field] of [
      [{ threshold: 1 }, 'threshold'],
      [{ threshold: -0.1 }, 'threshold'],
      [{ metrics: [] }, 'metrics'],
      [{ minSamples: 0 }, 'minSamples'],
      [{ floors: [{ metric: 'speedup', min: 0 }] }, 'floors'],
      [{ level: 2 }, 'level'],
      [{ resamples: 0 }, 'resamples'],
    ] as const) {
      expect(() => resolveCompareOptions(user as never)).toThrow(
        expect.objectContaining({ code: ErrorCodes.CONFIG, field }),
      );
    }
  });

  it('the table and the Markdown name the status, the rows, the problems and the method', () => {
    const baseline = kernelFile({ cells: GRID, seed: 1 });
    const v = compareResults(baseline, kernelFile({ cells: GRID, seed: 2, skipScale: 1.3 }), {
      floors: [{ metric: 'speedup', phase: 'prefill', minContext: 32768, min: 1 }],
    });
    const table = renderVerdictTable(v);
    expect(table).toMatch(/^REGRESSION: 8 row\(s\) regressed, 0 floor\(s\) violated/);
    expect(table).toMatch(
      /32K\s+prefill\s+skip\s+speedup\s+1\.\d\dx \[1\.\d\d, 1\.\d\d\]\s+1\.\d\dx \[.*\]\s+-2\d\.\d%\s+regression \(faster\)/,
    );
    expect(table).toContain('percentile-bootstrap');
    const md = renderVerdictMarkdown(v);
    expect(md).toMatch(/^## skipbench gate: REGRESSION/);
    expect(md).toContain('| context | phase | arm | metric | baseline | current | change | status |');
    expect(md).toContain('### Floors');
    const unusable = compareResults(baseline, { ...baseline, schemaVersion: 2 } as unknown as ResultFile);
    expect(renderVerdictTable(unusable)).toMatch(/^UNUSABLE: 1 problem/);
    expect(renderVerdictMarkdown(unusable)).toContain('### Problems');
  });
});
