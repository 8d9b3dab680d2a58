/**
 * Which charts a set of results gets: the data-free specs, the named datasets they read, and a note for every
 * chart left out for want of data. Kernel and server results get their own charts (their times mean different
 * things); several results of one kind share a chart, one series per run and arm.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ResultFile } from '../schema.js';
import { accuracySpec } from './accuracy.js';
import { cdfSpec } from './cdf.js';
import { withDatasets } from './common.js';
import {
  type ChartDataOptions,
  type ChartDatasets,
  chartDatasets,
  type DatasetName,
  type SeriesScale,
  seriesScales,
} from './data.js';
import { positionSpec } from './position.js';
import { rooflineSpec } from './roofline.js';
import { speedupSpec } from './speedup.js';
import { timeSpec } from './time.js';

export interface Chart {
  /** Stable, e.g. `kernel-speedup`; also the file name of its SVG/PNG. */
  id: string;
  title: string;
  /** What is drawn and how it was obtained, in words. */
  caption: string;
  spec: TopLevelSpec;
  /** The named datasets the spec reads. */
  datasets: DatasetName[];
}

export interface SkippedChart {
  id: string;
  title: string;
  reason: string;
}

export interface ChartSet {
  charts: Chart[];
  skipped: SkippedChart[];
  datasets: ChartDatasets;
}

interface Candidate extends Chart {
  /** Why there is nothing to draw, or undefined when there is. */
  missing?: string;
}

/** Charts with data to draw, and the others with the reason each is left out. */
export function splitCandidates<C extends { id: string; title: string; missing?: string }>(
  candidates: readonly C[],
): { charts: Omit<C, 'missing'>[]; skipped: SkippedChart[] } {
  return {
    charts: candidates.filter((c) => !c.missing).map(({ missing: _, ...chart }) => chart),
    skipped: candidates.filter((c) => c.missing).map((c) => ({ id: c.id, title: c.title, reason: c.missing! })),
  };
}

function bandCaption(rows: { band: string }[]): string {
  const bands = [...new Set(rows.map((r) => r.band))];
  return bands.length ? `Band: ${bands.join('; ')}.` : '';
}

function kernelCandidates(d: ChartDatasets, colors: SeriesScale): Candidate[] {
  const roofs = d.kernel_roofs.length > 0;
  return [
    {
      id: 'kernel-speedup',
      title: 'Kernel speedup vs context length',
      caption: `Line: median of the per-round paired ratios dense / skip. ${bandCaption(d.kernel_speedup)} Dashed: the theory bound 2/(2-s) for the measured tile sparsity s. Dotted: parity (1x).`,
      spec: speedupSpec({ data: 'kernel_speedup', title: 'speedup dense / skip', theory: true, colors }),
      datasets: ['kernel_speedup'],
      missing: d.kernel_speedup.length ? undefined : 'no dense/skip pair with paired rounds',
    },
    {
      id: 'kernel-time',
      title: 'Kernel time vs context length per arm',
      caption: `Line: median time of one full phase (sampled prefill scaled to the whole phase). ${bandCaption(d.kernel_time)}`,
      spec: timeSpec({ data: 'kernel_time', title: 'time per phase', yTitle: 'time per phase (ms)', colors }),
      datasets: ['kernel_time'],
      missing: d.kernel_time.length ? undefined : 'no successful samples',
    },
    {
      id: 'kernel-cdf',
      title: 'Distribution of kernel sample times',
      caption:
        'Empirical CDF of the time of one kernel call over the computed work (the sample, when sampled), per context and phase.',
      spec: cdfSpec({ data: 'kernel_samples', title: 'sample times (CDF)', xTitle: 'time of one call (ms)', colors }),
      datasets: ['kernel_samples'],
      missing: d.kernel_samples.length ? undefined : 'no successful samples',
    },
    {
      id: 'kernel-accuracy',
      title: 'Sparsity vs output error per head',
      caption:
        'Per head of every skip arm: tile sparsity against the relative L2 error of the output vs dense (log axis; heads with exactly zero error are not drawn). Prefill decides per query head, decode per KV head.',
      spec: accuracySpec({ data: 'kernel_heads', title: 'sparsity vs relative error' }),
      datasets: ['kernel_heads'],
      missing: d.kernel_heads.some((r) => r.relativeL2 > 0)
        ? undefined
        : 'no skip-arm head with a non-zero error vs dense',
    },
    {
      id: 'kernel-roofline',
      title: 'Kernel roofline',
      caption: roofs
        ? 'Every cell: FLOP/byte of the work done against FLOP/s executed. Roof: min(compute ceiling, bandwidth ceiling x intensity), from the ceilings measured on the machine (CPU: q·k tile FLOP/s and stream read bytes/s; GPU: bf16 GEMM FLOP/s and device copy bytes/s).'
        : 'Every cell: FLOP/byte of the work done against FLOP/s executed. No roof drawn: the results hold no measured ceilings (the reference kernel does not probe them).',
      spec: rooflineSpec({
        data: 'kernel_roofline',
        ...(roofs ? { roofs: 'kernel_roofs' } : {}),
        title: 'roofline',
        colors,
      }),
      datasets: roofs ? ['kernel_roofline', 'kernel_roofs'] : ['kernel_roofline'],
      missing: d.kernel_roofline.length ? undefined : 'no cell with work counters and a time',
    },
  ];
}

function serverCandidates(d: ChartDatasets, colors: SeriesScale): Candidate[] {
  return [
    {
      id: 'server-speedup',
      title: 'Server speedup vs context length',
      caption: `Line: median of the per-round paired ratios dense / skip of TTFT (prefill probes) and TPOT (decode runs). ${bandCaption(d.server_speedup)} Dotted: parity (1x). No theory line: servers report no sparsity.`,
      spec: speedupSpec({ data: 'server_speedup', title: 'speedup dense / skip', theory: false, colors }),
      datasets: ['server_speedup'],
      missing: d.server_speedup.length ? undefined : 'no dense/skip pair with paired rounds',
    },
    {
      id: 'server-latency',
      title: 'TTFT and TPOT vs context length per arm',
      caption: `Line: p50 over the successful non-warmup requests; TTFT from the prefill probes, TPOT from the decode runs. ${bandCaption(d.server_latency)}`,
      spec: timeSpec({ data: 'server_latency', title: 'TTFT and TPOT', yTitle: 'latency (ms)', colors }),
      datasets: ['server_latency'],
      missing: d.server_latency.length ? undefined : 'no successful requests',
    },
    {
      id: 'server-cdf',
      title: 'Latency distributions',
      caption:
        'Empirical CDFs over the successful non-warmup requests: TTFT (prefill probes), TPOT and every inter-token gap (decode runs).',
      spec: cdfSpec({ data: 'server_samples', title: 'latency (CDF)', xTitle: 'latency (ms)', colors }),
      datasets: ['server_samples'],
      missing: d.server_samples.length ? undefined : 'no successful requests',
    },
    {
      id: 'server-position',
      title: 'Inter-token latency vs decode position',
      caption:
        'Median ITL per decode-position bucket: the KV length grows while decoding, so skipping should matter more later.',
      spec: positionSpec({ data: 'server_positions', title: 'ITL by decode position', colors }),
      datasets: ['server_positions'],
      missing: d.server_positions.length ? undefined : 'no decode cell recorded ITL by position',
    },
  ];
}

export function buildCharts(results: readonly ResultFile[], options: ChartDataOptions = {}): ChartSet {
  const datasets = chartDatasets(results, options);
  const colors = seriesScales(results);
  const kinds = new Set(results.map((r) => r.target.kind));
  const candidates = [
    ...(kinds.has('kernel') ? kernelCandidates(datasets, colors.kernel) : []),
    ...(kinds.has('server') ? serverCandidates(datasets, colors.server) : []),
  ];
  const { charts, skipped } = splitCandidates(candidates);
  if (kinds.has('server')) {
    skipped.push({
      id: 'server-accuracy',
      title: 'Sparsity vs error',
      reason: 'servers report neither tile sparsity nor output error; run the kernel target for them',
    });
  }
  return { charts, skipped, datasets };
}

/** The chart's spec with the rows it reads as top-level datasets: what vega-embed or vega-lite's compile take. */
export function chartWithData(chart: Chart, datasets: ChartDatasets): TopLevelSpec {
  return withDatasets(chart.spec, Object.fromEntries(chart.datasets.map((name) => [name, datasets[name]])));
}

export { accuracySpec, cdfSpec, positionSpec, rooflineSpec, speedupSpec, timeSpec, withDatasets };
export * from './data.js';
