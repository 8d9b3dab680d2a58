/**
 * The HTML report in a real browser (headless Chromium through playwright-core), opened from a file: every chart
 * draws as SVG with marks, the page makes no network request beyond its own navigation, logs no error, runs no
 * script from the data (no dialog), and its policy blocks a request the page itself tries.
 *
 * Needs /usr/bin/chromium (Debian: apt-get install -y chromium). Skipped without it, except under CI, where it
 * must run (and fails if the browser is missing).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, inPage, skipWithoutChromium } from '../../helpers/chromium.js';
import { buildCharts } from '../../../reports/charts/index.js';
import { renderHtml } from '../../../reports/html/render.js';
import type { ResultFile } from '../../../reports/schema.js';
import { hostile, kernelResult, serverResult, XSS } from './fixtures.js';

const skip = skipWithoutChromium('the browser test');

interface Visit {
  page: Page;
  url: string;
  /** Every request the page started (Chromium reports one even when the policy then blocks it). */
  requests: string[];
  /** Every response the page received. */
  responses: string[];
  failed: string[];
  errors: string[];
  dialogs: string[];
}

describe.skipIf(skip)('the HTML report in Chromium', () => {
  let dir: string;
  let context: BrowserContext;
  let results: ResultFile[];
  let visit: Visit;

  async function open(html: string, name: string): Promise<Visit> {
    const file = join(dir, name);
    writeFileSync(file, html);
    const url = pathToFileURL(file).href;
    const page = await context.newPage();
    const v: Visit = { page, url, requests: [], responses: [], failed: [], errors: [], dialogs: [] };
    page.on('request', (r) => v.requests.push(r.url()));
    page.on('response', (r) => v.responses.push(r.url()));
    page.on('requestfailed', (r) => v.failed.push(`${r.url()} ${r.failure()?.errorText}`));
    page.on('console', (m) => {
      if (m.type() === 'error') v.errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => v.errors.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => {
      v.dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(url);
    await page.waitForSelector('body[data-charts-rendered]', { timeout: 15_000 });
    return v;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skipbench-html-'));
    const [kernel, server] = await Promise.all([kernelResult(), serverResult(XSS)]);
    results = [hostile(kernel), hostile(server)];
    // imported only now: playwright-core installs its own undici as the process-wide global dispatcher, which the
    // server client (harness/server/request.ts) would then send through, and fail
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    visit = await open(renderHtml(results), 'report.html');
  });

  afterAll(async () => {
    await context?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws every chart as an SVG with marks', async () => {
    const expected = buildCharts(results).charts.map((c) => c.id);
    expect(expected).toHaveLength(9);
    const drawn = await inPage<{ id: string; error: string | null; marks: number }[]>(
      visit.page,
      `[...document.querySelectorAll('[data-chart]')].map((el) => ({
        id: el.dataset.chart,
        error: el.getAttribute('data-chart-error'),
        marks: el.querySelectorAll('svg g.role-mark > *').length,
      }))`,
    );
    expect(drawn.map((d) => d.id)).toEqual(expected);
    for (const d of drawn) {
      expect(d.error, d.id).toBeNull();
      expect(d.marks, d.id).toBeGreaterThan(0);
    }
    expect(await inPage(visit.page, 'document.body.dataset.chartsRendered')).toBe(String(expected.length));
    expect(await inPage(visit.page, 'document.body.dataset.chartErrors')).toBeUndefined();
  });

  it('makes no request beyond opening the file, logs no error and never runs a script from the data', () => {
    expect(visit.requests).toEqual([visit.url]);
    expect(visit.responses).toEqual([visit.url]);
    expect(visit.failed).toEqual([]);
    expect(visit.errors).toEqual([]);
    expect(visit.dialogs).toEqual([]);
  });

  it('shows markup from the results as text', async () => {
    // innerText: the text as rendered (textContent would also hold the scripts' source)
    const text = await inPage<string>(visit.page, 'document.body.innerText');
    expect(text).toContain(XSS);
    // and in the charts, as SVG text (legend labels of the hostile arm ids)
    const labels = await inPage<string[]>(
      visit.page,
      `[...document.querySelectorAll('[data-chart] svg text')].map((t) => t.textContent)`,
    );
    expect(labels.some((l) => l?.includes('<script>'))).toBe(true);
    expect(await inPage(visit.page, `document.querySelectorAll('script:not([type])').length`)).toBe(4);
  });

  it('blocks a request the page itself tries, by its Content-Security-Policy', async () => {
    const probe = await open(renderHtml(results), 'probe.html');
    const violated = await inPage<string>(
      probe.page,
      `new Promise((resolve) => {
        document.addEventListener('securitypolicyviolation', (e) => resolve(e.effectiveDirective));
        new Image().src = 'http://127.0.0.1:9/blocked.png';
      })`,
    );
    expect(violated).toBe('img-src');
    await expect.poll(() => probe.failed).toEqual(['http://127.0.0.1:9/blocked.png csp']);
    expect(probe.responses).toEqual([probe.url]);
    await probe.page.close();
  });
});
