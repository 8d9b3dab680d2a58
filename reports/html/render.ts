/**
 * The HTML report: one self-contained file that works offline. The tables of the Markdown report, the run and its
 * environment, and the charts (vega-lite specs with their data as named datasets, drawn by vega-embed, all three
 * bundles inlined). A pure function of the results and the bundles; every string from a result is escaped.
 */
import { buildCharts, type Chart, type ChartSet, type SkippedChart } from '../charts/index.js';
import type { SpeedupIntervalFn } from '../charts/data.js';
import type { ResultFile } from '../schema.js';
import { loadVegaAssets, type VegaAssets } from './assets.js';
import { html, type SafeHtml } from './escape.js';
import { chartPage } from './page.js';
import { ARM_CI_METHOD, type ReportTable, reportTables, summaryFacts } from '../tables.js';
import { chartElementId } from './template.js';

export interface HtmlOptions {
  /** The inlined bundles; default: read from node_modules once per process. */
  assets?: VegaAssets;
  /** The band around each speedup (default: bootstrap CI of the median paired ratio, bootstrapBand). */
  interval?: SpeedupIntervalFn;
}

const NUMERIC = /^[-+]?[\d.]|^—$/;

function tableHtml(table: ReportTable, anchor: string): SafeHtml {
  if (table.rows.length === 0 && table.id === 'speedup') {
    return html`<h3 id="${anchor}">${table.title}</h3><p class="muted">No dense/skip pairs measured.</p>`;
  }
  return html`<h3 id="${anchor}">${table.title}</h3>
${table.intro.map((p) => html`<p>${p}</p>\n`)}<div class="table-wrap"><table data-table="${table.id}">
<thead><tr>${table.header.map((h) => html`<th>${h}</th>`)}</tr></thead>
<tbody>
${table.rows.map((row) => html`<tr>${row.map((cell) => html`<td${NUMERIC.test(cell) ? html` class="num"` : ''}>${cell}</td>`)}</tr>\n`)}</tbody>
</table></div>
${table.notes.length ? html`<ul class="notes">${table.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}`;
}

function runHtml(result: ResultFile, index: number): SafeHtml {
  const id = `run-${index + 1}`;
  const status =
    result.run.status === 'completed'
      ? ''
      : html`<p class="warning">Run ${result.run.status}${result.run.reason ? `: ${result.run.reason}` : ''}; the figures cover what was measured.</p>`;
  return html`<section class="run" id="${id}" data-run="${result.run.id}">
<h2>${result.target.kind === 'server' ? 'Server' : 'Kernel'} run <code>${result.run.id}</code></h2>
${status}<dl class="facts">
${summaryFacts(result).map(([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>\n`)}</dl>
${reportTables(result).map((t) => tableHtml(t, `${id}-${t.id}`))}
</section>`;
}

function chartHtml(chart: Chart): SafeHtml {
  return html`<figure>
<figcaption><h3>${chart.title}</h3><p>${chart.caption}</p></figcaption>
<div class="chart" id="${chartElementId(chart.id)}" data-chart="${chart.id}"></div>
</figure>
`;
}

function skippedHtml(skipped: SkippedChart[]): SafeHtml | string {
  if (skipped.length === 0) return '';
  return html`<div class="skipped"><h3>Not drawn</h3><ul>
${skipped.map((s) => html`<li data-chart-skipped="${s.id}">${s.title}: ${s.reason}.</li>\n`)}</ul></div>`;
}

function chartsHtml(set: ChartSet): SafeHtml {
  return html`<section id="charts">
<h2>Charts</h2>
${set.charts.length ? '' : html`<p class="muted">No chart has data to draw.</p>`}${set.charts.map(chartHtml)}${skippedHtml(set.skipped)}
<noscript><p class="warning">The charts need JavaScript. It is inlined in this file; nothing is fetched.</p></noscript>
</section>`;
}

function runsList(results: readonly ResultFile[]): SafeHtml {
  return html`<ul class="runs">
${results.map((r, i) => html`<li><a href="#run-${i + 1}">${r.run.id}</a>: ${r.target.kind} target, ${r.cells.length} cells, ${r.run.status}, started ${r.run.startedAt}</li>\n`)}</ul>`;
}

export function renderHtml(results: ResultFile | readonly ResultFile[], options: HtmlOptions = {}): string {
  const list: readonly ResultFile[] = Array.isArray(results) ? results : [results as ResultFile];
  const assets = options.assets ?? loadVegaAssets();
  const set = buildCharts(list, options.interval ? { interval: options.interval } : {});
  const title =
    list.length === 1 ? `skipbench: Skip Softmax vs dense — ${list[0].run.id}` : 'skipbench: Skip Softmax vs dense';
  return chartPage({
    title,
    body: html`<header>
<h1>skipbench: Skip Softmax vs dense</h1>
<p class="muted">Does Skip Softmax make long-context attention faster, by how much, and at what cost in accuracy? ${list.length} result file(s):</p>
${runsList(list)}
<p class="method" id="confidence-intervals"><strong>Confidence intervals.</strong> ${ARM_CI_METHOD}</p>
</header>
<main>
${chartsHtml(set)}
${list.map(runHtml)}
</main>`,
    charts: set,
    assets,
  });
}
