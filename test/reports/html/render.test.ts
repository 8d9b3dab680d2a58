/**
 * The HTML report as a document: complete and self-contained (three bundles inlined, nothing referenced by URL,
 * a policy that blocks the network), the Markdown report's tables, a container per chart, the chart data as inert
 * JSON, every string from a result escaped, and a pure function of its inputs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { headlineMedianCI } from '../../../reports/bootstrap.js';
import { buildCharts, chartDatasets } from '../../../reports/charts/index.js';
import { comparisonRows } from '../../../reports/comparison.js';
import { loadVegaAssets, type VegaAssets } from '../../../reports/html/assets.js';
import { renderHtml } from '../../../reports/html/render.js';
import { escapeHtml } from '../../../reports/html/escape.js';
import { CONTENT_SECURITY_POLICY } from '../../../reports/html/template.js';
import type { Cell, KernelResultFile, ResultFile, ServerResultFile } from '../../../reports/schema.js';
import { ARM_CI_METHOD, formatMedianCi } from '../../../reports/tables.js';
import { hostile, kernelResult, serverResult, XSS } from './fixtures.js';

let kernel: KernelResultFile;
let server: ServerResultFile;
let page: string;

beforeAll(async () => {
  [kernel, server] = await Promise.all([kernelResult(), serverResult()]);
  page = renderHtml([kernel, server]);
});

/** The page with every <script> element's contents removed (bundles hold URLs and markup in code, not attributes). */
const withoutScripts = (html: string) => html.replace(/(<script\b[^>]*>)[\s\S]*?(<\/script>)/g, '$1$2');

function payload(html: string): { charts: { id: string; datasets: string[] }[]; datasets: Record<string, unknown[]> } {
  const m = html.match(/<script type="application\/json" id="skipbench-charts">([\s\S]*?)<\/script>/);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]);
}

describe('renderHtml', () => {
  it('writes a complete document with a policy that blocks every network request', () => {
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(page.trimEnd().endsWith('</html>')).toBe(true);
    expect(page).toContain(
      `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY.replace(/'/g, '&#39;')}">`,
    );
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:",
    );
    expect(page).toContain('<meta charset="utf-8">');
  });

  it('inlines vega, vega-lite and vega-embed once each, and nothing else', () => {
    const assets = loadVegaAssets();
    for (const code of [assets.vega, assets.vegaLite, assets.vegaEmbed]) {
      expect(page.split(code).length - 1).toBe(1);
    }
    const bare = withoutScripts(page);
    expect(bare.match(/<script\b[^>]*>/g)).toEqual([
      '<script type="application/json" id="skipbench-charts">',
      '<script>',
      '<script>',
      '<script>',
      '<script>',
    ]);
  });

  it('references no URL: every src/href is a fragment or data:, no stylesheet, image, frame or @import', () => {
    const bare = withoutScripts(page);
    const refs = [
      ...bare.matchAll(/\s(?:src|href|srcset|action|formaction|poster|xlink:href|data)\s*=\s*"([^"]*)"/gi),
    ].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(ref).toMatch(/^(#|data:)/);
    expect(bare).not.toMatch(/<(img|iframe|object|embed|link rel="stylesheet"|base)\b/i);
    expect(bare).not.toMatch(/@import|url\(/i);
    // the only absolute URLs outside the bundles are the server arms' base URLs, shown as text
    const urls = new Set(bare.match(/https?:\/\/[^\s<"';)]+/g) ?? []);
    expect(urls).toEqual(new Set(server.arms.map((a) => a.endpoint!.baseUrl)));
  });

  it('shows the run, its environment and the Markdown report tables', () => {
    expect(page).toContain(`<code>${kernel.run.id}</code>`);
    expect(page).toContain(`<code>${server.run.id}</code>`);
    expect(page).toContain(kernel.environment.host.cpuModel.replace(/&/g, '&amp;'));
    const tables = [...page.matchAll(/<table data-table="([a-z-]+)">([\s\S]*?)<\/table>/g)];
    expect(tables.map((t) => t[1])).toEqual(['speedup', 'head-types', 'heads', 'roofline', 'speedup', 'latency']);
    const rowsOf = (i: number) => (tables[i][2].match(/<tr>/g) ?? []).length - 1;
    expect(rowsOf(0)).toBe(comparisonRows(kernel).length);
    expect(rowsOf(4)).toBe(comparisonRows(server).length);
    expect(rowsOf(5)).toBe(server.cells.length);
    expect(tables[0][2]).toContain('<th>theory 2/(2-s)</th>');
    expect(tables[5][2]).toContain('<th>TTFT p50 / p99</th>');
  });

  it('shows each arm median with its bootstrap CI in the tables, and states the method once', () => {
    const tables = [...page.matchAll(/<table data-table="speedup">([\s\S]*?)<\/table>/g)].map((t) => t[1]);
    expect(tables).toHaveLength(2);
    const figure = (c: Cell) => formatMedianCi(c.summary.estimatedFullMs, headlineMedianCI(c));
    for (const [table, result] of [
      [tables[0], kernel],
      [tables[1], server],
    ] as const) {
      expect(table).toContain('<th>dense [95% CI]</th><th>skip [95% CI]</th>');
      const rows = comparisonRows(result);
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        expect(figure(r.skip)).toMatch(/^[\d.]+ (ms|µs|s) \[[\d.]+, [\d.]+\]$/);
        expect(table).toContain(`<td class="num">${figure(r.dense)}</td><td class="num">${figure(r.skip)}</td>`);
      }
    }
    // two runs, one statement of the method, in the page header
    const method = escapeHtml(ARM_CI_METHOD);
    expect(page.split(method).length - 1).toBe(1);
    expect(page).toContain(
      `<p class="method" id="confidence-intervals"><strong>Confidence intervals.</strong> ${method}</p>`,
    );
    expect(page.indexOf(method)).toBeLessThan(page.indexOf('</header>'));
  });

  it('gives every chart a container with a stable id and data-chart, and notes the charts left out', () => {
    const set = buildCharts([kernel, server]);
    expect(set.charts.length).toBe(9);
    for (const chart of set.charts) {
      expect(page).toContain(`<div class="chart" id="chart-${chart.id}" data-chart="${chart.id}"></div>`);
    }
    expect(page).toContain('data-chart-skipped="server-accuracy"');
    const data = payload(page);
    expect(data.charts.map((c) => c.id)).toEqual(set.charts.map((c) => c.id));
    const rows = JSON.parse(JSON.stringify(chartDatasets([kernel, server])));
    for (const name of new Set(data.charts.flatMap((c) => c.datasets))) expect(data.datasets[name]).toEqual(rows[name]);
  });

  it('renders every string from a result or a server as text', () => {
    const html = renderHtml([hostile(kernel), hostile(server)]);
    expect(html).not.toContain(XSS);
    expect(html).not.toContain('<script>alert');
    const escaped = html.split('&lt;script&gt;alert(1)&lt;/script&gt;').length - 1;
    // model, server, workload, CPU, run reason, arm ids in tables and facts, head patterns
    expect(escaped).toBeGreaterThan(10);
    const data = payload(html);
    expect(JSON.stringify(data)).toContain(XSS);
    expect(withoutScripts(html).match(/<script\b/g)).toHaveLength(5);
  });

  it('is a pure function of the results and the bundles', () => {
    const before = structuredClone(kernel);
    expect(renderHtml(kernel)).toBe(renderHtml([kernel]));
    expect(kernel).toEqual(before);
    const fake: VegaAssets = {
      vega: '/* fake vega */',
      vegaLite: '/* fake vega-lite */',
      vegaEmbed: '/* fake vega-embed */',
      versions: { vega: '0', vegaLite: '0', vegaEmbed: '0' },
    };
    const html = renderHtml(kernel, { assets: fake });
    expect(html).toContain('<script>/* fake vega */</script>');
    expect(html).not.toContain(loadVegaAssets().vega.slice(0, 200));
  });

  it('still renders a document for a run without cells', () => {
    const empty: ResultFile = { ...server, cells: [], run: { ...server.run, status: 'interrupted', reason: 'SIGINT' } };
    const html = renderHtml(empty);
    expect(html).toContain('No chart has data to draw.');
    expect(html).toContain('No dense/skip pairs measured.');
    expect(html).toContain('Run interrupted: SIGINT');
    expect(payload(html).charts).toEqual([]);
  });
});

describe('loadVegaAssets', () => {
  it('reads the three minified bundles once and keeps them', () => {
    const a = loadVegaAssets();
    expect(loadVegaAssets()).toBe(a);
    expect(a.versions.vega).toMatch(/^6\./);
    expect(a.versions.vegaLite).toMatch(/^6\./);
    expect(a.versions.vegaEmbed).toMatch(/^7\./);
    expect(a.vega).toContain('vega');
    expect(a.vegaEmbed).toContain('vegaEmbed');
    expect(a.vega.length + a.vegaLite.length + a.vegaEmbed.length).toBeGreaterThan(500_000);
  });
});
