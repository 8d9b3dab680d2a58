/**
 * The fixed parts of the HTML report: the Content-Security-Policy, the stylesheet and the script that embeds the
 * charts. The policy blocks every network request (nothing but inline scripts and styles, and data: images).
 */

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

/** Id of the <script type="application/json"> element holding { charts, datasets }. */
export const CHART_DATA_ID = 'skipbench-charts';

/** The element id of a chart's container. */
export const chartElementId = (chartId: string): string => `chart-${chartId}`;

export const STYLE = `
:root { color-scheme: light; --fg: #1d2330; --muted: #5b6475; --rule: #d9dde5; --bg-alt: #f5f7fa; --warn: #8a4b00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); }
header, main, footer { max-width: 1280px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; border-bottom: 1px solid var(--rule); }
h1 { font-size: 1.6rem; margin: 0 0 8px; }
h2 { font-size: 1.3rem; margin: 32px 0 8px; border-bottom: 1px solid var(--rule); padding-bottom: 4px; }
h3 { font-size: 1.05rem; margin: 24px 0 6px; }
code { font: 0.92em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--bg-alt); padding: 0 3px; border-radius: 3px; }
.muted, figcaption p, .notes, .method { color: var(--muted); }
.method { font-size: 0.88rem; }
.warning { color: var(--warn); font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0 16px; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 6px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--rule); text-align: left; white-space: nowrap; }
th { background: var(--bg-alt); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.notes { font-size: 0.88rem; margin: 6px 0 0; padding-left: 20px; }
figure { margin: 20px 0 32px; }
figcaption h3 { margin: 0; }
figcaption p { margin: 2px 0 8px; font-size: 0.9rem; }
.chart { overflow-x: auto; min-height: 40px; }
.chart[data-chart-error] { color: var(--warn); }
.skipped li { color: var(--muted); }
footer { border-top: 1px solid var(--rule); margin-top: 40px; padding-top: 12px; padding-bottom: 24px; font-size: 0.85rem; color: var(--muted); }
`;

/**
 * Embeds every chart: each spec gets the datasets it names, vega-embed draws it as SVG with the expression
 * interpreter (the policy forbids eval). When all are done, body[data-charts-rendered] holds how many succeeded;
 * a failed chart's container gets data-chart-error with the message, and body[data-chart-errors] the count.
 */
export const BOOTSTRAP = `
(function () {
  'use strict';
  var body = document.body;
  var payload = JSON.parse(document.getElementById('${CHART_DATA_ID}').textContent);
  var rendered = 0;
  var failed = 0;
  function fail(el, error) {
    failed += 1;
    var message = String((error && error.message) || error);
    el.setAttribute('data-chart-error', message);
    el.textContent = 'This chart could not be drawn: ' + message;
  }
  var jobs = payload.charts.map(function (chart) {
    var el = document.getElementById('chart-' + chart.id);
    var datasets = {};
    chart.datasets.forEach(function (name) { datasets[name] = payload.datasets[name]; });
    var spec = Object.assign({}, chart.spec, { datasets: datasets });
    try {
      return vegaEmbed(el, spec, { actions: false, renderer: 'svg', mode: 'vega-lite', ast: true }).then(
        function () { rendered += 1; },
        function (error) { fail(el, error); }
      );
    } catch (error) {
      fail(el, error);
      return Promise.resolve();
    }
  });
  Promise.all(jobs).then(function () {
    if (failed) body.dataset.chartErrors = String(failed);
    body.dataset.chartsRendered = String(rendered);
  });
})();
`;
