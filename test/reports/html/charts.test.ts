/**
 * Chart specs: data-free vega-lite that compiles for real kernel and server results, the datasets they name,
 * which charts each target gets and the notes for those left out, and the speedup band's swappable boundary.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import { headlineMedianCI } from '../../../reports/bootstrap.js';
import {
  buildCharts,
  chartDatasets,
  chartWithData,
  BOOTSTRAP_BAND_LABEL,
  bootstrapBand,
  MEDIAN_CI_BAND_LABEL,
  PERCENTILE_BAND_LABEL,
  percentileBand,
  seriesScales,
  type SpeedupIntervalFn,
} from '../../../reports/charts/index.js';
import type { Cell, KernelResultFile, ServerResultFile } from '../../../reports/schema.js';
import { kernelResult, serverResult } from './fixtures.js';

let kernel: KernelResultFile;
let server: ServerResultFile;

beforeAll(async () => {
  [kernel, server] = await Promise.all([kernelResult(), serverResult()]);
});

/** Every `{ name }` data reference in a spec, at any depth. */
function dataNames(spec: unknown): string[] {
  if (Array.isArray(spec)) return spec.flatMap(dataNames);
  if (spec === null || typeof spec !== 'object') return [];
  const o = spec as Record<string, unknown>;
  const own =
    o.data && typeof o.data === 'object' && 'name' in o.data ? [String((o.data as { name: string }).name)] : [];
  return [...own, ...Object.values(o).flatMap(dataNames)];
}

describe('chart specs', () => {
  it('kernel results get speedup, time, CDF, accuracy and roofline charts that compile', () => {
    const set = buildCharts([kernel]);
    expect(set.charts.map((c) => c.id)).toEqual([
      'kernel-speedup',
      'kernel-time',
      'kernel-cdf',
      'kernel-accuracy',
      'kernel-roofline',
    ]);
    expect(set.skipped).toEqual([]);
    for (const chart of set.charts) {
      const { spec } = compile(chartWithData(chart, set.datasets));
      expect(spec.data?.length, chart.id).toBeGreaterThan(0);
      for (const name of chart.datasets) expect(set.datasets[name].length, `${chart.id} ${name}`).toBeGreaterThan(0);
    }
  });

  it('server results get speedup, TTFT/TPOT, latency CDF and ITL-by-position charts that compile; accuracy is a note', () => {
    const set = buildCharts([server]);
    expect(set.charts.map((c) => c.id)).toEqual(['server-speedup', 'server-latency', 'server-cdf', 'server-position']);
    expect(set.skipped.map((s) => s.id)).toEqual(['server-accuracy']);
    for (const chart of set.charts) expect(() => compile(chartWithData(chart, set.datasets)), chart.id).not.toThrow();
    expect(new Set(set.datasets.server_samples.map((r) => r.panel))).toEqual(new Set(['TTFT', 'TPOT', 'ITL']));
    expect(new Set(set.datasets.server_latency.map((r) => r.panel))).toEqual(new Set(['TTFT', 'TPOT']));
  });

  it('specs hold no rows: they name datasets, and only the ones the chart lists', () => {
    const set = buildCharts([kernel, server]);
    for (const chart of set.charts) {
      const json = JSON.stringify(chart.spec);
      expect(json).not.toContain('"values"');
      expect(json).not.toContain('"datasets"');
      expect(json).not.toContain(kernel.run.id);
      expect(new Set(dataNames(chart.spec))).toEqual(new Set(chart.datasets));
    }
  });

  it('leaves out a chart with a note when its data is absent', () => {
    const denseOnly = {
      ...kernel,
      arms: kernel.arms.slice(0, 1),
      cells: kernel.cells.filter((c) => c.arm === kernel.arms[0].id),
    };
    const set = buildCharts([denseOnly]);
    expect(set.skipped.map((s) => s.id)).toEqual(['kernel-speedup', 'kernel-accuracy']);
    expect(set.skipped.every((s) => s.reason.length > 0)).toBe(true);
    expect(set.charts.map((c) => c.id)).toEqual(['kernel-time', 'kernel-cdf', 'kernel-roofline']);

    const empty = buildCharts([{ ...server, cells: [] }]);
    expect(empty.charts).toEqual([]);
    expect(empty.skipped).toHaveLength(5);
  });

  it('draws the roofline without roofs when the result holds no measured ceilings', () => {
    const { ceilings: _, ...environment } = kernel.environment;
    const set = buildCharts([{ ...kernel, environment }]);
    const roofline = set.charts.find((c) => c.id === 'kernel-roofline')!;
    expect(roofline.datasets).toEqual(['kernel_roofline']);
    expect(roofline.caption).toMatch(/No roof drawn/);
    expect(() => compile(chartWithData(roofline, set.datasets))).not.toThrow();
  });

  it('the roof is the measured ceilings: bandwidth x intensity up to the ridge point, then compute', () => {
    const roofs = chartDatasets([kernel]).kernel_roofs;
    const c = kernel.environment.ceilings!;
    expect(roofs).toHaveLength(3);
    expect(roofs[1].intensity).toBeCloseTo(c.scoreTileFlopsPerSec / c.streamReadBytesPerSec);
    expect(roofs[0].flopsPerSec).toBeCloseTo(c.streamReadBytesPerSec * roofs[0].intensity);
    expect(roofs[2].flopsPerSec).toBe(c.scoreTileFlopsPerSec);
  });

  it('several runs of one kind share charts, one series per run and arm, colours fixed with dense first', () => {
    const second = { ...kernel, run: { ...kernel.run, id: 'kernel-second' } };
    const rows = chartDatasets([kernel, second, server]);
    expect(new Set(rows.kernel_time.map((r) => r.series))).toEqual(
      new Set([`${kernel.run.id} dense`, `${kernel.run.id} skip`, 'kernel-second dense', 'kernel-second skip']),
    );
    expect(new Set(rows.server_latency.map((r) => r.series))).toEqual(new Set(['dense', 'skip']));
    const scales = seriesScales([kernel, second, server]);
    expect(scales.kernel.domain[0]).toBe(`${kernel.run.id} dense`);
    expect(new Set(scales.kernel.range).size).toBe(4);
    expect(scales.server.domain).toEqual(['dense', 'skip']);
  });
});

describe('the band around a speedup', () => {
  it('defaults to the bootstrap CI of the median paired ratio, labelled as such', () => {
    for (const row of chartDatasets([kernel, server]).kernel_speedup) {
      expect(row.lo).toBeLessThanOrEqual(row.paired);
      expect(row.hi).toBeGreaterThanOrEqual(row.paired);
      expect(row.band).toBe(BOOTSTRAP_BAND_LABEL);
    }
    expect(bootstrapBand([])).toBeUndefined();
  });

  it('offers the 2.5-97.5th percentiles of the paired ratios as an alternative band', () => {
    const band = percentileBand([1, 2, 3, 4, 5])!;
    expect(band.lo).toBeCloseTo(1.1);
    expect(band.hi).toBeCloseTo(4.9);
    expect(band.label).toBe(PERCENTILE_BAND_LABEL);
    expect(percentileBand([])).toBeUndefined();
  });

  it('takes another interval function (a bootstrap CI) through the same boundary', () => {
    const ci: SpeedupIntervalFn = (ratios) => ({
      lo: Math.min(...ratios) / 2,
      hi: Math.max(...ratios) * 2,
      label: 'bootstrap 95% CI',
    });
    const set = buildCharts([server], { interval: ci });
    const rows = set.datasets.server_speedup;
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.band).toBe('bootstrap 95% CI');
    expect(set.charts[0].caption).toContain('bootstrap 95% CI');
  });
});

describe('the band around an arm\'s median time (kernel time, TTFT and TPOT vs context)', () => {
  const panelOf = (cell: Cell) => (cell.kind === 'kernel' ? cell.phase : cell.phase === 'prefill' ? 'TTFT' : 'TPOT');

  it('is the bootstrap CI of the cell\'s headline median, as in the tables', () => {
    const data = chartDatasets([kernel, server]);
    for (const [rows, result] of [
      [data.kernel_time, kernel],
      [data.server_latency, server],
    ] as const) {
      expect(rows).toHaveLength(result.cells.length);
      for (const row of rows) {
        const cell = (result.cells as Cell[]).find(
          (c) => c.arm === row.arm && c.context === row.context && panelOf(c) === row.panel,
        )!;
        const ci = headlineMedianCI(cell);
        if (ci.kind !== 'interval') throw new Error(`${row.series} ${row.context}: expected an interval`);
        expect([row.lo, row.hi]).toEqual([ci.low, ci.high]);
        expect(row.ms).toBeCloseTo(ci.estimate, 9);
        expect(row.lo).toBeLessThanOrEqual(row.ms);
        expect(row.hi).toBeGreaterThanOrEqual(row.ms);
        expect(row.band.startsWith(MEDIAN_CI_BAND_LABEL)).toBe(true);
      }
    }
    // sampled prefill cells are scaled to the whole phase, bounds and all
    const scaled = kernel.cells.some((c) => c.provenance.kind === 'sampled');
    expect(data.kernel_time.some((r) => r.band.endsWith('scaled to the whole phase'))).toBe(scaled);
  });

  it('collapses to the median with a note below 3 samples', () => {
    const few = structuredClone(kernel);
    const cell = few.cells[0];
    cell.samples = cell.samples.filter((s) => s.status === 'ok').slice(0, 2);
    const row = chartDatasets([few]).kernel_time.find((r) => r.arm === cell.arm && r.context === cell.context)!;
    expect(row).toMatchObject({ lo: row.ms, hi: row.ms, band: 'no CI (n<3)' });
    const chart = buildCharts([few]).charts.find((c) => c.id === 'kernel-time')!;
    expect(chart.caption).toContain('no CI (n<3)');
  });

  it('is drawn like the speedup chart\'s CI band: a translucent area from lo to hi per arm', () => {
    const set = buildCharts([kernel, server]);
    type Layered = { spec: { layer: { mark: { type: string } }[] } };
    const areaOf = (id: string) => {
      const spec = set.charts.find((c) => c.id === id)!.spec as Layered;
      return JSON.stringify(spec.spec.layer.find((l) => l.mark.type === 'area')).replace(/"title":"[^"]*",?/g, '');
    };
    for (const id of ['kernel-time', 'server-latency']) {
      expect(areaOf(id)).toContain('"y2":{"field":"hi"}');
      expect(areaOf(id)).toContain('"mark":{"type":"area","opacity":0.2}');
      expect(JSON.parse(areaOf(id)).encoding.color).toEqual(JSON.parse(areaOf('kernel-speedup')).encoding.color);
      expect(set.charts.find((c) => c.id === id)!.caption).toContain(MEDIAN_CI_BAND_LABEL);
    }
  });
});
