/**
 * The published site in a real browser (headless Chromium through playwright-core), opened from files: the index
 * draws its four trend charts as SVG with marks, makes no network request beyond opening itself, logs no error,
 * runs no script from the data, and links to each run's report, which opens and draws too.
 *
 * Needs /usr/bin/chromium (Debian: apt-get install -y chromium). Skipped without it, except under CI, where it
 * must run (and fails if the browser is missing).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, inPage, skipWithoutChromium } from '../../helpers/chromium.js';
import { publishSite } from '../../../harness/commands/publish.js';
import { writeJsonAtomic } from '../../../harness/result-writer.js';
import { runFileName } from '../../../reports/publish/index.js';
import type { ResultFile } from '../../../reports/schema.js';
import { hostile, kernelResult, serverResult, XSS } from '../html/fixtures.js';

const skip = skipWithoutChromium('the site browser test');

function asRun<T extends ResultFile>(base: T, id: string, startedAt: string, factor: number): T {
  const r = structuredClone(base);
  r.run.id = id;
  r.run.startedAt = startedAt;
  for (const c of r.cells) {
    c.summary.medianMs *= factor;
    c.summary.estimatedFullMs *= factor;
    if (c.speedup) c.speedup.medianPairedRatio /= factor;
  }
  return r;
}

const HOSTILE_ID = `${XSS} nightly`;

describe.skipIf(skip)('the published site in Chromium', () => {
  let dir: string;
  let context: BrowserContext;
  let page: Page;
  let url: string;
  const requests: string[] = [];
  const errors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skipbench-site-'));
    const [kernel, server] = await Promise.all([kernelResult(), serverResult(XSS)]);
    const runs = [
      asRun(kernel, 'kernel-20260101-000000-aaaaaa', '2026-01-01T00:00:00.000Z', 1),
      asRun(kernel, 'kernel-20260102-000000-bbbbbb', '2026-01-02T00:00:00.000Z', 1.2),
      asRun(server, 'server-20260101-060000-cccccc', '2026-01-01T06:00:00.000Z', 1),
      asRun(hostile(server), HOSTILE_ID, '2026-01-02T06:00:00.000Z', 0.8),
    ];
    const files = runs.map((r, i) => {
      const path = join(dir, 'results', String(i), 'result.json');
      writeJsonAtomic(path, r);
      return path;
    });
    const outcome = publishSite(join(dir, 'site'), files);
    expect(outcome.runs.map((r) => r.action)).toEqual(['added', 'added', 'added', 'added']);
    // imported only now: playwright-core installs its own undici as the process-wide global dispatcher, which the
    // server client (harness/server/request.ts) would then send through, and fail
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    page = await context.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    url = pathToFileURL(outcome.index).href;
    await page.goto(url);
    await page.waitForSelector('body[data-charts-rendered]', { timeout: 15_000 });
  });

  afterAll(async () => {
    await context?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws every trend chart as an SVG with marks', async () => {
    const drawn = await inPage<{ id: string; error: string | null; marks: number }[]>(
      page,
      `[...document.querySelectorAll('[data-chart]')].map((el) => ({
        id: el.dataset.chart,
        error: el.getAttribute('data-chart-error'),
        marks: el.querySelectorAll('svg g.role-mark > *').length,
      }))`,
    );
    expect(drawn.map((d) => d.id)).toEqual([
      'trend-kernel-speedup',
      'trend-kernel-time',
      'trend-server-speedup',
      'trend-server-latency',
    ]);
    for (const d of drawn) {
      expect(d.error, d.id).toBeNull();
      expect(d.marks, d.id).toBeGreaterThan(0);
    }
    expect(await inPage(page, 'document.body.dataset.chartsRendered')).toBe('4');
    expect(await inPage(page, 'document.body.dataset.chartErrors')).toBeUndefined();
  });

  it('makes no request beyond opening the file, logs no error and never runs a script from the data', () => {
    expect(requests).toEqual([url]);
    expect(errors).toEqual([]);
    expect(dialogs).toEqual([]);
  });

  it('lists the runs newest first, with markup from the results as text', async () => {
    const rows = await inPage<string[]>(
      page,
      `[...document.querySelectorAll('table[data-table="runs"] tbody tr')].map((tr) => tr.dataset.run)`,
    );
    expect(rows).toEqual([
      HOSTILE_ID,
      'kernel-20260102-000000-bbbbbb',
      'server-20260101-060000-cccccc',
      'kernel-20260101-000000-aaaaaa',
    ]);
    const text = await inPage<string>(page, 'document.body.innerText');
    expect(text).toContain(HOSTILE_ID);
    expect(await inPage(page, `document.querySelectorAll('script:not([type])').length`)).toBe(4);
  });

  it("links to each run's report, which opens offline and draws its charts", async () => {
    const href = `runs/${runFileName(HOSTILE_ID)}.html`;
    await page.click(`tr[data-run] a[href="${href}"] >> nth=0`);
    await page.waitForURL(`**/${href}`);
    await page.waitForSelector('body[data-charts-rendered]', { timeout: 15_000 });
    expect(Number(await inPage(page, 'document.body.dataset.chartsRendered'))).toBeGreaterThan(0);
    expect(await inPage(page, 'document.body.dataset.chartErrors')).toBeUndefined();
    expect(requests).toEqual([url, new URL(href, url).href]);
    expect(errors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
