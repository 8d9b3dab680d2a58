/**
 * The site's trend charts: how each run compares with the ones before it, per context length, from the run
 * summaries of runs.json (nothing is read from the result files again). Like reports/charts, the vega-lite specs
 * are pure and data-free, typed `TopLevelSpec`, and name their rows (`{ name: 'trend_kernel_speedup' }`); the rows
 * are separate named datasets.
 *
 * x is the time the run started (UTC); one line per context length (colour); one panel per phase or latency
 * (columns) and per arm (rows).
 */
import { type SkippedChart, splitCandidates } from '../charts/index.js';
import type { TopLevelSpec } from 'vega-lite';
import type { Field, PositionFieldDef } from 'vega-lite/types_unstable/channeldef.js';
import { PANEL_ORDER, TOKENS_LABEL_EXPR, tip } from '../charts/common.js';
import type { Phase, RunStatus } from '../schema.js';
import type { RunSummary } from './state.js';

interface TrendTagged {
  run: string;
  /** ISO 8601, as recorded. */
  startedAt: string;
  status: RunStatus;
  context: number;
  arm: string;
}

/** A skip arm's headline speedup in one run at one (context, phase). */
export interface TrendSpeedupRow extends TrendTagged {
  phase: Phase;
  /** Median of the per-round paired ratios dense / skip (x). */
  paired: number;
  /** Bootstrap 95% interval of that median (x); equal to `paired` when the run had one round. */
  lo: number;
  hi: number;
  rounds: number;
}

/** An arm's headline time in one run at one (context, panel). */
export interface TrendTimeRow extends TrendTagged {
  /** The phase (kernel: prefill, decode) or the latency (server: TTFT, TPOT). */
  panel: string;
  /** Kernel: time of the whole phase. Server: median TTFT or TPOT. */
  ms: number;
  n: number;
}

export interface TrendDatasets {
  trend_kernel_speedup: TrendSpeedupRow[];
  trend_kernel_time: TrendTimeRow[];
  trend_server_speedup: TrendSpeedupRow[];
  trend_server_latency: TrendTimeRow[];
}

export type TrendDatasetName = keyof TrendDatasets;

/** Rows in the order of the runs (as runs.json sorts them), then of each run's cells. */
export function trendDatasets(runs: readonly RunSummary[]): TrendDatasets {
  const data: TrendDatasets = {
    trend_kernel_speedup: [],
    trend_kernel_time: [],
    trend_server_speedup: [],
    trend_server_latency: [],
  };
  for (const run of runs) {
    const kernel = run.target === 'kernel';
    for (const cell of run.cells) {
      const tag: TrendTagged = {
        run: run.id,
        startedAt: run.startedAt,
        status: run.status,
        context: cell.context,
        arm: cell.arm,
      };
      const s = cell.speedup;
      if (s && s.medianPairedRatio !== null) {
        (kernel ? data.trend_kernel_speedup : data.trend_server_speedup).push({
          ...tag,
          phase: cell.phase,
          paired: s.medianPairedRatio,
          lo: s.ciLow ?? s.medianPairedRatio,
          hi: s.ciHigh ?? s.medianPairedRatio,
          rounds: s.rounds,
        });
      }
      const ms = kernel ? cell.fullMs : cell.medianMs;
      if (ms !== null && ms > 0) {
        const panel = kernel ? cell.phase : cell.phase === 'prefill' ? 'TTFT' : 'TPOT';
        (kernel ? data.trend_kernel_time : data.trend_server_latency).push({ ...tag, panel, ms, n: cell.n });
      }
    }
  }
  return data;
}

const PANEL_WIDTH = 340;
const PANEL_HEIGHT = 180;

/** When the run started, on a UTC time scale (its labels are UTC too: the same wherever the page is opened). */
const STARTED_X: PositionFieldDef<Field> = {
  field: 'startedAt',
  type: 'temporal',
  title: 'run started (UTC)',
  scale: { type: 'utc' },
  axis: { labelOverlap: 'greedy' },
};

/** One colour per context length, ascending, labelled like the report's axes (128K). */
const CONTEXT_COLOR = {
  field: 'context',
  type: 'nominal',
  title: 'context (tokens)',
  sort: 'ascending',
  legend: { labelExpr: TOKENS_LABEL_EXPR, symbolOpacity: 1 },
} as const;

/** The start as recorded (ISO 8601), not reformatted in the viewer's time zone. */
const STARTED_TIP = tip('startedAt', 'started');

function facet(column: string) {
  return {
    row: { field: 'arm', type: 'nominal', title: 'arm', header: { labelLimit: 240 } },
    column: { field: column, type: 'nominal', title: null, sort: PANEL_ORDER },
  } as const;
}

export interface TrendSpecOptions {
  /** Named dataset of TrendSpeedupRow (speedup) or TrendTimeRow (time). */
  data: string;
  title: string;
}

/** Speedup dense / skip over time: the paired median per context as a line, its bootstrap interval as a rule. */
export function trendSpeedupSpec(o: TrendSpecOptions): TopLevelSpec {
  const y = (field: string): PositionFieldDef<Field> => ({
    field,
    type: 'quantitative',
    title: 'speedup dense / skip (x)',
    scale: { zero: false },
  });
  return {
    title: o.title,
    data: { name: o.data },
    facet: facet('phase'),
    spec: {
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
      layer: [
        { mark: { type: 'rule', color: '#999', strokeDash: [2, 2] }, encoding: { y: { datum: 1 } } },
        {
          mark: { type: 'rule', opacity: 0.5 },
          encoding: { x: STARTED_X, y: y('lo'), y2: { field: 'hi' }, color: CONTEXT_COLOR },
        },
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: STARTED_X,
            y: y('paired'),
            color: CONTEXT_COLOR,
            tooltip: [
              tip('run'),
              STARTED_TIP,
              tip('status'),
              tip('arm'),
              tip('phase'),
              tip('context', 'context', 'd'),
              tip('paired', 'paired median', '.3f'),
              tip('lo', '95% CI low', '.3f'),
              tip('hi', '95% CI high', '.3f'),
              tip('rounds', 'rounds', 'd'),
            ],
          },
        },
      ],
    },
  };
}

/** A headline time over time per arm: one line per context, a log axis, independent per panel. */
export function trendTimeSpec(o: TrendSpecOptions & { yTitle: string }): TopLevelSpec {
  return {
    title: o.title,
    data: { name: o.data },
    facet: facet('panel'),
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
      mark: { type: 'line', point: true },
      encoding: {
        x: STARTED_X,
        y: { field: 'ms', type: 'quantitative', title: o.yTitle, scale: { type: 'log' } },
        color: CONTEXT_COLOR,
        tooltip: [
          tip('run'),
          STARTED_TIP,
          tip('status'),
          tip('arm'),
          tip('panel'),
          tip('context', 'context', 'd'),
          tip('ms', 'median (ms)', '.4~f'),
          tip('n', 'n', 'd'),
        ],
      },
    },
  };
}

export interface TrendChart {
  /** Stable: `trend-kernel-speedup`, `trend-kernel-time`, `trend-server-speedup`, `trend-server-latency`. */
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
  datasets: TrendDatasetName[];
}

export interface TrendChartSet {
  charts: TrendChart[];
  /** Charts left out for want of data, with the reason. */
  skipped: SkippedChart[];
  datasets: TrendDatasets;
}

/** The trend charts of the target kinds the runs have, in a fixed order; those without data are `skipped`. */
export function trendCharts(runs: readonly RunSummary[]): TrendChartSet {
  const datasets = trendDatasets(runs);
  const kinds = new Set(runs.map((r) => r.target));
  const all: (TrendChart & { missing: string | undefined })[] = [
    {
      id: 'trend-kernel-speedup',
      title: 'Kernel speedup over time',
      caption:
        'Per kernel run: the median of the per-round paired ratios dense / skip at each context length (one line per context), with its seeded bootstrap 95% interval. Dotted: parity (1x).',
      spec: trendSpeedupSpec({ data: 'trend_kernel_speedup', title: 'kernel speedup dense / skip' }),
      datasets: ['trend_kernel_speedup'],
      missing: datasets.trend_kernel_speedup.length ? undefined : 'no kernel run with a dense/skip pair',
    },
    {
      id: 'trend-kernel-time',
      title: 'Kernel time over time',
      caption:
        'Per kernel run and arm: the median time of one full phase at each context length (sampled prefill scaled to the whole phase).',
      spec: trendTimeSpec({ data: 'trend_kernel_time', title: 'kernel time per phase', yTitle: 'time per phase (ms)' }),
      datasets: ['trend_kernel_time'],
      missing: datasets.trend_kernel_time.length ? undefined : 'no kernel run with successful samples',
    },
    {
      id: 'trend-server-speedup',
      title: 'Server speedup over time',
      caption:
        'Per server run: the median of the per-round paired ratios dense / skip of TTFT (prefill) and TPOT (decode) at each context length, with its seeded bootstrap 95% interval. Dotted: parity (1x).',
      spec: trendSpeedupSpec({ data: 'trend_server_speedup', title: 'server speedup dense / skip' }),
      datasets: ['trend_server_speedup'],
      missing: datasets.trend_server_speedup.length ? undefined : 'no server run with a dense/skip pair',
    },
    {
      id: 'trend-server-latency',
      title: 'TTFT and TPOT over time',
      caption:
        'Per server run and arm: the median TTFT (prefill probes) and TPOT (decode runs) at each context length.',
      spec: trendTimeSpec({ data: 'trend_server_latency', title: 'TTFT and TPOT', yTitle: 'latency (ms)' }),
      datasets: ['trend_server_latency'],
      missing: datasets.trend_server_latency.length ? undefined : 'no server run with successful requests',
    },
  ];
  // a site of kernel runs only gets no notes about server charts, and the other way round
  const candidates = all.filter((c) => kinds.has(c.id.startsWith('trend-kernel') ? 'kernel' : 'server'));
  return { ...splitCandidates(candidates), datasets };
}
