/**
 * The offline document shell shared by the report and the published site index: CSP, style, body, the chart
 * payload as inline JSON, and the inlined vega bundles with the script that draws every chart.
 */
import type { VegaAssets } from './assets.js';
import { html, jsonForScript, SafeHtml, scriptText } from './escape.js';
import { BOOTSTRAP, CHART_DATA_ID, CONTENT_SECURITY_POLICY, STYLE } from './template.js';

/** Charts as the bootstrap script reads them: data-free specs naming their datasets, and those datasets once. */
export interface ChartSource<N extends string = string> {
  charts: readonly { id: string; spec: unknown; datasets: readonly N[] }[];
  datasets: { readonly [name in N]: unknown };
}

function chartPayload<N extends string>(
  set: ChartSource<N>,
): { charts: { id: string; spec: unknown; datasets: N[] }[]; datasets: Record<string, unknown> } {
  const used = [...new Set(set.charts.flatMap((c) => c.datasets))];
  return {
    charts: set.charts.map((c) => ({ id: c.id, spec: c.spec, datasets: [...c.datasets] })),
    datasets: Object.fromEntries(used.map((name) => [name, set.datasets[name]])),
  };
}

export interface ChartPage<N extends string> {
  title: string;
  /** CSS added after the shared style. */
  extraStyle?: string;
  /** Everything inside <body> before the footer. */
  body: SafeHtml;
  charts: ChartSource<N>;
  assets: VegaAssets;
}

export function chartPage<N extends string>(p: ChartPage<N>): string {
  const script = (name: string, code: string) => new SafeHtml(`<script>${scriptText(name, code)}</script>\n`);
  const { assets } = p;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p.title}</title>
<link rel="icon" href="data:,">
<style>${new SafeHtml(STYLE + (p.extraStyle ?? ''))}</style>
</head>
<body>
${p.body}
<footer>Charts by vega ${assets.versions.vega}, vega-lite ${assets.versions.vegaLite} and vega-embed ${assets.versions.vegaEmbed}, inlined: this file works offline and fetches nothing.</footer>
<script type="application/json" id="${CHART_DATA_ID}">${new SafeHtml(jsonForScript(chartPayload(p.charts)))}</script>
${script('vega', assets.vega)}${script('vega-lite', assets.vegaLite)}${script('vega-embed', assets.vegaEmbed)}<script>${new SafeHtml(BOOTSTRAP)}</script>
</body>
</html>
`.markup;
}
