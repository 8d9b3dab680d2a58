/**
 * `skipbench report --svg-dir/--png-dir`: writes one SVG and/or PNG per chart of the HTML report
 * (`<dir>/<chart id>.svg|png`, e.g. kernel-speedup.svg). Rendering is in reports/charts/images.ts; this only writes.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChartDataOptions } from '../../reports/charts/data.js';
import { chartSvgs, svgToPng } from '../../reports/charts/images.js';
import type { ResultFile } from '../../reports/schema.js';

export interface ChartFileOptions extends ChartDataOptions {
  svgDir?: string;
  pngDir?: string;
  /** PNG scale over the SVG's size (default 2). */
  pngZoom?: number;
}

/** Temp file + rename, so a reader never sees half an image. */
function writeAtomic(path: string, contents: string | Uint8Array): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, contents);
  renameSync(temp, path);
}

/** Renders every chart the results have data for and writes it; returns the paths written, SVGs first. */
export async function writeChartFiles(
  results: ResultFile | readonly ResultFile[],
  options: ChartFileOptions,
): Promise<string[]> {
  if (!options.svgDir && !options.pngDir) return [];
  const svgs = await chartSvgs(results, options.interval ? { interval: options.interval } : {});
  const written: string[] = [];
  for (const [dir, ext] of [
    [options.svgDir, 'svg'],
    [options.pngDir, 'png'],
  ] as const) {
    if (!dir) continue;
    mkdirSync(dir, { recursive: true });
    for (const { name, svg } of svgs) {
      const path = join(dir, `${name}.${ext}`);
      writeAtomic(path, ext === 'svg' ? svg : svgToPng(svg, options.pngZoom));
      written.push(path);
    }
  }
  return written;
}
