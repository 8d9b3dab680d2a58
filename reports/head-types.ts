/**
 * Accuracy by head type: each skip arm's per-head records (HeadRecord) grouped by the head's attention pattern, with
 * the needle recall of the heads that look for a needle. Derived from the result alone (reports never re-measure);
 * reports/tables.ts lays the table out with the others. Plain strings, formatted, not escaped.
 */
import { anchorArms } from './comparison.js';
import { formatPercent, formatSci, formatTokens } from './format.js';
import type { HeadRecord, KernelCell, Phase, ResultFile } from './schema.js';
import type { ReportTable } from './tables.js';

/** Needle recall over the heads of a group that have a needle record. */
export interface NeedleAggregate {
  /** Heads with a needle record. */
  heads: number;
  /** Mean over those heads of their recall (mean skip mass / mean dense mass). */
  meanRecall: number;
  /** Mean over those heads of their mean dense and skip mass on the needle. */
  meanDenseMass: number;
  meanSkipMass: number;
  /** Rows whose needle tile was skipped, and rows checked, summed over the heads. */
  lostRows: number;
  rows: number;
}

/** One skip arm's heads of one pattern in one (context, phase). */
export interface HeadTypeAccuracy {
  context: number;
  phase: Phase;
  arm: string;
  /** The head's pattern; in decode the GQA group's patterns joined with '+' (the group decides together). */
  pattern: string;
  heads: number;
  /** Mean tile sparsity over the heads. */
  meanSparsity: number;
  /** Mean and max relative L2 error versus dense over the heads that have an error; undefined when none has. */
  meanRelativeL2?: number;
  maxRelativeL2?: number;
  /** Present when some head of the group has a needle record. */
  needle?: NeedleAggregate;
}

const mean = (xs: readonly number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;

/** Needle recall over the heads that have a record; undefined when none has. */
export function needleAggregate(heads: readonly HeadRecord[]): NeedleAggregate | undefined {
  const records = heads.flatMap((h) => (h.needle ? [h.needle] : []));
  if (records.length === 0) return undefined;
  return {
    heads: records.length,
    meanRecall: mean(records.map((r) => r.recall)),
    meanDenseMass: mean(records.map((r) => r.denseMass)),
    meanSkipMass: mean(records.map((r) => r.skipMass)),
    lostRows: records.reduce((n, r) => n + r.lostRows, 0),
    rows: records.reduce((n, r) => n + r.rows, 0),
  };
}

/** Every skip arm's kernel cells, heads grouped by pattern (first-seen order); heads without a pattern are left out. */
export function accuracyByHeadType(result: ResultFile): HeadTypeAccuracy[] {
  const baseline = result.arms[0]?.id;
  const anchors = anchorArms(result);
  const cells = result.cells.filter(
    (c): c is KernelCell => c.kind === 'kernel' && c.arm !== baseline && !anchors.has(c.arm),
  );
  return cells.flatMap((cell) => {
    const groups = new Map<string, HeadRecord[]>();
    for (const h of cell.heads) {
      if (h.pattern === undefined) continue;
      const group = groups.get(h.pattern) ?? [];
      group.push(h);
      groups.set(h.pattern, group);
    }
    return [...groups].map(([pattern, heads]): HeadTypeAccuracy => {
      const errors = heads.flatMap((h) => (h.error ? [h.error.relativeL2] : []));
      const needle = needleAggregate(heads);
      return {
        context: cell.context,
        phase: cell.phase,
        arm: cell.arm,
        pattern,
        heads: heads.length,
        meanSparsity: mean(heads.map((h) => h.sparsity)),
        ...(errors.length ? { meanRelativeL2: mean(errors), maxRelativeL2: Math.max(...errors) } : {}),
        ...(needle ? { needle } : {}),
      };
    });
  });
}

const fixed3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');

export function headTypeTable(result: ResultFile): ReportTable | undefined {
  const rows = accuracyByHeadType(result);
  if (rows.length === 0) return undefined;
  const methods = new Map<Phase, string>();
  for (const cell of result.cells) {
    if (cell.kind !== 'kernel') continue;
    const method = cell.heads.find((h) => h.needle)?.needle?.method;
    if (method && !methods.has(cell.phase)) methods.set(cell.phase, method);
  }
  return {
    id: 'head-types',
    title: 'Accuracy by head type',
    intro: [
      "Each skip arm's heads grouped by their attention pattern (decode: the GQA group's patterns, as the group decides together): mean tile sparsity, and the mean and largest relative L2 error of the heads' outputs versus dense. Needle recall, for heads that look for the retrieval needle: the softmax mass the needle key keeps under the arm's skip decisions divided by its dense mass (1 = kept, 0 = lost), the mean over the heads; lost rows: checked query rows whose needle tile was skipped.",
    ],
    header: [
      'context',
      'phase',
      'arm',
      'head type',
      'heads',
      'sparsity',
      'rel. L2 err mean',
      'rel. L2 err max',
      'needle recall',
      'needle mass dense → skip',
      'needle lost rows',
    ],
    rows: rows.map((r) => [
      formatTokens(r.context),
      r.phase,
      r.arm,
      r.pattern,
      String(r.heads),
      formatPercent(r.meanSparsity),
      formatSci(r.meanRelativeL2),
      formatSci(r.maxRelativeL2),
      r.needle ? fixed3(r.needle.meanRecall) : '—',
      r.needle ? `${fixed3(r.needle.meanDenseMass)} → ${fixed3(r.needle.meanSkipMass)}` : '—',
      r.needle ? `${r.needle.lostRows} / ${r.needle.rows}` : '—',
    ]),
    notes: [...methods].map(([phase, method]) => `needle recall, ${phase}: ${method}.`),
  };
}
