/** SVG and PNG files of the charts, rendered in Node (vega's headless View, resvg) and written by the CLI helper. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeChartFiles } from '../../../harness/commands/report-files.js';
import { chartPngs, chartSvgs } from '../../../reports/charts/images.js';
import { buildCharts } from '../../../reports/charts/index.js';
import type { KernelResultFile, ServerResultFile } from '../../../reports/schema.js';
import { hostile, kernelResult, serverResult, XSS } from './fixtures.js';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let kernel: KernelResultFile;
let server: ServerResultFile;
let dir: string;

beforeAll(async () => {
  [kernel, server] = await Promise.all([kernelResult(), serverResult()]);
  dir = mkdtempSync(join(tmpdir(), 'skipbench-charts-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('chart images', () => {
  it('renders one SVG per chart with its marks, markup from the data escaped', async () => {
    const svgs = await chartSvgs([hostile(kernel), hostile(server)]);
    expect(svgs.map((s) => s.name)).toEqual(buildCharts([kernel, server]).charts.map((c) => c.id));
    for (const { name, svg } of svgs) {
      expect(svg.startsWith('<svg'), name).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>'), name).toBe(true);
      expect(svg, name).toMatch(/class="mark-(line|symbol|area|rule) role-mark/);
      expect(svg, name).not.toContain(XSS);
    }
    expect(svgs.find((s) => s.name === 'kernel-speedup')!.svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('rasterises SVG to PNG', async () => {
    const [png] = chartPngs((await chartSvgs(kernel)).slice(0, 1), 1);
    expect([...png.png.subarray(0, 8)]).toEqual(PNG_MAGIC);
    expect(png.name).toBe('kernel-speedup');
  });

  it('writes <dir>/<chart id>.svg and .png for the CLI, and nothing without a folder', async () => {
    expect(await writeChartFiles(server, {})).toEqual([]);
    const svgDir = join(dir, 'svg');
    const pngDir = join(dir, 'png');
    const written = await writeChartFiles(server, { svgDir, pngDir, pngZoom: 1 });
    const ids = buildCharts([server]).charts.map((c) => c.id);
    expect(written).toEqual([
      ...ids.map((id) => join(svgDir, `${id}.svg`)),
      ...ids.map((id) => join(pngDir, `${id}.png`)),
    ]);
    expect(readdirSync(svgDir).sort()).toEqual(ids.map((id) => `${id}.svg`).sort());
    for (const id of ids) {
      expect(readFileSync(join(svgDir, `${id}.svg`), 'utf8').startsWith('<svg')).toBe(true);
      expect([...readFileSync(join(pngDir, `${id}.png`)).subarray(0, 8)]).toEqual(PNG_MAGIC);
    }
  });
});
