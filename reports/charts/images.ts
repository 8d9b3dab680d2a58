/**
 * Static images of the charts, rendered in Node without a browser: vega-lite spec -> vega spec -> a headless
 * vega View -> SVG, and SVG -> PNG with resvg. Returns strings and bytes; only the CLI writes files.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { ResultFile } from '../schema.js';
import { buildCharts, chartWithData } from './index.js';
import type { ChartDataOptions } from './data.js';

export interface ChartSvg {
  /** The chart id, e.g. `kernel-speedup`. */
  name: string;
  svg: string;
}

export interface ChartPng {
  name: string;
  png: Uint8Array;
}

/** SVG of every chart the results get (charts without data are left out, as in the HTML report). */
export async function chartSvgs(
  results: ResultFile | readonly ResultFile[],
  options: ChartDataOptions = {},
): Promise<ChartSvg[]> {
  const { charts, datasets } = buildCharts(Array.isArray(results) ? results : [results as ResultFile], options);
  const out: ChartSvg[] = [];
  for (const chart of charts) {
    const { spec } = compile(chartWithData(chart, datasets));
    const view = new vega.View(vega.parse(spec), { renderer: 'none' });
    try {
      out.push({ name: chart.id, svg: await view.toSVG() });
    } finally {
      view.finalize();
    }
  }
  return out;
}

/** PNG bytes of an SVG on a white background, at `zoom` x its size (system fonts for the text). */
export function svgToPng(svg: string, zoom = 2): Uint8Array {
  const image = new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: zoom }, logLevel: 'off' }).render();
  return new Uint8Array(image.asPng());
}

export function chartPngs(svgs: readonly ChartSvg[], zoom = 2): ChartPng[] {
  return svgs.map(({ name, svg }) => ({ name, png: svgToPng(svg, zoom) }));
}
