/**
 * The site's index.html: one self-contained page that works offline, like the run reports (vega, vega-lite and
 * vega-embed inlined, the same Content-Security-Policy and chart bootstrap). A table of every run, newest first,
 * linking to its report and result, and the trend charts over all runs. A pure function of the site state and the
 * bundles: no clock, no randomness, every string from a result escaped.
 */
import { formatRatio, formatTokens } from '../format.js';
import { loadVegaAssets, type VegaAssets } from '../html/assets.js';
import { html, type SafeHtml } from '../html/escape.js';
import { chartPage } from '../html/page.js';
import { chartElementId } from '../html/template.js';
import { PHASES } from '../schema.js';
import type { RunSummary, SiteState } from './state.js';
import { type TrendChart, type TrendChartSet, trendCharts } from './trends.js';

export interface IndexOptions {
  /** The inlined bundles; default: read from node_modules once per process. */
  assets?: VegaAssets;
}

export const INDEX_TITLE = 'skipbench: Skip Softmax vs dense over time';

const INDEX_STYLE = `
table[data-table="runs"] td.status-completed { color: inherit; }
table[data-table="runs"] td[class^="status-"]:not(.status-completed) { color: var(--warn); font-weight: 600; }
`;

/**
 * The headline of a run: each skip arm's paired speedup per phase at the longest context it measured, e.g.
 * "skip: prefill 64K 1.37x, decode 64K 0.98x".
 */
export function runHeadline(run: RunSummary): string {
  const parts: string[] = [];
  for (const arm of run.arms.slice(1)) {
    const phases: string[] = [];
    for (const phase of PHASES) {
      const cells = run.cells.filter((c) => c.arm === arm && c.phase === phase && c.speedup?.medianPairedRatio != null);
      if (cells.length === 0) continue;
      const longest = cells.reduce((a, b) => (b.context > a.context ? b : a));
      phases.push(`${phase} ${formatTokens(longest.context)} ${formatRatio(longest.speedup!.medianPairedRatio!)}`);
    }
    if (phases.length) parts.push(`${arm}: ${phases.join(', ')}`);
  }
  return parts.length ? parts.join('; ') : '—';
}

function runsTable(runs: readonly RunSummary[]): SafeHtml {
  if (runs.length === 0) return html`<p class="muted">No runs published yet.</p>`;
  // newest first: the order of runs.json, reversed
  const rows = [...runs].reverse();
  return html`<div class="table-wrap"><table data-table="runs">
<thead><tr><th>started (UTC)</th><th>run</th><th>target</th><th>what ran</th><th>status</th><th>cells</th><th>paired speedup at the longest context</th><th>files</th></tr></thead>
<tbody>
${rows.map(
  (r) =>
    html`<tr data-run="${r.id}"><td>${r.startedAt}</td><td><a href="${r.files.report}"><code>${r.id}</code></a></td><td>${r.target}</td><td>${r.label}</td><td class="status-${r.status}">${r.status}</td><td class="num">${r.cells.length}</td><td>${runHeadline(r)}</td><td><a href="${r.files.report}">report</a> · <a href="${r.files.result}">result.json</a></td></tr>\n`,
)}</tbody>
</table></div>`;
}

function chartHtml(chart: TrendChart): SafeHtml {
  return html`<figure>
<figcaption><h3>${chart.title}</h3><p>${chart.caption}</p></figcaption>
<div class="chart" id="${chartElementId(chart.id)}" data-chart="${chart.id}"></div>
</figure>
`;
}

function trendsHtml(set: TrendChartSet, runs: number): SafeHtml {
  const skipped = set.skipped.length
    ? html`<div class="skipped"><h3>Not drawn</h3><ul>
${set.skipped.map((s) => html`<li data-chart-skipped="${s.id}">${s.title}: ${s.reason}.</li>\n`)}</ul></div>`
    : '';
  return html`<section id="trends">
<h2>Trends</h2>
${runs && set.charts.length ? '' : html`<p class="muted">No chart has data to draw.</p>`}${set.charts.map(chartHtml)}${skipped}
<noscript><p class="warning">The charts need JavaScript. It is inlined in this file; nothing is fetched.</p></noscript>
</section>`;
}

export function renderSiteIndex(state: SiteState, options: IndexOptions = {}): string {
  const assets = options.assets ?? loadVegaAssets();
  const set = trendCharts(state.runs);
  const kinds = [...new Set(state.runs.map((r) => r.target))].sort();
  return chartPage({
    title: INDEX_TITLE,
    extraStyle: INDEX_STYLE,
    body: html`<header>
<h1>${INDEX_TITLE}</h1>
<p class="muted">${state.runs.length} run(s)${kinds.length ? ` of the ${kinds.join(' and ')} target` : ''}. Each run's report and result file are under <code>runs/</code>.</p>
</header>
<main>
<section id="runs">
<h2>Runs</h2>
${runsTable(state.runs)}
</section>
${trendsHtml(set, state.runs.length)}
</main>`,
    charts: set,
    assets,
  });
}
