/**
 * The rows every report shows: per (context, phase, skip arm), the dense and skip figures side by side. Derived
 * from the result file alone; nothing is re-measured.
 */
import { formatMs, formatPercent, formatRatio, formatSci, formatTokens } from './format.js';
import type { Cell, Phase, ResultFile } from './schema.js';

export interface ComparisonRow {
  context: number;
  phase: Phase;
  arm: string;
  dense: Cell;
  skip: Cell;
  /** Theory bound for the measured sparsity, 2 / (2 - s) (DESIGN: bytes or FLOPs fall to (2 - s) / 2 with
   * d_k = d_v); undefined where sparsity is not measured (servers expose none). */
  theoryBound?: number;
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
  for (const cell of result.cells) {
    if (cell.arm === baseline) continue;
    const base = dense.get(key(cell));
    if (!base) continue;
    rows.push({
      context: cell.context,
      phase: cell.phase,
      arm: cell.arm,
      dense: base,
      skip: cell,
      theoryBound: cell.kind === 'kernel' ? theoryBound(cell.work.sparsity) : undefined,
    });
  }
  return rows;
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
    formatPercent(sparsityOf(r.skip)),
    formatSci(errorOf(r.skip)),
  ];
}
