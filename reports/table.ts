/** The terminal table: context x phase -> dense time, skip time, speedup, sparsity, error. */
import { comparisonFigures, comparisonRows, FIGURE_COLUMNS, provenanceLabel } from './comparison.js';
import { detectInactive, inactiveBanner } from './inactive.js';
import type { ResultFile } from './schema.js';

function pad(cells: string[][]): string {
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells
    .map((row) => row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '))
    .join('\n');
}

export function renderTable(result: ResultFile): string {
  const header = [...FIGURE_COLUMNS, 'how', ''];
  const rows = comparisonRows(result).map((r) => [
    ...comparisonFigures(r),
    provenanceLabel(r.skip),
    [r.dense.disturbed || r.skip.disturbed ? 'disturbed' : '', r.skip.summary.failed ? `${r.skip.summary.failed} failed` : '']
      .filter(Boolean)
      .join(' '),
  ]);
  if (rows.length === 0) return 'no dense/skip pairs measured';
  const banner = inactiveBanner(detectInactive(result));
  return (banner ? `${banner}\n\n` : '') + pad([header, ...rows]);
}
