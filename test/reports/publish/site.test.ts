/**
 * The site as a pure build: run ids made safe file names, runs.json sorted and versioned, a run replaced by id,
 * the same inputs giving the same bytes, trend charts that compile with their named datasets, and every string from
 * a result escaped in the index. Results are real: the reference kernel and loopback servers (../html/fixtures.ts).
 */
import { compile } from 'vega-lite';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../kernels/errors.js';
import { withDatasets } from '../../../reports/charts/common.js';
import { renderHtml } from '../../../reports/html/render.js';
import {
  buildSite,
  emptySiteState,
  parseSiteState,
  publishProblems,
  renderSiteIndex,
  runFileName,
  SITE_SCHEMA,
  SITE_SCHEMA_VERSION,
  type SiteState,
  serializeResult,
  serializeSiteState,
  trendCharts,
} from '../../../reports/publish/index.js';
import type { KernelResultFile, ResultFile, ServerResultFile } from '../../../reports/schema.js';
import { kernelResult, serverResult, XSS } from '../html/fixtures.js';

let kernel: KernelResultFile;
let server: ServerResultFile;

beforeAll(async () => {
  [kernel, server] = await Promise.all([kernelResult(), serverResult()]);
});

/** A copy of `base` as another run: its id, its start, and every skip arm `factor` times slower. */
function variant<T extends ResultFile>(base: T, id: string, startedAt: string, factor = 1): T {
  const r = structuredClone(base);
  r.run.id = id;
  r.run.startedAt = startedAt;
  for (const c of r.cells) {
    if (!c.speedup) continue;
    c.summary.medianMs *= factor;
    c.summary.estimatedFullMs *= factor;
    c.speedup.ofMedians /= factor;
    c.speedup.medianPairedRatio /= factor;
    c.speedup.pairedRatios = c.speedup.pairedRatios.map((x) => x / factor);
  }
  return r;
}

/** The page without the contents of its <script> elements (the bundles hold markup in code). */
const withoutScripts = (html: string) => html.replace(/(<script\b[^>]*>)[\s\S]*?(<\/script>)/g, '$1$2');

type Logger = NonNullable<NonNullable<Parameters<typeof compile>[1]>['logger']>;

/** A vega-lite logger that keeps every warning and error (the default one only prints them). */
function collectingLogger(into: unknown[]): Logger {
  const logger = {
    level: () => logger,
    error: (...m: unknown[]) => {
      into.push(['error', ...m]);
      return logger;
    },
    warn: (...m: unknown[]) => {
      into.push(['warn', ...m]);
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  return logger as unknown as Logger;
}

const asMap = (files: { path: string; contents: string }[]) => new Map(files.map((f) => [f.path, f.contents]));

describe('run file names', () => {
  it('keeps skipbench run ids as they are', () => {
    for (const id of ['kernel-20260101-000000-1a2b3c', 'server-20260101-000000-abcdef', 'nightly_1.2'])
      expect(runFileName(id)).toBe(id);
  });

  it('makes any other id a safe, deterministic and distinct name', () => {
    const ids = [
      XSS,
      '../../etc/passwd',
      '..',
      '.hidden',
      '',
      'a/b\\c',
      'Kernel-Run',
      'kernel-run',
      'con',
      'nul.txt',
      'trailing.',
      'x'.repeat(300),
      'émoji 🚀 run',
      `${'y'.repeat(60)}--0123456789`,
    ];
    const names = ids.map(runFileName);
    for (const [i, name] of names.entries()) {
      expect(name, JSON.stringify(ids[i])).toMatch(/^[a-z0-9][a-z0-9._-]{0,79}$/);
      expect(name).not.toMatch(/^\.|\.\.|\.$/);
      expect(runFileName(ids[i])).toBe(name);
    }
    expect(new Set(names).size).toBe(ids.length);
    expect(runFileName(XSS)).toMatch(/^script-alert-1-script--[0-9a-f]{10}$/);
    // a safe id that looks like a derived name is derived too, so it cannot take another id's file
    const derived = runFileName(XSS);
    expect(runFileName(derived)).not.toBe(derived);
  });
});

describe('buildSite', () => {
  it('publishes two runs: runs.json sorted by start time, each run a report and a result, and the index', () => {
    const later = variant(kernel, 'kernel-b', '2026-02-02T00:00:00.000Z', 1.1);
    const earlier = variant(kernel, 'kernel-a', '2026-01-01T00:00:00.000Z');
    const build = buildSite(undefined, [later, earlier]);
    expect(build.changes).toEqual([
      { id: 'kernel-b', name: 'kernel-b', action: 'added' },
      { id: 'kernel-a', name: 'kernel-a', action: 'added' },
    ]);
    expect(build.files.map((f) => f.path)).toEqual([
      'runs/kernel-b.json',
      'runs/kernel-b.html',
      'runs/kernel-a.json',
      'runs/kernel-a.html',
      'runs.json',
      'index.html',
    ]);
    const files = asMap(build.files);
    expect(files.get('runs/kernel-a.json')).toBe(`${JSON.stringify(earlier, null, 2)}\n`);
    expect(files.get('runs/kernel-a.html')).toBe(renderHtml(earlier));
    const state = JSON.parse(files.get('runs.json')!) as SiteState;
    expect(files.get('runs.json')).toBe(`${JSON.stringify(state, null, 2)}\n`);
    expect(state.schema).toBe(SITE_SCHEMA);
    expect(state.schemaVersion).toBe(SITE_SCHEMA_VERSION);
    expect(state.runs.map((r) => r.id)).toEqual(['kernel-a', 'kernel-b']);

    const a = state.runs[0];
    expect(a).toMatchObject({
      name: 'kernel-a',
      startedAt: '2026-01-01T00:00:00.000Z',
      status: 'completed',
      target: 'kernel',
      label: 'reference, 1 thread',
      files: { report: 'runs/kernel-a.html', result: 'runs/kernel-a.json' },
      arms: kernel.arms.map((x) => x.id),
    });
    expect(a.cells).toHaveLength(kernel.cells.length);
    for (const [i, cell] of a.cells.entries()) {
      const source = kernel.cells[i];
      expect(cell).toMatchObject({ context: source.context, phase: source.phase, arm: source.arm });
      expect(cell.medianMs).toBe(source.summary.medianMs);
      expect(cell.fullMs).toBe(source.summary.estimatedFullMs);
      if (source.arm === kernel.arms[0].id) {
        expect(cell.speedup).toBeNull();
        continue;
      }
      const s = cell.speedup!;
      expect(s.medianPairedRatio).toBe(source.speedup!.medianPairedRatio);
      expect(s.rounds).toBe(source.speedup!.pairedRatios.length);
      expect(s.min).toBe(Math.min(...source.speedup!.pairedRatios));
      expect(s.ciLow!).toBeLessThanOrEqual(s.medianPairedRatio!);
      expect(s.ciHigh!).toBeGreaterThanOrEqual(s.medianPairedRatio!);
    }
    expect(state.runs[1].cells.find((c) => c.speedup)!.speedup!.medianPairedRatio).toBeCloseTo(
      kernel.cells.find((c) => c.speedup)!.speedup!.medianPairedRatio / 1.1,
      12,
    );
  });

  it('is deterministic and idempotent: the same results again give the same bytes', () => {
    const runs = [
      variant(kernel, 'kernel-a', '2026-01-01T00:00:00.000Z'),
      variant(server, 'server-a', '2026-01-02T00:00:00.000Z'),
    ];
    const first = buildSite(undefined, runs);
    expect(buildSite(undefined, runs).files).toEqual(first.files);
    const again = buildSite(parseSiteState(serializeSiteState(first.state), 'runs.json'), runs);
    expect(again.changes.map((c) => c.action)).toEqual(['replaced', 'replaced']);
    expect(again.files).toEqual(first.files);
    // in any order, one at a time or together
    const one = buildSite(undefined, [runs[1]]);
    const both = buildSite(one.state, [runs[0]]);
    expect(asMap(both.files).get('runs.json')).toBe(asMap(first.files).get('runs.json'));
    expect(asMap(both.files).get('index.html')).toBe(asMap(first.files).get('index.html'));
  });

  it('replaces a run published again with the same id and new contents', () => {
    const a = variant(kernel, 'kernel-a', '2026-01-01T00:00:00.000Z');
    const b = variant(kernel, 'kernel-b', '2026-01-02T00:00:00.000Z');
    const first = buildSite(undefined, [a, b]);
    const changed = variant(kernel, 'kernel-a', '2026-01-01T00:00:00.000Z', 2);
    changed.run.status = 'interrupted';
    const second = buildSite(first.state, [changed]);
    expect(second.changes).toEqual([{ id: 'kernel-a', name: 'kernel-a', action: 'replaced' }]);
    expect(second.state.runs.map((r) => [r.id, r.status])).toEqual([
      ['kernel-a', 'interrupted'],
      ['kernel-b', 'completed'],
    ]);
    expect(second.state.runs[1]).toEqual(first.state.runs[1]);
    expect(asMap(second.files).get('runs/kernel-a.json')).toBe(serializeResult(changed));
    expect(second.files.map((f) => f.path)).not.toContain('runs/kernel-b.html');
  });

  it('orders runs started at the same time by id, and one given twice alike once', () => {
    const t = '2026-03-01T12:00:00.000Z';
    const z = variant(kernel, 'z-run', t);
    const build = buildSite(undefined, [z, variant(kernel, 'a-run', '2026-03-01T13:00:00+01:00'), z]);
    expect(build.state.runs.map((r) => r.id)).toEqual(['a-run', 'z-run']);
    expect(build.changes.map((c) => c.id)).toEqual(['z-run', 'a-run']);
  });

  it('refuses one run id given twice with different contents', () => {
    const a = variant(kernel, 'same', '2026-01-01T00:00:00.000Z');
    expect(() => buildSite(undefined, [a, variant(kernel, 'same', '2026-01-01T00:00:00.000Z', 2)])).toThrow(
      expect.objectContaining({ code: ErrorCodes.RESULT }),
    );
  });
});

describe('runs.json', () => {
  it('reads back what it writes and refuses anything else', () => {
    const { state } = buildSite(undefined, [variant(kernel, 'kernel-a', '2026-01-01T00:00:00.000Z')]);
    expect(parseSiteState(serializeSiteState(state), 'runs.json')).toEqual(state);
    expect(serializeSiteState(emptySiteState())).toBe(
      `{\n  "schema": "${SITE_SCHEMA}",\n  "schemaVersion": ${SITE_SCHEMA_VERSION},\n  "runs": []\n}\n`,
    );
    for (const text of [
      '{',
      '[]',
      '{"schema":"skipbench/site","schemaVersion":2,"runs":[]}',
      '{"schema":"x","runs":[]}',
    ])
      expect(() => parseSiteState(text, 'site/runs.json'), text).toThrow(
        expect.objectContaining({ code: ErrorCodes.RESULT, field: 'site/runs.json' }),
      );
  });

  it('derives file names from ids rather than trusting them', () => {
    const { state } = buildSite(undefined, [variant(kernel, XSS, '2026-01-01T00:00:00.000Z')]);
    const edited = structuredClone(state);
    edited.runs[0].name = '../../evil';
    edited.runs[0].files.report = 'https://example.com/';
    const read = parseSiteState(serializeSiteState(edited), 'runs.json');
    expect(read.runs[0].name).toBe(runFileName(XSS));
    expect(read.runs[0].files.report).toBe(`runs/${runFileName(XSS)}.html`);
  });

  it('publishes results with the gate’s structure, an id and a start time; runs without cells too', () => {
    expect(publishProblems(kernel)).toEqual([]);
    expect(publishProblems({ ...kernel, cells: [] })).toEqual([]);
    expect(publishProblems({ ...kernel, run: { ...kernel.run, id: '' } })).toEqual(['run.id is missing or empty']);
    expect(publishProblems({ ...kernel, run: { ...kernel.run, startedAt: 'yesterday' } })).toEqual([
      'run.startedAt is not a date-time',
    ]);
    expect(publishProblems({ ...kernel, cells: 'none' })).toHaveLength(1);
    expect(publishProblems({ ...kernel, schemaVersion: 99 })).toHaveLength(1);
  });
});

describe('trend charts', () => {
  it('draws speedup and time per context over time for kernel and server runs; the specs compile', () => {
    const runs = [
      variant(kernel, 'kernel-a', '2026-01-01T00:00:00.000Z'),
      variant(kernel, 'kernel-b', '2026-01-02T00:00:00.000Z', 1.2),
      variant(server, 'server-a', '2026-01-01T06:00:00.000Z'),
      variant(server, 'server-b', '2026-01-02T06:00:00.000Z', 0.9),
    ];
    const set = trendCharts(buildSite(undefined, runs).state.runs);
    expect(set.charts.map((c) => c.id)).toEqual([
      'trend-kernel-speedup',
      'trend-kernel-time',
      'trend-server-speedup',
      'trend-server-latency',
    ]);
    expect(set.skipped).toEqual([]);
    const skipCells = (r: ResultFile) => r.cells.filter((c) => c.speedup).length;
    expect(set.datasets.trend_kernel_speedup).toHaveLength(2 * skipCells(kernel));
    expect(set.datasets.trend_kernel_time).toHaveLength(2 * kernel.cells.length);
    expect(set.datasets.trend_server_speedup).toHaveLength(2 * skipCells(server));
    expect(new Set(set.datasets.trend_server_latency.map((r) => r.panel))).toEqual(new Set(['TTFT', 'TPOT']));
    expect(set.datasets.trend_kernel_speedup[0]).toMatchObject({
      run: 'kernel-a',
      startedAt: '2026-01-01T00:00:00.000Z',
    });
    for (const chart of set.charts) {
      expect(JSON.stringify(chart.spec)).not.toContain('"values"');
      const data = Object.fromEntries(chart.datasets.map((n) => [n, set.datasets[n]]));
      const warnings: unknown[] = [];
      const { spec } = compile(withDatasets(chart.spec, data), { logger: collectingLogger(warnings) });
      expect(spec.data?.length, chart.id).toBeGreaterThan(0);
      expect(warnings, chart.id).toEqual([]);
    }
  });

  it('a site of kernel runs only gets no server charts, nor notes about them', () => {
    const set = trendCharts(buildSite(undefined, [variant(kernel, 'k', '2026-01-01T00:00:00.000Z')]).state.runs);
    expect(set.charts.map((c) => c.id)).toEqual(['trend-kernel-speedup', 'trend-kernel-time']);
    expect(set.skipped).toEqual([]);
    expect(trendCharts([]).charts).toEqual([]);
  });
});

describe('the index page', () => {
  it('is self-contained and escapes every string from a result', async () => {
    const hostileServer = variant(await serverResult(XSS), `${XSS} nightly`, '2026-01-05T00:00:00.000Z');
    hostileServer.arms[1].id = XSS;
    for (const c of hostileServer.cells) if (c.arm !== hostileServer.arms[0].id) c.arm = XSS;
    const build = buildSite(undefined, [variant(kernel, 'kernel-a', '2026-01-01T00:00:00.000Z'), hostileServer]);
    const index = asMap(build.files).get('index.html')!;
    const markup = withoutScripts(index);
    expect(markup).not.toContain(XSS);
    expect(markup).toContain('&lt;script&gt;alert(1)&lt;/script&gt; nightly');
    expect(markup).toContain(`href="runs/${runFileName(`${XSS} nightly`)}.html"`);
    // the chart data holds the hostile strings as inert JSON
    const payload = index.match(/<script type="application\/json" id="skipbench-charts">([\s\S]*?)<\/script>/)![1];
    expect(payload).not.toContain('<');
    expect(JSON.stringify(JSON.parse(payload))).toContain(XSS);
    // nothing is referenced by URL: no src, no stylesheet link, no http(s) anywhere outside the bundles
    expect(markup).not.toMatch(/\ssrc=|<link rel="stylesheet"|https?:\/\//);
    expect(markup).toContain('<meta http-equiv="Content-Security-Policy"');
    expect(markup.match(/<tr data-run=/g)).toHaveLength(2);
    // newest first
    expect(markup.indexOf('kernel-a')).toBeGreaterThan(markup.indexOf('nightly'));
    // the run's own report escapes them too
    const report = withoutScripts(asMap(build.files).get(build.state.runs[1].files.report)!);
    expect(report).not.toContain(XSS);
  });

  it('says so when there is nothing yet', () => {
    const page = withoutScripts(renderSiteIndex(emptySiteState()));
    expect(page).toContain('No runs published yet.');
    expect(page).toContain('No chart has data to draw.');
  });
});
