/**
 * The gate: a pure comparison of two result files (baseline, current) that reuses the report statistics. No I/O.
 *
 * Per (context, phase, arm) it compares
 *  - speedup (skip arms): the median of the per-round paired ratios dense / skip recorded in `speedup.pairedRatios`,
 *    with a percentile-bootstrap interval over rounds (higher is better);
 *  - latency (every arm): `summary.medianMs`, the headline time (kernel call time; server TTFT in prefill, TPOT in
 *    decode), with a percentile-bootstrap interval over the cell's successful non-warmup samples (lower is better).
 *
 * A row regresses when (1) its median is worse than the baseline's by more than `threshold` (relative: speedup below
 * baseline * (1 - t), latency above baseline * (1 + t)) AND (2) the two intervals do not overlap (current upper bound
 * below the baseline's lower bound for speedups; current lower bound above the baseline's upper bound for latency).
 * (1) is the size that matters, (2) says it is not noise: non-overlap of two 95% intervals is a conservative test
 * (about p < 0.006 for intervals of equal width), which keeps false alarms rare when a gate checks dozens of rows.
 * Worse by more than the threshold with overlapping intervals is 'inconclusive': reported, not failed.
 *
 * A floor (a minimum speedup, e.g. prefill at >= 32K must be >= 1.0) is violated when the current interval's upper
 * bound is below it (confidently below); a median below the floor with the interval reaching it is 'inconclusive'.
 *
 * Anchor arms (GPU runs: torch SDPA timed beside dense) are not gated: their cells get no rows and no floor applies
 * to them; a warning says so.
 *
 * Fail closed: anything that prevents a judgement (wrong schema or version, different target kinds or workloads, no
 * cells, a baseline cell missing from the current file, a missing or NaN figure, too few samples, a floor that
 * matches no cell) makes the verdict 'unusable', with every reason in `problems`.
 */
import { ErrorCodes, invalid, SkipbenchError } from '../kernels/errors.js';
import {
  BOOTSTRAP_DEFAULTS,
  bootstrapMedianCI,
  headlineSamples,
  ratioMedianCI,
  resolveBootstrapOptions,
  verdict as speedupVerdict,
} from './bootstrap.js';
import { anchorArms } from './comparison.js';
import { PHASES, RESULT_SCHEMA, RESULT_SCHEMA_VERSION, type Cell, type ResultFile } from './schema.js';
import {
  type Estimate,
  type Floor,
  type FloorCheck,
  GATE_METRICS,
  type GateMetric,
  type GateNote,
  type GateRow,
  type GateVerdict,
  type ResolvedCompareOptions,
  VERDICT_SCHEMA,
  VERDICT_SCHEMA_VERSION,
} from './verdict.js';

export type CompareOptions = { [K in keyof ResolvedCompareOptions]?: ResolvedCompareOptions[K] };

export const COMPARE_DEFAULTS: ResolvedCompareOptions = {
  threshold: 0.05,
  metrics: [...GATE_METRICS],
  floors: [],
  minSamples: 5,
  ...BOOTSTRAP_DEFAULTS,
};

/** Stable codes of the verdict's problems and warnings. */
export const GateCodes = {
  UNREADABLE: 'unreadable',
  SCHEMA: 'schema',
  TARGET: 'target',
  ARMS: 'arms',
  EMPTY: 'empty',
  DUPLICATE_CELL: 'duplicate-cell',
  MISSING_CELL: 'missing-cell',
  MISSING_METRIC: 'missing-metric',
  TOO_FEW_SAMPLES: 'too-few-samples',
  INCONSISTENT: 'inconsistent',
  PROVENANCE: 'provenance',
  PREFIX_CACHE: 'prefix-cache',
  FLOOR_UNMATCHED: 'floor-unmatched',
  // warnings only
  NEW_CELL: 'new-cell',
  RUN_STATUS: 'run-status',
  DISTURBED: 'disturbed',
  HOST: 'host',
  TARGET_CHANGED: 'target-changed',
  ARM_CHANGED: 'arm-changed',
  ANCHORS: 'anchors-not-gated',
} as const;

/** Validated options with defaults; throws SKB_CONFIG naming the option. */
export function resolveCompareOptions(user: CompareOptions = {}): ResolvedCompareOptions {
  const o: ResolvedCompareOptions = {
    ...COMPARE_DEFAULTS,
    ...user,
    metrics: [...(user.metrics ?? COMPARE_DEFAULTS.metrics)],
    floors: [...(user.floors ?? [])],
  };
  if (!(Number.isFinite(o.threshold) && o.threshold >= 0 && o.threshold < 1))
    throw invalid(ErrorCodes.CONFIG, 'threshold', 'a fraction in [0, 1)', o.threshold);
  if (o.metrics.length === 0 || !o.metrics.every((m) => GATE_METRICS.includes(m)))
    throw invalid(ErrorCodes.CONFIG, 'metrics', GATE_METRICS.join(' | '), o.metrics);
  if (!(Number.isInteger(o.minSamples) && o.minSamples >= 1))
    throw invalid(ErrorCodes.CONFIG, 'minSamples', 'an integer >= 1', o.minSamples);
  for (const f of o.floors) {
    const ok =
      f.metric === 'speedup' &&
      Number.isFinite(f.min) &&
      f.min > 0 &&
      (f.phase === undefined || PHASES.includes(f.phase)) &&
      (f.minContext === undefined || (Number.isInteger(f.minContext) && f.minContext >= 1));
    if (!ok)
      throw invalid(
        ErrorCodes.CONFIG,
        'floors',
        '{ metric: "speedup", phase?: prefill | decode, minContext?: tokens, arm?, min > 0 }',
        f,
      );
  }
  try {
    resolveBootstrapOptions(o);
  } catch (error) {
    if (!(error instanceof SkipbenchError)) throw error;
    throw new SkipbenchError(ErrorCodes.CONFIG, error.message, {
      field: error.field,
      allowed: error.allowed,
      received: error.received,
    });
  }
  return o;
}

const keyOf = (c: Pick<Cell, 'context' | 'phase' | 'arm'>) => `${c.context}|${c.phase}|${c.arm}`;
const at = (c: Pick<Cell, 'context' | 'phase' | 'arm'>) => ({ context: c.context, phase: c.phase, arm: c.arm });
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
type Where = Partial<Pick<Cell, 'context' | 'phase' | 'arm'>>;
const note = (code: string, file: GateNote['file'], message: string, where: Where = {}): GateNote => ({
  code,
  message,
  file,
  ...where,
});

/** Structural checks of one input; problems say what is wrong, in which file. */
export function validateResult(value: unknown, file: 'baseline' | 'current'): GateNote[] {
  const problem = (code: string, message: string): GateNote[] => [note(code, file, message)];
  if (!isObject(value)) return problem(GateCodes.SCHEMA, 'not a JSON object');
  if (value.schema !== RESULT_SCHEMA || value.schemaVersion !== RESULT_SCHEMA_VERSION) {
    return problem(
      GateCodes.SCHEMA,
      `not a ${RESULT_SCHEMA} v${RESULT_SCHEMA_VERSION} file (schema ${String(value.schema)}, version ${String(value.schemaVersion)})`,
    );
  }
  const target = value.target;
  if (!isObject(target) || (target.kind !== 'kernel' && target.kind !== 'server')) {
    return problem(GateCodes.SCHEMA, 'target.kind is neither kernel nor server');
  }
  if (
    !Array.isArray(value.arms) ||
    value.arms.length === 0 ||
    !value.arms.every((a) => isObject(a) && typeof a.id === 'string')
  ) {
    return problem(GateCodes.SCHEMA, 'no arms');
  }
  if (!Array.isArray(value.cells)) return problem(GateCodes.SCHEMA, 'cells is not a list');
  if (value.cells.length === 0) return problem(GateCodes.EMPTY, 'no cells');
  const bad = value.cells.findIndex(
    (c) =>
      !isObject(c) ||
      !(Number.isInteger(c.context) && (c.context as number) > 0) ||
      !PHASES.includes(c.phase as never) ||
      typeof c.arm !== 'string' ||
      !Array.isArray(c.samples) ||
      !isObject(c.summary),
  );
  if (bad >= 0) {
    return problem(GateCodes.SCHEMA, `cell ${bad} is malformed (needs context, phase, arm, samples, summary)`);
  }
  const foreign = value.cells.findIndex((c) => (c as Record<string, unknown>).kind !== target.kind);
  if (foreign >= 0) return problem(GateCodes.TARGET, `cell ${foreign} is not a ${target.kind} cell like its target`);
  return [];
}

function measureOf(cell: Cell, metric: GateMetric): GateRow['measure'] {
  if (metric === 'speedup') return 'speedup';
  if (cell.kind === 'kernel') return 'kernel time';
  return cell.phase === 'prefill' ? 'TTFT' : 'TPOT';
}

const agrees = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** One metric of one cell with its interval, or the reason it cannot be had. */
function figure(
  cell: Cell,
  metric: GateMetric,
  file: 'baseline' | 'current',
  o: ResolvedCompareOptions,
): Estimate | GateNote {
  const problem = (code: string, message: string) => note(code, file, `${metric}: ${message}`, at(cell));
  const boot = { level: o.level, resamples: o.resamples, seed: o.seed };
  if (metric === 'latency') {
    const values = headlineSamples(cell);
    const point = cell.summary.medianMs;
    if (values.length === 0 || typeof point !== 'number' || !Number.isFinite(point))
      return problem(GateCodes.MISSING_METRIC, 'no successful samples or no median');
    if (values.length < o.minSamples)
      return problem(GateCodes.TOO_FEW_SAMPLES, `${values.length} successful samples, fewer than ${o.minSamples}`);
    const ci = bootstrapMedianCI(values, boot);
    if (!agrees(ci.estimate, point))
      return problem(
        GateCodes.INCONSISTENT,
        `summary.medianMs ${point} is not the median of the samples (${ci.estimate})`,
      );
    return { estimate: point, low: ci.low, high: ci.high, n: ci.n };
  }
  const ratios = cell.speedup?.pairedRatios;
  if (!Array.isArray(ratios) || ratios.length === 0) return problem(GateCodes.MISSING_METRIC, 'no paired ratios');
  if (!ratios.every((r) => typeof r === 'number' && Number.isFinite(r) && r > 0))
    return problem(GateCodes.MISSING_METRIC, 'a paired ratio is missing, NaN or not positive');
  if (ratios.length < o.minSamples)
    return problem(GateCodes.TOO_FEW_SAMPLES, `${ratios.length} paired rounds, fewer than ${o.minSamples}`);
  const ci = ratioMedianCI(ratios, boot);
  const recorded = cell.speedup?.medianPairedRatio;
  if (typeof recorded !== 'number' || !agrees(ci.estimate, recorded)) {
    return problem(
      GateCodes.INCONSISTENT,
      `medianPairedRatio ${recorded} is not the median of pairedRatios (${ci.estimate})`,
    );
  }
  return { estimate: ci.estimate, low: ci.low, high: ci.high, n: ci.n };
}

const isNote = (x: Estimate | GateNote): x is GateNote => 'code' in x;

/** Relative change and row status of a baseline/current pair of estimates (see the module comment). */
export function judge(
  metric: GateMetric,
  b: Estimate,
  c: Estimate,
  threshold: number,
): Pick<GateRow, 'change' | 'status'> {
  const change = c.estimate / b.estimate - 1;
  const higherIsBetter = metric === 'speedup';
  const worse = higherIsBetter ? change < -threshold : change > threshold;
  const better = higherIsBetter ? change > threshold : change < -threshold;
  const apartWorse = higherIsBetter ? c.high < b.low : c.low > b.high;
  const apartBetter = higherIsBetter ? c.low > b.high : c.high < b.low;
  if (worse) return { change, status: apartWorse ? 'regression' : 'inconclusive' };
  return { change, status: better && apartBetter ? 'improved' : 'ok' };
}

function floorMatches(f: Floor, cell: Cell, baselineArm: string): boolean {
  return (
    cell.arm !== baselineArm &&
    (f.phase === undefined || f.phase === cell.phase) &&
    (f.minContext === undefined || cell.context >= f.minContext) &&
    (f.arm === undefined || f.arm === cell.arm)
  );
}

function methodText(o: ResolvedCompareOptions): string {
  return (
    `Medians with ${o.level * 100}% percentile-bootstrap intervals (${o.resamples} resamples, seed ${o.seed}); quantiles interpolate ` +
    "linearly between order statistics (numpy's default). Speedup: median of the per-round paired ratios dense/skip, rounds " +
    'resampled. Latency: the median headline time over successful non-warmup samples. A row regresses when its median is worse ' +
    `than the baseline's by more than ${o.threshold * 100}% and the two intervals do not overlap; worse by more with overlapping ` +
    'intervals is inconclusive (not failed). A floor is violated when the whole current interval lies below it.'
  );
}

/** A verdict that judges nothing: the inputs could not be read or checked. */
export function unusableVerdict(
  problems: GateNote[],
  options: CompareOptions = {},
  inputs: GateVerdict['inputs'] = { baseline: {}, current: {} },
): GateVerdict {
  const o = resolveCompareOptions(options);
  return {
    schema: VERDICT_SCHEMA,
    schemaVersion: VERDICT_SCHEMA_VERSION,
    status: 'unusable',
    inputs,
    options: o,
    rows: [],
    floors: [],
    problems,
    warnings: [],
    method: methodText(o),
  };
}

const infoOf = (r: ResultFile) => ({ runId: r.run?.id, startedAt: r.run?.startedAt, target: r.target?.kind });

const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

/** File-level checks: the same work measured (problems), and what changed around it (warnings). */
function compareTargets(b: ResultFile, c: ResultFile, problems: GateNote[], warnings: GateNote[]): void {
  const changed = (what: string, x: unknown, y: unknown) =>
    warnings.push(note(GateCodes.TARGET_CHANGED, 'both', `${what} changed: ${x} -> ${y}`));
  const bt = b.target;
  const ct = c.target;
  if (bt.kind === 'kernel' && ct.kind === 'kernel') {
    if (!same(bt.shape, ct.shape) || !same(bt.tiles, ct.tiles)) {
      const work = (t: typeof bt) => JSON.stringify({ shape: t.shape, tiles: t.tiles });
      problems.push(note(GateCodes.TARGET, 'both', `different attention shape or tiles: ${work(bt)} vs ${work(ct)}`));
    }
    for (const field of ['implementation', 'threads'] as const) {
      if (bt[field] !== ct[field]) changed(`kernel ${field}`, bt[field], ct[field]);
    }
    if (bt.workload?.description !== ct.workload?.description)
      changed('workload', bt.workload?.description, ct.workload?.description);
  } else if (bt.kind === 'server' && ct.kind === 'server') {
    for (const field of ['endpoint', 'model', 'tokenizer', 'server'] as const) {
      if (bt[field] !== ct[field]) changed(`server ${field}`, bt[field], ct[field]);
    }
  }
  const [bh, ch] = [b.environment?.host, c.environment?.host];
  if (bh?.cpuModel !== ch?.cpuModel || bh?.logicalCpus !== ch?.logicalCpus) {
    const machine = (h: typeof bh) => `${h?.cpuModel} x${h?.logicalCpus}`;
    warnings.push(
      note(GateCodes.HOST, 'both', `different machines (${machine(bh)} vs ${machine(ch)}): latencies compare them too`),
    );
  }
  for (const [file, r] of [['baseline', b] as const, ['current', c] as const]) {
    if (r.run?.status !== 'completed')
      warnings.push(note(GateCodes.RUN_STATUS, file, `run status is ${r.run?.status}`));
  }
  const currentArms = new Map(c.arms.map((a) => [a.id, a]));
  for (const arm of b.arms) {
    const other = currentArms.get(arm.id);
    if (other && !same(arm.thresholdScaleFactor, other.thresholdScaleFactor)) {
      const factors = `${JSON.stringify(arm.thresholdScaleFactor)} -> ${JSON.stringify(other.thresholdScaleFactor)}`;
      warnings.push(note(GateCodes.ARM_CHANGED, 'both', `threshold_scale_factor changed: ${factors}`, { arm: arm.id }));
    }
  }
}

function cellsByKey(r: ResultFile, file: 'baseline' | 'current', problems: GateNote[]): Map<string, Cell> {
  const map = new Map<string, Cell>();
  for (const cell of r.cells) {
    if (map.has(keyOf(cell))) problems.push(note(GateCodes.DUPLICATE_CELL, file, 'the cell appears twice', at(cell)));
    map.set(keyOf(cell), cell);
  }
  return map;
}

/** Per-cell-pair checks that invalidate or qualify its rows. */
function checkPair(b: Cell, c: Cell, o: ResolvedCompareOptions, problems: GateNote[], warnings: GateNote[]): void {
  if (o.metrics.includes('latency') && !same(b.provenance, c.provenance)) {
    problems.push(note(GateCodes.PROVENANCE, 'both', 'sampled work differs: latencies are not comparable', at(b)));
  }
  for (const [file, cell] of [['baseline', b] as const, ['current', c] as const]) {
    if (cell.kind === 'server' && cell.cacheFlagged) {
      problems.push(
        note(GateCodes.PREFIX_CACHE, file, 'prefix cache served this cell: its TTFT is not a prefill', at(cell)),
      );
    }
    if (cell.disturbed) {
      const load = Number(cell.foreignLoad).toFixed(2);
      warnings.push(note(GateCodes.DISTURBED, file, `foreign CPU load ${load} cores during the cell`, at(cell)));
    }
  }
}

const rowBase = (cell: Cell, metric: GateMetric) => ({
  ...at(cell),
  metric,
  measure: measureOf(cell, metric),
  unit: metric === 'speedup' ? ('x' as const) : ('ms' as const),
});

/** Compares `current` against `baseline`; see the module comment for the rules. Never throws on bad input files. */
export function compareResults(baseline: ResultFile, current: ResultFile, options: CompareOptions = {}): GateVerdict {
  const o = resolveCompareOptions(options);
  const invalidInputs = [...validateResult(baseline, 'baseline'), ...validateResult(current, 'current')];
  const info = (r: unknown) => (isObject(r) ? infoOf(r as unknown as ResultFile) : {});
  const inputs = { baseline: info(baseline), current: info(current) };
  if (invalidInputs.length) return unusableVerdict(invalidInputs, o, inputs);
  if (baseline.target.kind !== current.target.kind) {
    const kinds = `target kinds differ: ${baseline.target.kind} vs ${current.target.kind}`;
    return unusableVerdict([note(GateCodes.TARGET, 'both', kinds)], o, inputs);
  }
  const problems: GateNote[] = [];
  const warnings: GateNote[] = [];
  const baselineArm = baseline.arms[0].id;
  if (current.arms[0].id !== baselineArm) {
    problems.push(note(GateCodes.ARMS, 'both', `baseline arms differ: ${baselineArm} vs ${current.arms[0].id}`));
  }
  compareTargets(baseline, current, problems, warnings);
  const before = cellsByKey(baseline, 'baseline', problems);
  const after = cellsByKey(current, 'current', problems);
  const memo = new Map<string, Estimate | GateNote>();
  const get = (cell: Cell, metric: GateMetric, file: 'baseline' | 'current') => {
    const key = `${file}|${keyOf(cell)}|${metric}`;
    if (!memo.has(key)) memo.set(key, figure(cell, metric, file, o));
    return memo.get(key)!;
  };
  const metricsOf = (cell: Cell) => o.metrics.filter((m) => m === 'latency' || cell.arm !== baselineArm);
  const anchors = new Set([...anchorArms(baseline).keys(), ...anchorArms(current).keys()]);
  if (anchors.size) {
    const names = [...anchors].join(', ');
    warnings.push(note(GateCodes.ANCHORS, 'both', `anchor arms (${names}) are reported, not gated`));
  }

  // -- rows: every baseline cell against its current counterpart --
  const rows: GateRow[] = [];
  for (const b of before.values()) {
    if (anchors.has(b.arm)) continue;
    const c = after.get(keyOf(b));
    if (c) checkPair(b, c, o, problems, warnings);
    else
      problems.push(note(GateCodes.MISSING_CELL, 'current', 'in the baseline, missing from the current file', at(b)));
    for (const metric of metricsOf(b)) {
      const row: GateRow = { ...rowBase(b, metric), status: 'unusable' };
      const bf = get(b, metric, 'baseline');
      const cf = c ? get(c, metric, 'current') : undefined;
      for (const f of [bf, cf]) if (f && isNote(f)) problems.push(f);
      if (!isNote(bf)) row.baseline = bf;
      if (cf && !isNote(cf)) row.current = cf;
      if (row.baseline && row.current) Object.assign(row, judge(metric, row.baseline, row.current, o.threshold));
      if (metric === 'speedup' && row.current) row.verdict = speedupVerdict(row.current);
      rows.push(row);
    }
  }
  // -- cells only in the current file: shown, not gated --
  for (const c of after.values()) {
    if (before.has(keyOf(c)) || anchors.has(c.arm)) continue;
    warnings.push(note(GateCodes.NEW_CELL, 'current', 'only in the current file: not gated', at(c)));
    for (const metric of metricsOf(c)) {
      const cf = get(c, metric, 'current');
      const row: GateRow = { ...rowBase(c, metric), status: 'new' };
      if (isNote(cf)) warnings.push(cf);
      else row.current = cf;
      if (metric === 'speedup' && row.current) row.verdict = speedupVerdict(row.current);
      rows.push(row);
    }
  }
  // -- floors: on the current file's skip cells --
  const floors: FloorCheck[] = [];
  for (const floor of o.floors) {
    const matched = [...after.values()].filter((c) => !anchors.has(c.arm) && floorMatches(floor, c, baselineArm));
    if (matched.length === 0) {
      const where = { ...(floor.phase ? { phase: floor.phase } : {}), ...(floor.arm ? { arm: floor.arm } : {}) };
      problems.push(
        note(GateCodes.FLOOR_UNMATCHED, 'current', `floor speedup >= ${floor.min} matches no skip cell`, where),
      );
    }
    for (const c of matched) {
      const cf = get(c, 'speedup', 'current');
      if (isNote(cf)) {
        if (!problems.includes(cf)) problems.push(cf);
        continue;
      }
      const status = cf.high < floor.min ? 'violated' : cf.estimate < floor.min ? 'inconclusive' : 'ok';
      floors.push({ floor, ...at(c), current: cf, status });
    }
  }

  const regressed = rows.some((r) => r.status === 'regression') || floors.some((f) => f.status === 'violated');
  const status = problems.length ? 'unusable' : regressed ? 'regression' : 'pass';
  const [schema, schemaVersion] = [VERDICT_SCHEMA, VERDICT_SCHEMA_VERSION] as const;
  return { schema, schemaVersion, status, inputs, options: o, rows, floors, problems, warnings, method: methodText(o) };
}
