/**
 * The rows every report shows: per (context, phase, skip arm), the dense and skip figures side by side. Derived
 * from the result file alone; nothing is re-measured. Anchor arms (GPU: torch SDPA) get rows too, marked `anchor`:
 * their time and speedup over dense show, but they have no sparsity or theory bound and are no skip arm.
 */
import { formatMs, formatPercent, formatRatio, formatSci, formatTokens } from './format.js';
import type { AnchorKind, Cell, Phase, ResultFile } from './schema.js';

export interface ComparisonRow {
  context: number;
  phase: Phase;
  arm: string;
  dense: Cell;
  skip: Cell;
  /** Theory bound for the measured sparsity, 2 / (2 - s) (DESIGN: bytes or FLOPs fall to (2 - s) / 2 with
   * d_k = d_v); undefined where sparsity is not measured (servers expose none) and for anchors. */
  theoryBound?: number;
  /** Set when the arm is an anchor (a reference implementation timed beside dense), not a skip arm. */
  anchor?: AnchorKind;
}

/** The anchor arms of a result, by id (GPU runs: torch SDPA); none elsewhere. */
export function anchorArms(result: ResultFile): Map<string, AnchorKind> {
  return new Map(result.arms.flatMap((a) => (a.anchor ? [[a.id, a.anchor] as const] : [])));
}

/** The arms that skip: every arm after the baseline that is not an anchor. */
export function skipArmIds(result: ResultFile): string[] {
  return result.arms.slice(1).filter((a) => !a.anchor).map((a) => a.id);
}

/** Measured tile sparsity (kernel cells only: servers do not report it). */
export function sparsityOf(cell: Cell): number | undefined {
  return cell.kind === 'kernel' ? cell.work.sparsity : undefined;
}

/** Relative L2 error of the output against dense (kernel cells only). */
export function errorOf(cell: Cell): number | undefined {
  return cell.kind === 'kernel' ? cell.error?.relativeL2 : undefined;
}

export function theoryBound(sparsity: number): number {
  return 2 / (2 - sparsity);
}

export function comparisonRows(result: ResultFile): ComparisonRow[] {
  const baseline = result.arms[0]?.id;
  const rows: ComparisonRow[] = [];
  const key = (c: Cell) => `${c.context}|${c.phase}`;
  const dense = new Map(result.cells.filter((c) => c.arm === baseline).map((c) => [key(c), c]));
  const anchors = anchorArms(result);
  for (const cell of result.cells) {
    if (cell.arm === baseline) continue;
    const base = dense.get(key(cell));
    if (!base) continue;
    const anchor = anchors.get(cell.arm);
    rows.push({
      context: cell.context,
      phase: cell.phase,
      arm: cell.arm,
      dense: base,
      skip: cell,
      theoryBound: cell.kind === 'kernel' && !anchor ? theoryBound(cell.work.sparsity) : undefined,
      ...(anchor ? { anchor } : {}),
    });
  }
  return rows;
}

/** The rows of the skip arms only: what skip verdicts, crossovers and theory lines are about. */
export function skipComparisonRows(result: ResultFile): ComparisonRow[] {
  return comparisonRows(result).filter((r) => !r.anchor);
}

/** "measured", or "sampled 3.1%" (share of the dense causal work computed). */
export function provenanceLabel(cell: Cell): string {
  if (cell.provenance.kind === 'measured') return 'measured';
  return `sampled ${(cell.provenance.workFraction * 100).toFixed(1)}%`;
}

/** The columns every renderer shows for a row, formatted: context, phase, arm, dense, skip, speedup, paired, theory, sparsity, rel. error. */
export const FIGURE_COLUMNS = ['context', 'phase', 'arm', 'dense', 'skip', 'speedup', 'paired', 'theory', 'sparsity', 'rel.err'];

export function comparisonFigures(r: ComparisonRow): string[] {
  return [
    formatTokens(r.context),
    r.phase,
    r.arm,
    formatMs(r.dense.summary.estimatedFullMs),
    formatMs(r.skip.summary.estimatedFullMs),
    formatRatio(r.skip.speedup?.ofMedians),
    formatRatio(r.skip.speedup?.medianPairedRatio),
    formatRatio(r.theoryBound),
    formatPercent(r.anchor ? undefined : sparsityOf(r.skip)),
    formatSci(errorOf(r.skip)),
  ];
}
