/**
 * The Markdown summary: fit for a pull-request comment or a CI step summary. Lays out the shared report tables
 * (reports/tables.ts) and facts; builds none of its own.
 */
import { detectInactive, inactiveBanner } from './inactive.js';
import type { ResultFile } from './schema.js';
import { ARM_CI_METHOD, type ReportTable, reportTables, summaryFacts } from './tables.js';

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** One table with its intro and notes; the first (speedup) table sits under the report's own heading. */
function section(t: ReportTable, titled: boolean): string[] {
  return [
    ...(titled ? [`### ${t.title}`, ''] : []),
    ...t.intro.flatMap((p) => [p, '']),
    table(t.header, t.rows),
    ...(t.notes.length ? ['', ...t.notes.map((n) => `- ${n}`)] : []),
    '',
  ];
}

export function renderMarkdown(result: ResultFile): string {
  const status = result.run.status === 'completed' ? '' : ` (run ${result.run.status}${result.run.reason ? `: ${result.run.reason}` : ''})`;
  const banner = inactiveBanner(detectInactive(result));
  return [
    `## skipbench: Skip Softmax vs dense${status}`,
    '',
    ...(banner ? [`> **${banner}**`, ''] : []),
    `Run \`${result.run.id}\`, started ${result.run.startedAt}.`,
    '',
    ...reportTables(result).flatMap((t, i) => section(t, i > 0)),
    '### Confidence intervals',
    '',
    ARM_CI_METHOD,
    '',
    '### Environment',
    '',
    ...summaryFacts(result).map(([label, value]) => `- ${label}: ${value}`),
    '',
  ].join('\n');
}
