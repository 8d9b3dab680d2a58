import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../kernels/errors.js';
import { bootstrapMedianCI, headlineMedianCI } from '../../reports/bootstrap.js';
import { comparisonRows, provenanceLabel, theoryBound } from '../../reports/comparison.js';
import { formatMs } from '../../reports/format.js';
import { renderMarkdown } from '../../reports/markdown.js';
import { render, renderers } from '../../reports/render.js';
import {
  type KernelCell,
  type KernelResultFile,
  type Phase,
  type Provenance,
  RESULT_SCHEMA,
  RESULT_SCHEMA_VERSION,
} from '../../reports/schema.js';
import { renderTable } from '../../reports/table.js';
import { ARM_CI_METHOD, formatMedianCi } from '../../reports/tables.js';
import { testEnvironment } from '../helpers/environment.js';
import { okKernelSample } from '../helpers/samples.js';

interface CellSpec {
  context: number;
  phase: Phase;
  arm: string;
  medianMs: number;
  sparsity?: number;
  provenance?: Provenance;
  workScale?: number;
  speedup?: number;
  relativeL2?: number;
  disturbed?: boolean;
  failed?: number;
  pattern?: string;
  /** Per-sample times (ms) of the ok samples; default [0.9, 1, 1.2] x medianMs (their median is medianMs). */
  times?: number[];
}

function cell(s: CellSpec): KernelCell {
  const visited = 100;
  const skipped = Math.round((s.sparsity ?? 0) * visited);
  const counters = {
    visitedTiles: visited,
    skippedTiles: skipped,
    flops: 1e9,
    denseFlops: 2e9,
    bytes: 1e8,
    denseBytes: 2e8,
  };
  const estimatedFullMs = s.medianMs * (s.workScale ?? 1);
  const times = s.times ?? [0.9, 1, 1.2].map((f) => f * s.medianMs);
  return {
    kind: 'kernel',
    context: s.context,
    phase: s.phase,
    arm: s.arm,
    provenance: s.provenance ?? { kind: 'measured' },
    samples: times.map(okKernelSample),
    summary: {
      n: times.length,
      failed: s.failed ?? 0,
      medianMs: s.medianMs,
      minMs: s.medianMs,
      maxMs: s.medianMs,
      madMs: 0,
      estimatedFullMs,
    },
    work: {
      ...counters,
      sparsity: skipped / visited,
      arithmeticIntensity: 10,
      bound: 'unknown',
      denseEquivalentFlopsPerSec: 2e9 / (s.medianMs / 1000),
      achievedFlopsPerSec: 1e9 / (s.medianMs / 1000),
      achievedBytesPerSec: 1e8 / (s.medianMs / 1000),
    },
    heads: [{ head: 0, pattern: s.pattern ?? 'sink', counters, sparsity: skipped / visited }],
    foreignLoad: 0,
    disturbed: s.disturbed ?? false,
    ...(s.relativeL2 !== undefined ? { error: { relativeL2: s.relativeL2, maxAbs: 0.01 } } : {}),
    ...(s.speedup !== undefined
      ? {
          speedup: {
            baselineArm: 'dense',
            ofMedians: s.speedup,
            pairedRatios: [s.speedup],
            medianPairedRatio: s.speedup,
          },
        }
      : {}),
  };
}

const SAMPLED: Provenance = {
  kind: 'sampled',
  sampledTiles: 4,
  totalTiles: 16,
  workFraction: 0.03125,
  method: 'stratified',
};

function result(cells: KernelCell[], arms = ['dense', 'skip']): KernelResultFile {
  return {
    schema: RESULT_SCHEMA,
    schemaVersion: RESULT_SCHEMA_VERSION,
    run: { id: 'kernel-test-run', startedAt: '2026-01-01T00:00:00.000Z', status: 'completed', command: [], config: {} },
    environment: testEnvironment(),
    target: {
      kind: 'kernel',
      implementation: 'wasm-simd',
      threads: 2,
      shape: { numQueryHeads: 2, numKvHeads: 1, headDim: 64 },
      workload: { description: 'synthetic seed=1' },
      tiles: { prefill: { blockM: 64, blockN: 128 }, decode: { blockN: 64, partitions: 2 } },
    },
    arms: arms.map((id, i) => ({ id, thresholdScaleFactor: { prefill: i * 400, decode: i * 40 } })),
    cells,
  };
}

/** 1K prefill sampled (3.1% of the work), 2K decode measured. */
function sample(): KernelResultFile {
  return result([
    cell({ context: 1024, phase: 'prefill', arm: 'dense', medianMs: 2, provenance: SAMPLED, workScale: 32 }),
    cell({
      context: 1024,
      phase: 'prefill',
      arm: 'skip',
      medianMs: 1.25,
      provenance: SAMPLED,
      workScale: 32,
      sparsity: 0.5,
      speedup: 1.6,
      relativeL2: 2.5e-4,
    }),
    cell({ context: 2048, phase: 'decode', arm: 'dense', medianMs: 0.5 }),
    cell({
      context: 2048,
      phase: 'decode',
      arm: 'skip',
      medianMs: 0.4,
      sparsity: 0.9,
      speedup: 1.25,
      relativeL2: 1e-3,
      disturbed: true,
      failed: 1,
    }),
  ]);
}

describe('comparison', () => {
  it('theory bound 2 / (2 - s)', () => {
    expect(theoryBound(0)).toBe(1);
    expect(theoryBound(0.5)).toBeCloseTo(4 / 3, 12);
    expect(theoryBound(0.9)).toBeCloseTo(1.818, 3);
    expect(theoryBound(1)).toBe(2);
  });

  it('pairs every skip cell with the dense cell of its context and phase', () => {
    const rows = comparisonRows(sample());
    expect(rows.map((r) => [r.context, r.phase, r.arm, r.dense.arm, r.skip.arm])).toEqual([
      [1024, 'prefill', 'skip', 'dense', 'skip'],
      [2048, 'decode', 'skip', 'dense', 'skip'],
    ]);
    expect(rows[1].theoryBound).toBeCloseTo(2 / 1.1, 12);
  });

  it('leaves out skip cells without a dense partner', () => {
    const r = sample();
    r.cells = r.cells.filter((c) => !(c.context === 2048 && c.arm === 'dense'));
    expect(comparisonRows(r).map((row) => row.context)).toEqual([1024]);
  });

  it('labels provenance', () => {
    expect(provenanceLabel(sample().cells[0])).toBe('sampled 3.1%');
    expect(provenanceLabel(sample().cells[2])).toBe('measured');
  });
});

describe('renderTable', () => {
  it('shows contexts, times, speedups, theory bound, sparsity, error and provenance', () => {
    const text = renderTable(sample());
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^context\s+phase\s+arm\s+dense\s+skip\s+speedup\s+paired\s+theory\s+sparsity\s+rel\.err\s+how/,
    );
    // 1K prefill: sample times scaled by 32 -> 64 ms and 40 ms
    expect(lines[1]).toMatch(
      /^1K\s+prefill\s+skip\s+64\.0 ms\s+40\.0 ms\s+1\.60x\s+1\.60x\s+1\.33x\s+50\.0%\s+2\.5e-4\s+sampled 3\.1%/,
    );
    expect(lines[2]).toMatch(
      /^2K\s+decode\s+skip\s+500 µs\s+400 µs\s+1\.25x\s+1\.25x\s+1\.82x\s+90\.0%\s+1\.0e-3\s+measured\s+disturbed 1 failed$/,
    );
  });

  it('says so when there is nothing to compare', () => {
    expect(renderTable(result([cell({ context: 1024, phase: 'decode', arm: 'dense', medianMs: 1 })]))).toBe(
      'no dense/skip pairs measured',
    );
  });

  it('shows dashes for figures that could not be measured', () => {
    const r = sample();
    r.cells[3] = cell({ context: 2048, phase: 'decode', arm: 'skip', medianMs: Number.NaN, failed: 3 });
    const lines = renderTable(r).split('\n');
    // a skip cell with no skipped tile at a factor > 0 also raises the no-op banner above the table
    expect(lines[0]).toMatch(/^WARNING: Skip Softmax appears inactive: skip at 2048 \(decode\)/);
    expect(lines.find((l) => l.startsWith('2K '))).toMatch(
      /^2K\s+decode\s+skip\s+500 µs\s+—\s+—\s+—\s+1\.00x\s+0\.0%\s+—\s+measured\s+3 failed$/,
    );
  });
});

describe('renderMarkdown', () => {
  it('has the speedup table with the theory column, provenance and the environment', () => {
    const md = renderMarkdown(sample());
    expect(md).toContain('## skipbench: Skip Softmax vs dense\n');
    expect(md).toContain('Run `kernel-test-run`');
    expect(md).toContain(
      '| context | phase | arm | dense [95% CI] | skip [95% CI] | speedup | paired | theory 2/(2-s) | sparsity |',
    );
    expect(md).toContain(
      '| 1K | prefill | skip | 64.0 ms [57.6, 76.8] | 40.0 ms [36.0, 48.0] | 1.60x | 1.60x | 1.33x | 50.0% | 2.5e-4 |',
    );
    expect(md).toContain('| sampled 3.1% |');
    expect(md).toContain('| measured, disturbed |');
    expect(md).toContain(
      '| 2K | decode | skip | 500 µs [450, 600] | 400 µs [360, 480] | 1.25x | 1.25x | 1.82x | 90.0% |',
    );
    expect(md).toContain('### Per head at 2K');
    expect(md).toContain('Test CPU, 2 logical CPUs, 8.0 GiB');
    expect(md).toContain('skip (prefill factor 400, decode factor 40)');
    expect(md).toMatch(/interpolate linearly between order statistics/);
  });

  it('has a roofline section whose bound and share of roof follow the measured ceilings', () => {
    const r = sample();
    r.environment.ceilings = {
      streamReadBytesPerSec: 1e10,
      scoreTileFlopsPerSec: 1e11,
      threads: 2,
      measuredAt: '2026-01-01T00:00:00.000Z',
      method: 'test probe',
      cached: false,
    };
    const cell = r.cells[0];
    cell.work.bound = 'compute';
    cell.work.achievedFlopsPerSec = 5e10;
    const md = renderMarkdown(r);
    expect(md).toContain('### Cost and roofline');
    expect(md).toContain('ridge point of the measured ceilings (10.0 FLOP/B)');
    const row = md
      .split('\n')
      .find((line) => line.startsWith(`| 1K | ${cell.phase} | ${cell.arm} |`) && line.includes('| compute |'));
    expect(row).toBeDefined();
    expect(row).toMatch(/\| 50% \|$/);
    expect(md).toContain('stream read 10.0 GB/s, q·k tile 100 GFLOP/s — test probe');
    expect(md).not.toContain('Above 100% of the bandwidth roof');

    cell.work.bound = 'bandwidth';
    cell.work.achievedBytesPerSec = 2e10;
    const above = renderMarkdown(r);
    expect(above).toMatch(/\| bandwidth \|.*\| 200% \|$/m);
    expect(above).toContain('Above 100% of the bandwidth roof');
  });

  it('prints the run status when the run did not complete', () => {
    const r = sample();
    r.run.status = 'interrupted';
    r.run.reason = 'SIGINT';
    expect(renderMarkdown(r)).toContain('## skipbench: Skip Softmax vs dense (run interrupted: SIGINT)');
  });

  it('escapes | inside table cells', () => {
    const r = result(
      [
        cell({ context: 1024, phase: 'decode', arm: 'dense', medianMs: 1 }),
        cell({
          context: 1024,
          phase: 'decode',
          arm: 'a|b',
          medianMs: 1,
          sparsity: 0.5,
          speedup: 1,
          pattern: 'sink|local',
        }),
      ],
      ['dense', 'a|b'],
    );
    const md = renderMarkdown(r);
    expect(md).toContain('| 1K | decode | a\\|b |');
    expect(md).toContain('| sink\\|local |');
    expect(md).not.toMatch(/[^\\]\|b \|/);
    // every table row still has its column count: 15 cells in the speedup table
    const row = md.split('\n').find((l) => l.startsWith('| 1K | decode'))!;
    expect(row.split(/(?<!\\)\|/).length - 2).toBe(15);
  });
});

describe('arm medians with their bootstrap CI', () => {
  /** Nine fixed call times (ms), median 10.4, spread 9.6..13.9. */
  const TIMES = [10.2, 9.6, 10.9, 10.4, 13.9, 10.1, 10.6, 9.9, 11.8];

  function fixed(times = TIMES): KernelResultFile {
    return result([
      cell({ context: 4096, phase: 'decode', arm: 'dense', medianMs: 20, times: times.map((t) => 2 * t) }),
      cell({ context: 4096, phase: 'decode', arm: 'skip', medianMs: 10.4, times, speedup: 1.9, sparsity: 0.5 }),
    ]);
  }

  it('prints each arm median followed by the CI of exactly its samples, a direct bootstrapMedianCI call', () => {
    const ci = bootstrapMedianCI(TIMES);
    expect(ci.estimate).toBe(10.4);
    expect(ci.low).toBeLessThanOrEqual(10.4);
    expect(ci.high).toBeGreaterThanOrEqual(10.4);
    expect(ci.low).toBeGreaterThanOrEqual(Math.min(...TIMES));
    expect(ci.high).toBeLessThanOrEqual(Math.max(...TIMES));
    expect(ci.high - ci.low).toBeGreaterThan(0);
    const skip = `10.4 ms [${ci.low.toFixed(1)}, ${ci.high.toFixed(1)}]`;
    const dense = `20.0 ms [${(2 * ci.low).toFixed(1)}, ${(2 * ci.high).toFixed(1)}]`;
    expect(renderMarkdown(fixed())).toContain(`| 4K | decode | skip | ${dense} | ${skip} | 1.90x |`);
  });

  it('scales the bounds of a sampled cell to the whole phase like its median', () => {
    // sample() 1K prefill: times [0.9, 1, 1.2] x 1.25 ms, 32x the work -> 40 ms; the 3-sample CI spans min..max
    const skip = sample().cells[1];
    const ci = headlineMedianCI(skip);
    expect(ci).toMatchObject({ kind: 'interval', scale: 32, n: 3 });
    expect(formatMedianCi(skip.summary.estimatedFullMs, ci)).toBe('40.0 ms [36.0, 48.0]');
  });

  it('shows n/a instead of an interval below 3 samples', () => {
    const md = renderMarkdown(fixed([10, 11]));
    expect(md).toContain('| 4K | decode | skip | 20.0 ms [n/a (n<3)] | 10.4 ms [n/a (n<3)] | 1.90x |');
    const r = sample();
    r.cells[3] = cell({ context: 2048, phase: 'decode', arm: 'skip', medianMs: Number.NaN, times: [] });
    expect(renderMarkdown(r)).toContain('| 2K | decode | skip | 500 µs [450, 600] | — |');
  });

  it('states the method once per report: percentile bootstrap, resamples, seed, linear interpolation', () => {
    const md = renderMarkdown(sample());
    expect(md.split(ARM_CI_METHOD).length - 1).toBe(1);
    expect(md).toContain(`### Confidence intervals\n\n${ARM_CI_METHOD}\n`);
    for (const part of [
      'percentile bootstrap of the median',
      '2000 resamples',
      'seed 1',
      '2.5th and 97.5th percentiles',
      'interpolate linearly between order statistics',
      'n/a (n<3)',
    ])
      expect(ARM_CI_METHOD).toContain(part);
  });

  it('writes the bounds in the unit and precision of the median', () => {
    for (const ms of [0.25, 4.321, 12.345, 2345.6]) {
      const [digits, unit] = formatMs(ms).split(' ');
      const text = formatMedianCi(ms, { ...bootstrapMedianCI([ms]), kind: 'interval', scale: 1 });
      expect(text).toBe(`${digits} ${unit} [${digits}, ${digits}]`);
    }
    // a bound across a unit boundary stays in the median's unit
    expect(formatMedianCi(10.2, { ...bootstrapMedianCI([10.2]), low: 9.87, kind: 'interval', scale: 1 })).toBe(
      '10.2 ms [9.9, 10.2]',
    );
    expect(formatMedianCi(Number.NaN, { kind: 'too few', n: 0, minSamples: 3 })).toBe('—');
  });

  it('leaves the terminal table compact: medians only', () => {
    expect(renderTable(fixed()).split('\n')[1]).toMatch(/^4K\s+decode\s+skip\s+20\.0 ms\s+10\.4 ms\s+1\.90x/);
  });
});

describe('render', () => {
  it('looks renderers up by name', () => {
    const r = sample();
    expect(Object.keys(renderers).sort()).toEqual(['html', 'json', 'markdown', 'table']);
    expect(render('table', r)).toBe(renderTable(r));
    expect(render('markdown', r)).toBe(renderMarkdown(r));
    expect(JSON.parse(render('json', r))).toEqual(r);
  });

  it('refuses an unknown format with SKB_CONFIG naming the field', () => {
    expect(() => render('nope', sample())).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG, field: 'format' }),
    );
    expect(() => render('toString', sample())).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG }));
  });
});
