/**
 * Result files -> the plain rows the charts read (vega-lite named datasets). Pure: nothing is re-measured, every
 * figure comes from the result file. Non-finite numbers are dropped here so no chart has to guard against them.
 *
 * Every row carries `run` (the run id) and `series` (the arm, prefixed by the run id when several results are
 * charted together), so one chart can hold several runs.
 */
import { BOOTSTRAP_DEFAULTS, type HeadlineInterval, headlineMedianCI, ratioMedianCI } from '../bootstrap.js';
import { anchorArms, comparisonRows } from '../comparison.js';
import { measuredRoof, ridgeOf } from '../roof.js';
import type { Cell, Distribution, KernelCell, ResultFile, ServerCell } from '../schema.js';
import { quantile } from '../stats.js';

/** A band around the paired speedup: its ends (x) and what it is, in words. */
export interface SpeedupInterval {
  lo: number;
  hi: number;
  label: string;
}

/**
 * How the band around a speedup is computed from the per-round paired ratios. The default is the bootstrap CI of the
 * median ratio (bootstrapBand); percentileBand (the spread of the ratios themselves) plugs in the same way.
 */
export type SpeedupIntervalFn = (pairedRatios: readonly number[]) => SpeedupInterval | undefined;

export const PERCENTILE_BAND_LABEL = '2.5–97.5th percentile of the per-round paired ratios (not a bootstrap CI)';

export const BOOTSTRAP_BAND_LABEL = 'bootstrap 95% CI of the median per-round paired ratio (percentile bootstrap, seeded)';

/** The band around an arm's median time (charts of time and TTFT/TPOT vs context). */
export const MEDIAN_CI_BAND_LABEL =
  `bootstrap ${BOOTSTRAP_DEFAULTS.level * 100}% CI of the median (percentile bootstrap, seeded)`;

/** The default band: the seeded percentile-bootstrap CI of the median paired ratio (reports/bootstrap.ts). */
export const bootstrapBand: SpeedupIntervalFn = (ratios) => {
  const finite = ratios.filter(Number.isFinite);
  if (finite.length === 0) return undefined;
  const ci = ratioMedianCI(finite);
  return { lo: ci.low, hi: ci.high, label: BOOTSTRAP_BAND_LABEL };
};

/** 2.5th and 97.5th percentiles (linear interpolation) of the paired ratios; with few rounds, close to min and max. */
export const percentileBand: SpeedupIntervalFn = (ratios) => {
  const finite = ratios.filter(Number.isFinite);
  if (finite.length === 0) return undefined;
  return { lo: quantile(finite, 0.025), hi: quantile(finite, 0.975), label: PERCENTILE_BAND_LABEL };
};

interface Tagged {
  run: string;
  series: string;
  arm: string;
  context: number;
}

/** Vega's tableau10, the default categorical scheme. */
export const SERIES_PALETTE = [
  '#4c78a8',
  '#f58518',
  '#e45756',
  '#72b7b2',
  '#54a24b',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
];

/** Colour of every series of one target kind, in arm order (dense first), so an arm keeps its colour in every chart. */
export interface SeriesScale {
  domain: string[];
  range: string[];
}

/** The series name of an arm: the arm, prefixed by the run id when several runs of the kind share the charts. */
function seriesNamer(results: readonly ResultFile[], result: ResultFile): (arm: string) => string {
  const several = results.filter((r) => r.target.kind === result.target.kind).length > 1;
  return (arm) => (several ? `${result.run.id} ${arm}` : arm);
}

export function seriesScales(results: readonly ResultFile[]): { kernel: SeriesScale; server: SeriesScale } {
  const scales = {
    kernel: { domain: [] as string[], range: [] as string[] },
    server: { domain: [] as string[], range: [] as string[] },
  };
  for (const result of results) {
    const scale = scales[result.target.kind];
    const seriesOf = seriesNamer(results, result);
    for (const arm of [...result.arms.map((a) => a.id), ...result.cells.map((c) => c.arm)]) {
      const series = seriesOf(arm);
      if (scale.domain.includes(series)) continue;
      scale.range.push(SERIES_PALETTE[scale.domain.length % SERIES_PALETTE.length]);
      scale.domain.push(series);
    }
  }
  return scales;
}

/** Speedup of a skip arm over dense at one (context, phase). */
export interface SpeedupRow extends Tagged {
  phase: string;
  /** Median of the per-round paired ratios (x). */
  paired: number;
  /** median(dense) / median(skip) (x). */
  ofMedians: number;
  lo: number;
  hi: number;
  band: string;
  rounds: number;
  /** 2 / (2 - s) for the measured sparsity (kernel only). */
  theory?: number;
  sparsity?: number;
}

/** A median time (ms) per (panel, context, arm) with the bootstrap CI of that median as its band. */
export interface TimeRow extends Tagged {
  /** Facet: the phase (kernel) or the latency (server: TTFT, TPOT). */
  panel: string;
  /** The median (ms). */
  ms: number;
  /** Bounds of its CI (ms); both equal ms where there is none (fewer than MIN_CI_SAMPLES samples). */
  lo: number;
  hi: number;
  band: string;
  /** Samples the median is taken over. */
  n: number;
}

/** One measured time (ms), for distributions. */
export interface SampleRow extends Tagged {
  panel: string;
  ms: number;
}

/** Median inter-token latency (ms) in one decode-position bucket. */
export interface PositionRow extends Tagged {
  position: number;
  ms: number;
  n: number;
}

/** Sparsity and output error of one head of a skip arm. */
export interface HeadRow extends Tagged {
  phase: string;
  head: number;
  pattern: string;
  sparsity: number;
  relativeL2: number;
  maxAbs: number;
}

/** One kernel cell on the roofline. */
export interface RooflinePointRow extends Tagged {
  phase: string;
  /** FLOP/byte of the work actually done. */
  intensity: number;
  /** FLOP/s actually executed. */
  flopsPerSec: number;
  bytesPerSec: number;
  bound: string;
}

/** A point of a run's measured roof: min(compute ceiling, bandwidth ceiling x intensity). */
export interface RoofRow {
  run: string;
  intensity: number;
  flopsPerSec: number;
  roof: string;
}

export interface ChartDatasets {
  kernel_speedup: SpeedupRow[];
  kernel_time: TimeRow[];
  kernel_samples: SampleRow[];
  kernel_heads: HeadRow[];
  kernel_roofline: RooflinePointRow[];
  kernel_roofs: RoofRow[];
  server_speedup: SpeedupRow[];
  server_latency: TimeRow[];
  server_samples: SampleRow[];
  server_positions: PositionRow[];
}

export type DatasetName = keyof ChartDatasets;

export interface ChartDataOptions {
  /** The band around each speedup (default: bootstrap CI of the median paired ratio, bootstrapBand). */
  interval?: SpeedupIntervalFn;
}

const finite = (...xs: (number | undefined)[]): boolean => xs.every((x) => x !== undefined && Number.isFinite(x));

export function chartDatasets(results: readonly ResultFile[], options: ChartDataOptions = {}): ChartDatasets {
  const interval = options.interval ?? bootstrapBand;
  const data: ChartDatasets = {
    kernel_speedup: [],
    kernel_time: [],
    kernel_samples: [],
    kernel_heads: [],
    kernel_roofline: [],
    kernel_roofs: [],
    server_speedup: [],
    server_latency: [],
    server_samples: [],
    server_positions: [],
  };
  for (const result of results) {
    const run = result.run.id;
    const kind = result.target.kind;
    const seriesOf = seriesNamer(results, result);
    const tag = (arm: string, context: number): Tagged => ({ run, series: seriesOf(arm), arm, context });
    (kind === 'kernel' ? data.kernel_speedup : data.server_speedup).push(...speedupRows(result, tag, interval));
    if (kind === 'kernel') {
      const cells = result.cells.filter((c): c is KernelCell => c.kind === 'kernel');
      const baseline = result.arms[0]?.id;
      const anchors = anchorArms(result);
      for (const cell of cells) {
        const t = tag(cell.arm, cell.context);
        data.kernel_time.push(...kernelTime(cell, t));
        for (const s of cell.samples) {
          if (s.status === 'ok' && finite(s.timeMs))
            data.kernel_samples.push({ ...t, panel: cell.phase, ms: s.timeMs });
        }
        if (cell.arm !== baseline && !anchors.has(cell.arm)) data.kernel_heads.push(...headRows(cell, t));
        const w = cell.work;
        if (
          finite(w.arithmeticIntensity, w.achievedFlopsPerSec) &&
          w.arithmeticIntensity > 0 &&
          w.achievedFlopsPerSec > 0
        ) {
          data.kernel_roofline.push({
            ...t,
            phase: cell.phase,
            intensity: w.arithmeticIntensity,
            flopsPerSec: w.achievedFlopsPerSec,
            bytesPerSec: w.achievedBytesPerSec,
            bound: w.bound,
          });
        }
      }
      data.kernel_roofs.push(
        ...roofRows(
          result,
          data.kernel_roofline.filter((r) => r.run === run),
        ),
      );
    } else {
      for (const cell of result.cells.filter((c): c is ServerCell => c.kind === 'server')) {
        const t = tag(cell.arm, cell.context);
        data.server_latency.push(...serverLatency(cell, t));
        data.server_samples.push(...serverSamples(cell, t));
        for (const b of cell.itlByPosition ?? []) {
          if (finite(b.position, b.medianMs))
            data.server_positions.push({ ...t, position: b.position, ms: b.medianMs, n: b.n });
        }
      }
    }
  }
  return data;
}

function speedupRows(
  result: ResultFile,
  tag: (arm: string, context: number) => Tagged,
  interval: SpeedupIntervalFn,
): SpeedupRow[] {
  const rows: SpeedupRow[] = [];
  for (const r of comparisonRows(result)) {
    const s = r.skip.speedup;
    // an anchor's ratio is dense against torch SDPA, not a skip speedup: its table says so, this chart would not
    if (r.anchor || !s || !finite(s.medianPairedRatio, s.ofMedians)) continue;
    const band = interval(s.pairedRatios);
    const sparsity = r.skip.kind === 'kernel' ? r.skip.work.sparsity : undefined;
    rows.push({
      ...tag(r.arm, r.context),
      phase: r.phase,
      paired: s.medianPairedRatio,
      ofMedians: s.ofMedians,
      lo: band && finite(band.lo) ? band.lo : s.medianPairedRatio,
      hi: band && finite(band.hi) ? band.hi : s.medianPairedRatio,
      band: band?.label ?? 'no paired rounds',
      rounds: s.pairedRatios.length,
      ...(finite(r.theoryBound) ? { theory: r.theoryBound } : {}),
      ...(finite(sparsity) ? { sparsity } : {}),
    });
  }
  return rows;
}

/** The band of a time row: the arm's headline interval (reports/bootstrap.ts), or none below the minimum samples. */
function medianBand(ms: number, ci: HeadlineInterval): Pick<TimeRow, 'lo' | 'hi' | 'band'> {
  if (ci.kind === 'too few') return { lo: ms, hi: ms, band: `no CI (n<${ci.minSamples})` };
  if (!finite(ci.low, ci.high)) return { lo: ms, hi: ms, band: 'no CI' };
  const band = ci.scale === 1 ? MEDIAN_CI_BAND_LABEL : `${MEDIAN_CI_BAND_LABEL}, scaled to the whole phase`;
  return { lo: ci.low, hi: ci.high, band };
}

/** The phase time (estimated for the whole phase when sampled) with the CI of that median, scaled alike. */
function kernelTime(cell: KernelCell, t: Tagged): TimeRow[] {
  const s = cell.summary;
  if (s.n === 0 || !finite(s.estimatedFullMs) || s.estimatedFullMs <= 0) return [];
  const band = medianBand(s.estimatedFullMs, headlineMedianCI(cell));
  return [{ ...t, panel: cell.phase, ms: s.estimatedFullMs, ...band, n: s.n }];
}

function latencyRow(cell: Cell, t: Tagged, panel: string, d: Distribution): TimeRow[] {
  if (d.n === 0 || !finite(d.p50)) return [];
  return [{ ...t, panel, ms: d.p50, ...medianBand(d.p50, headlineMedianCI(cell)), n: d.n }];
}

/** TTFT from the prefill probes, TPOT from the decode runs: p50 (the headline median) with its CI. */
function serverLatency(cell: ServerCell, t: Tagged): TimeRow[] {
  return cell.phase === 'prefill'
    ? latencyRow(cell, t, 'TTFT', cell.metrics.ttft)
    : latencyRow(cell, t, 'TPOT', cell.metrics.tpot);
}

/** Successful non-warmup requests: TTFT (prefill probes), TPOT and every inter-token gap (decode runs). */
function serverSamples(cell: ServerCell, t: Tagged): SampleRow[] {
  const rows: SampleRow[] = [];
  for (const s of cell.samples) {
    if (s.status !== 'ok' || s.warmup) continue;
    if (cell.phase === 'prefill') {
      if (finite(s.ttftMs)) rows.push({ ...t, panel: 'TTFT', ms: s.ttftMs! });
      continue;
    }
    if (finite(s.tpotMs)) rows.push({ ...t, panel: 'TPOT', ms: s.tpotMs! });
    for (const gap of s.itlMs ?? []) if (finite(gap)) rows.push({ ...t, panel: 'ITL', ms: gap });
  }
  return rows;
}

function headRows(cell: KernelCell, t: Tagged): HeadRow[] {
  return cell.heads
    .filter((h) => h.error && finite(h.sparsity, h.error.relativeL2))
    .map((h) => ({
      ...t,
      phase: cell.phase,
      head: h.head,
      pattern: h.pattern ?? 'unknown',
      sparsity: h.sparsity,
      relativeL2: h.error!.relativeL2,
      maxAbs: h.error!.maxAbs,
    }));
}

/**
 * The measured roof over the intensities charted: two straight segments on log-log axes, bandwidth x intensity up
 * to the ridge point, then the compute ceiling. Three points draw it.
 */
function roofRows(result: ResultFile, points: RooflinePointRow[]): RoofRow[] {
  const c = measuredRoof(result.environment);
  if (!c) return [];
  const ridge = ridgeOf(c);
  const intensities = points.map((p) => p.intensity);
  const lo = Math.min(ridge, ...intensities) / 4;
  const hi = Math.max(ridge, ...intensities) * 4;
  const roof = `${result.run.id} measured roof`;
  return [lo, ridge, hi].map((intensity) => ({
    run: result.run.id,
    intensity,
    flopsPerSec: Math.min(c.flopsPerSec, c.bytesPerSec * intensity),
    roof,
  }));
}
