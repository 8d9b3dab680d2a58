/**
 * The gate's verdict: its machine-readable shape (written by `skipbench compare --out`) and its two text renderings,
 * a terminal table and Markdown for a CI step summary. Renderers are pure `(verdict) => string`; only the CLI prints.
 */
import type { SpeedupVerdict } from './bootstrap.js';
import { formatMs, formatPercent, formatRatio, formatTokens } from './format.js';
import type { Phase } from './schema.js';

export const VERDICT_SCHEMA = 'skipbench/verdict';
export const VERDICT_SCHEMA_VERSION = 1;

/** pass: nothing regressed; regression: a row regressed or a floor is violated; unusable: the inputs cannot be judged. */
export type GateStatus = 'pass' | 'regression' | 'unusable';

/** speedup: median paired ratio dense / skip (higher is better); latency: the cell's headline time, ms (lower is better). */
export type GateMetric = 'speedup' | 'latency';
export const GATE_METRICS: readonly GateMetric[] = ['speedup', 'latency'];

/**
 * ok: within the threshold, or not distinguishable from noise in the better direction; improved: better by more than
 * the threshold and the intervals do not overlap; regression: worse by more than the threshold and the intervals do
 * not overlap; inconclusive: worse by more than the threshold but the intervals overlap (reported, does not fail);
 * new: only in the current file (not gated); unusable: a figure is missing on either side (see problems).
 */
export type RowStatus = 'ok' | 'improved' | 'regression' | 'inconclusive' | 'new' | 'unusable';

/** A median with its bootstrap interval, in the row's unit. */
export interface Estimate {
  estimate: number;
  low: number;
  high: number;
  /** Values behind it: samples (latency) or rounds (speedup). */
  n: number;
}

export interface GateRow {
  context: number;
  phase: Phase;
  arm: string;
  metric: GateMetric;
  /** What the latency is: the kernel call time, or the server's TTFT (prefill) or TPOT (decode). */
  measure: 'speedup' | 'kernel time' | 'TTFT' | 'TPOT';
  /** 'x' for speedups (dimensionless), 'ms' for latencies. */
  unit: 'x' | 'ms';
  baseline?: Estimate;
  current?: Estimate;
  /** current.estimate / baseline.estimate - 1 (negative = lower); absent when either is missing. */
  change?: number;
  status: RowStatus;
  /** Speedup rows: whether the current interval lies above 1 (skip faster), below it, or straddles it. */
  verdict?: SpeedupVerdict;
}

/** A minimum on the current file's speedup, e.g. prefill at 32K and longer must not be slower than dense. */
export interface Floor {
  metric: 'speedup';
  /** Phase it applies to; absent = both. */
  phase?: Phase;
  /** Applies to contexts >= this (tokens); absent = all. */
  minContext?: number;
  /** Skip arm it applies to; absent = every skip arm. */
  arm?: string;
  /** The minimum speedup (dense / skip). */
  min: number;
}

/** violated: the whole current interval lies below the floor; inconclusive: the median is below but the interval reaches it. */
export interface FloorCheck {
  floor: Floor;
  context: number;
  phase: Phase;
  arm: string;
  current: Estimate;
  status: 'ok' | 'violated' | 'inconclusive';
}

/** A reason the verdict is unusable (problems) or a remark that does not change it (warnings). Codes are stable. */
export interface GateNote {
  code: string;
  message: string;
  /** Which input: 'baseline', 'current' or 'both'. */
  file?: 'baseline' | 'current' | 'both';
  context?: number;
  phase?: Phase;
  arm?: string;
}

export interface InputInfo {
  path?: string;
  runId?: string;
  startedAt?: string;
  target?: string;
}

export interface ResolvedCompareOptions {
  /** Relative change beyond which a difference matters (0.05 = 5%). */
  threshold: number;
  metrics: GateMetric[];
  floors: Floor[];
  /** Cells with fewer successful samples (or paired rounds) than this make the verdict unusable. */
  minSamples: number;
  level: number;
  resamples: number;
  seed: number;
}

export interface GateVerdict {
  schema: typeof VERDICT_SCHEMA;
  schemaVersion: typeof VERDICT_SCHEMA_VERSION;
  status: GateStatus;
  inputs: { baseline: InputInfo; current: InputInfo };
  options: ResolvedCompareOptions;
  rows: GateRow[];
  floors: FloorCheck[];
  /** Non-empty exactly when status is 'unusable'. */
  problems: GateNote[];
  warnings: GateNote[];
  /** The statistical method, in words. */
  method: string;
}

export const EXIT_CODES: Record<GateStatus, number> = { pass: 0, regression: 1, unusable: 2 };

// -- formatting ----------------------------------------------------------------------------------------------------

function value(unit: GateRow['unit'], x: number): string {
  return unit === 'x' ? formatRatio(x) : formatMs(x);
}

function estimate(unit: GateRow['unit'], e: Estimate | undefined): string {
  if (!e) return '—';
  const bound = (x: number) => (unit === 'x' ? (Number.isFinite(x) ? x.toFixed(2) : '—') : formatMs(x));
  return `${value(unit, e.estimate)} [${bound(e.low)}, ${bound(e.high)}]`;
}

function signedPercent(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  return `${x >= 0 ? '+' : ''}${formatPercent(x)}`;
}

const ROW_HEADER = ['context', 'phase', 'arm', 'metric', 'baseline', 'current', 'change', 'status'];

function rowCells(r: GateRow): string[] {
  const status = r.verdict && r.status !== 'unusable' ? `${r.status} (${r.verdict})` : r.status;
  return [
    formatTokens(r.context),
    r.phase,
    r.arm,
    r.measure,
    estimate(r.unit, r.baseline),
    estimate(r.unit, r.current),
    signedPercent(r.change),
    status,
  ];
}

function floorText(f: Floor): string {
  const where = [
    f.phase ?? 'any phase',
    f.minContext ? `>= ${formatTokens(f.minContext)}` : 'any context',
    f.arm ?? 'every skip arm',
  ];
  return `speedup >= ${f.min} (${where.join(', ')})`;
}

const FLOOR_HEADER = ['context', 'phase', 'arm', 'floor', 'current', 'status'];

function floorCells(c: FloorCheck): string[] {
  return [formatTokens(c.context), c.phase, c.arm, floorText(c.floor), estimate('x', c.current), c.status];
}

/** "message (file context phase arm) [code]". */
export function formatNote(n: GateNote): string {
  const where = [n.file, n.context !== undefined ? formatTokens(n.context) : undefined, n.phase, n.arm]
    .filter(Boolean)
    .join(' ');
  return `${n.message}${where ? ` (${where})` : ''} [${n.code}]`;
}

export function verdictHeadline(v: GateVerdict): string {
  if (v.status === 'unusable') return `UNUSABLE: ${v.problems.length} problem(s) with the inputs`;
  const regressed = v.rows.filter((r) => r.status === 'regression').length;
  const violated = v.floors.filter((f) => f.status === 'violated').length;
  if (v.status === 'regression') return `REGRESSION: ${regressed} row(s) regressed, ${violated} floor(s) violated`;
  return `PASS: ${v.rows.length} row(s), ${v.floors.length} floor check(s), threshold ${formatPercent(v.options.threshold)}`;
}

function pad(cells: string[][]): string {
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The terminal rendering: status line, rows, floors, problems and warnings. */
export function renderVerdictTable(v: GateVerdict): string {
  const parts = [verdictHeadline(v)];
  if (v.rows.length) parts.push(pad([ROW_HEADER, ...v.rows.map(rowCells)]));
  if (v.floors.length) parts.push(pad([FLOOR_HEADER, ...v.floors.map(floorCells)]));
  if (v.problems.length) parts.push(['Problems:', ...v.problems.map((n) => `  ${formatNote(n)}`)].join('\n'));
  if (v.warnings.length) parts.push(['Warnings:', ...v.warnings.map((n) => `  ${formatNote(n)}`)].join('\n'));
  parts.push(v.method);
  return `${parts.join('\n\n')}\n`;
}

function mdTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`. */
export function renderVerdictMarkdown(v: GateVerdict): string {
  const parts = [`## skipbench gate: ${verdictHeadline(v)}`];
  const input = (k: 'baseline' | 'current') => {
    const i = v.inputs[k];
    return [`- ${k}:`, i.path, i.runId ? `(run ${i.runId})` : undefined].filter(Boolean).join(' ');
  };
  parts.push(`${input('baseline')}\n${input('current')}`);
  if (v.problems.length) parts.push(['### Problems', '', ...v.problems.map((n) => `- ${formatNote(n)}`)].join('\n'));
  if (v.rows.length) parts.push(mdTable(ROW_HEADER, v.rows.map(rowCells)));
  if (v.floors.length) parts.push(['### Floors', '', mdTable(FLOOR_HEADER, v.floors.map(floorCells))].join('\n'));
  if (v.warnings.length) parts.push(['### Warnings', '', ...v.warnings.map((n) => `- ${formatNote(n)}`)].join('\n'));
  parts.push(`_${v.method}_`);
  return `${parts.join('\n\n')}\n`;
}
