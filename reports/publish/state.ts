/**
 * The site's state, `<site>/runs.json`: a versioned list of run summaries, sorted by start time then id. A summary
 * holds what the index and its trend charts need, per (context, phase, arm): the headline median and, for skip arms,
 * the speedup over dense with a summary of the per-round paired ratios. Pure: summaries come from the result alone.
 *
 * Units: times in ms, speedups as ratios dense / arm (x). A figure that is not a finite number is written `null`, so
 * every key is always present and the file's formatting never depends on the data.
 */
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import { ratioMedianCI } from '../bootstrap.js';
import { GateCodes, validateResult } from '../compare.js';
import type { Cell, Phase, ResultFile, RunStatus } from '../schema.js';
import { runFileName } from './slug.js';

export const SITE_SCHEMA = 'skipbench/site';
export const SITE_SCHEMA_VERSION = 1;

/** Where a site keeps its state and its pages, relative to the site folder (always `/`-separated). */
export const SITE_PATHS = {
  state: 'runs.json',
  index: 'index.html',
  runs: 'runs',
} as const;

export interface SiteState {
  schema: typeof SITE_SCHEMA;
  schemaVersion: typeof SITE_SCHEMA_VERSION;
  /** Sorted by startedAt (as a time), then id (UTF-16 code units: no locale). */
  runs: RunSummary[];
}

export interface RunSummary {
  /** run.id as recorded in the result. */
  id: string;
  /** The file name stem of the run's files: runFileName(id). */
  name: string;
  startedAt: string;
  finishedAt: string | null;
  status: RunStatus;
  target: 'kernel' | 'server';
  /** What ran, in words: the kernel implementation and threads, or the server model and software. */
  label: string;
  /** skipbench version that wrote the result. */
  skipbench: string;
  /** The run's report and its copy of the result, relative to the site folder. */
  files: { report: string; result: string };
  /** Arm ids, baseline (dense) first. */
  arms: string[];
  cells: CellSummary[];
}

export interface CellSummary {
  context: number;
  phase: Phase;
  arm: string;
  /** Successful samples (kernel) or non-warmup requests (server), and failed ones. */
  n: number;
  failed: number;
  /**
   * The headline median (ms): the kernel's time of one call over the computed work (the sample, when sampled), or
   * the server's median TTFT (prefill) or TPOT (decode).
   */
  medianMs: number | null;
  /** Time of the whole phase (ms): medianMs, scaled to the whole phase when a kernel prefill was sampled. */
  fullMs: number | null;
  /** Other processes used more CPU than the run allowed while this cell was measured. */
  disturbed: boolean;
  /** Versus the baseline arm; null for the baseline itself and for cells without paired rounds. */
  speedup: SpeedupSummary | null;
}

export interface SpeedupSummary {
  baselineArm: string;
  /** median(baseline) / median(this arm) (x). */
  ofMedians: number | null;
  /** Median of the per-round paired ratios baseline / this arm (x): the headline speedup. */
  medianPairedRatio: number | null;
  /** Paired rounds, and the smallest and largest paired ratio (x). */
  rounds: number;
  min: number | null;
  max: number | null;
  /** Seeded percentile-bootstrap 95% interval of the median paired ratio (reports/bootstrap.ts defaults). */
  ciLow: number | null;
  ciHigh: number | null;
}

export type RunChangeAction = 'added' | 'replaced';

export interface RunChange {
  id: string;
  name: string;
  action: RunChangeAction;
}

export function emptySiteState(): SiteState {
  return { schema: SITE_SCHEMA, schemaVersion: SITE_SCHEMA_VERSION, runs: [] };
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

function speedupSummary(cell: Cell): SpeedupSummary | null {
  const s = cell.speedup;
  if (!s) return null;
  const ratios = (Array.isArray(s.pairedRatios) ? s.pairedRatios : []).filter(
    (r): r is number => typeof r === 'number' && Number.isFinite(r),
  );
  const ci = ratios.length ? ratioMedianCI(ratios) : undefined;
  return {
    baselineArm: String(s.baselineArm),
    ofMedians: num(s.ofMedians),
    medianPairedRatio: num(s.medianPairedRatio),
    rounds: ratios.length,
    min: ratios.length ? Math.min(...ratios) : null,
    max: ratios.length ? Math.max(...ratios) : null,
    ciLow: num(ci?.low),
    ciHigh: num(ci?.high),
  };
}

function cellSummary(cell: Cell): CellSummary {
  const s = cell.summary;
  return {
    context: cell.context,
    phase: cell.phase,
    arm: cell.arm,
    n: num(s.n) ?? 0,
    failed: num(s.failed) ?? 0,
    medianMs: s.n > 0 ? num(s.medianMs) : null,
    fullMs: s.n > 0 ? num(s.estimatedFullMs) : null,
    disturbed: cell.disturbed === true,
    speedup: speedupSummary(cell),
  };
}

function label(result: ResultFile): string {
  const t = result.target;
  if (t.kind === 'kernel' && t.device) return `${t.implementation} on ${t.device.name}`;
  if (t.kind === 'kernel') return `${t.implementation}, ${t.threads} thread${t.threads === 1 ? '' : 's'}`;
  return `${t.model ?? 'no model named'}${t.server ? ` on ${t.server}` : ''}`;
}

/** The file name stem of a run and its files, relative to the site folder. */
export function runFiles(id: string): Pick<RunSummary, 'name' | 'files'> {
  const name = runFileName(id);
  return { name, files: { report: `${SITE_PATHS.runs}/${name}.html`, result: `${SITE_PATHS.runs}/${name}.json` } };
}

/** The summary of one result, with the names of its files on the site. */
export function summarizeRun(result: ResultFile): RunSummary {
  const { name, files } = runFiles(result.run.id);
  return {
    id: result.run.id,
    name,
    startedAt: result.run.startedAt,
    finishedAt: result.run.finishedAt ?? null,
    status: result.run.status,
    target: result.target.kind,
    label: label(result),
    skipbench: String(result.environment?.skipbench ?? 'unknown'),
    files,
    arms: result.arms.map((a) => a.id),
    cells: result.cells.map(cellSummary),
  };
}

const timeOf = (iso: string): number => {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : Number.POSITIVE_INFINITY;
};

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The site's order: start time, then id (unique in a site, so the order is total); never locale-dependent. */
export function compareRuns(a: RunSummary, b: RunSummary): number {
  const ta = timeOf(a.startedAt);
  const tb = timeOf(b.startedAt);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return byText(a.id, b.id);
}

/**
 * Adds runs to the state: a run whose id is already there replaces it (so publishing the same result again changes
 * nothing), every other is added; the list is re-sorted. Returns the new state and what happened to each run.
 */
export function mergeRuns(
  state: SiteState,
  summaries: readonly RunSummary[],
): { state: SiteState; changes: RunChange[] } {
  const runs = new Map(state.runs.map((r) => [r.id, r]));
  const changes: RunChange[] = summaries.map((s) => ({
    id: s.id,
    name: s.name,
    action: runs.has(s.id) ? 'replaced' : 'added',
  }));
  for (const s of summaries) runs.set(s.id, s);
  return {
    state: { schema: SITE_SCHEMA, schemaVersion: SITE_SCHEMA_VERSION, runs: [...runs.values()].sort(compareRuns) },
    changes,
  };
}

/** runs.json as written: two-space indented JSON and a final newline. */
export function serializeSiteState(state: SiteState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Reads runs.json's text, refusing anything that is not this site schema (SKB_RESULT naming `path`). */
export function parseSiteState(text: string, path: string): SiteState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SkipbenchError(ErrorCodes.RESULT, `cannot read ${path}: ${(error as Error).message}`, { field: path });
  }
  const ok =
    isObject(value) &&
    value.schema === SITE_SCHEMA &&
    value.schemaVersion === SITE_SCHEMA_VERSION &&
    Array.isArray(value.runs) &&
    value.runs.every(
      (r) => isObject(r) && typeof r.id === 'string' && typeof r.startedAt === 'string' && Array.isArray(r.cells),
    );
  if (!ok) {
    throw new SkipbenchError(ErrorCodes.RESULT, `${path} is not a ${SITE_SCHEMA} v${SITE_SCHEMA_VERSION} file`, {
      field: path,
      allowed: `${SITE_SCHEMA} v${SITE_SCHEMA_VERSION}`,
    });
  }
  const state = value as unknown as SiteState;
  // the names are derived, never trusted from the file: an edited runs.json cannot point a page elsewhere
  return { ...state, runs: state.runs.map((r) => ({ ...r, ...runFiles(r.id) })).sort(compareRuns) };
}

/**
 * Why a result cannot be published, or nothing: the gate's structural checks (reports/compare.ts validateResult;
 * a result without cells is fine: an interrupted run is still part of the history) and a run with an id and a
 * start time.
 */
export function publishProblems(value: unknown): string[] {
  const problems = validateResult(value, 'current')
    .filter((n) => n.code !== GateCodes.EMPTY)
    .map((n) => n.message);
  if (problems.length) return problems;
  const run = (value as Record<string, unknown>).run;
  if (!isObject(run) || typeof run.id !== 'string' || run.id === '') return ['run.id is missing or empty'];
  if (typeof run.startedAt !== 'string' || !Number.isFinite(Date.parse(run.startedAt))) {
    return ['run.startedAt is not a date-time'];
  }
  return [];
}
