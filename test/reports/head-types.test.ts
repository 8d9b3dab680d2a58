/**
 * Accuracy by head type, derived from HeadRecords alone: grouping by pattern per skip arm and (context, phase), the
 * error and sparsity aggregates, needle recall of the retrieval heads, and the table in Markdown and HTML.
 */
import { describe, expect, it } from 'vitest';
import { accuracyByHeadType, headTypeTable, needleAggregate } from '../../reports/head-types.js';
import type { VegaAssets } from '../../reports/html/assets.js';
import { renderHtml } from '../../reports/html/render.js';
import { renderMarkdown } from '../../reports/markdown.js';
import {
  type HeadRecord,
  type KernelCell,
  type KernelResultFile,
  type NeedleRecall,
  type Phase,
  RESULT_SCHEMA,
  RESULT_SCHEMA_VERSION,
} from '../../reports/schema.js';
import { testEnvironment } from '../helpers/environment.js';

const COUNTERS = { visitedTiles: 10, skippedTiles: 0, flops: 1, denseFlops: 1, bytes: 1, denseBytes: 1 };

function needle(recall: number, lostRows: number, rows = 16): NeedleRecall {
  return { position: 700, rows, denseMass: 0.8, skipMass: 0.8 * recall, recall, lostRows, method: 'test method' };
}

function head(i: number, pattern: string, sparsity: number, relativeL2?: number, n?: NeedleRecall): HeadRecord {
  return {
    head: i,
    pattern,
    counters: COUNTERS,
    sparsity,
    ...(relativeL2 !== undefined ? { error: { relativeL2, maxAbs: 0.1 } } : {}),
    ...(n ? { needle: n } : {}),
  };
}

function cell(context: number, phase: Phase, arm: string, heads: HeadRecord[]): KernelCell {
  return {
    kind: 'kernel',
    context,
    phase,
    arm,
    provenance: { kind: 'measured' },
    samples: [{ status: 'ok', round: 0, sequence: 0, wallMs: 1, iterations: 1, timeMs: 1, foreignLoad: 0 }],
    summary: { n: 1, failed: 0, medianMs: 1, minMs: 1, maxMs: 1, madMs: 0, estimatedFullMs: 1 },
    work: {
      flops: 1,
      denseFlops: 1,
      bytes: 1,
      denseBytes: 1,
      visitedTiles: 10,
      skippedTiles: 5,
      sparsity: 0.5,
      arithmeticIntensity: 1,
      bound: 'unknown',
      denseEquivalentFlopsPerSec: 1,
      achievedFlopsPerSec: 1,
      achievedBytesPerSec: 1,
    },
    heads,
    foreignLoad: 0,
    disturbed: false,
  };
}

function result(cells: KernelCell[]): KernelResultFile {
  return {
    schema: RESULT_SCHEMA,
    schemaVersion: RESULT_SCHEMA_VERSION,
    run: { id: 'kernel-test', startedAt: '2026-01-01T00:00:00.000Z', status: 'completed', command: [], config: {} },
    environment: testEnvironment(),
    target: {
      kind: 'kernel',
      implementation: 'reference',
      threads: 1,
      shape: { numQueryHeads: 4, numKvHeads: 2, headDim: 64 },
      workload: { description: 'synthetic', headPatterns: ['retrieval', 'sink', 'retrieval', 'sink'] },
      tiles: { prefill: { blockM: 64, blockN: 128 }, decode: { blockN: 64, partitions: 1 } },
    },
    arms: [
      { id: 'dense', thresholdScaleFactor: { prefill: 0, decode: 0 } },
      { id: 'skip', thresholdScaleFactor: { prefill: 100, decode: 150 } },
    ],
    cells,
  };
}

/** 4K prefill: two retrieval heads (one lost a row), two sink heads; 4K decode: two groups of retrieval+sink. */
function fixture(): KernelResultFile {
  return result([
    cell(4096, 'prefill', 'dense', [head(0, 'retrieval', 0), head(1, 'sink', 0), head(2, 'retrieval', 0)]),
    cell(4096, 'prefill', 'skip', [
      head(0, 'retrieval', 0.4, 1e-3, needle(1.0, 0)),
      head(1, 'sink', 0.6, 4e-3),
      head(2, 'retrieval', 0.2, 3e-3, needle(0.5, 8)),
      head(3, 'sink', 0.8, 2e-3),
    ]),
    cell(4096, 'decode', 'dense', [head(0, 'retrieval+sink', 0)]),
    cell(4096, 'decode', 'skip', [
      head(0, 'retrieval+sink', 0.5, 1e-2, needle(0.9, 0, 1)),
      head(1, 'retrieval+sink', 0.3, 3e-2, needle(0.7, 0, 1)),
    ]),
  ]);
}

describe('accuracyByHeadType', () => {
  it('groups each skip cell by pattern: mean sparsity, mean and max error, needle recall; dense left out', () => {
    const rows = accuracyByHeadType(fixture());
    expect(rows.map((r) => `${r.context} ${r.phase} ${r.arm} ${r.pattern} ${r.heads}`)).toEqual([
      '4096 prefill skip retrieval 2',
      '4096 prefill skip sink 2',
      '4096 decode skip retrieval+sink 2',
    ]);
    const [retrieval, sink, decode] = rows;
    expect(retrieval.meanSparsity).toBeCloseTo(0.3, 12);
    expect(retrieval.meanRelativeL2).toBeCloseTo(2e-3, 12);
    expect(retrieval.maxRelativeL2).toBe(3e-3);
    expect(retrieval.needle).toMatchObject({ heads: 2, meanRecall: 0.75, lostRows: 8, rows: 32 });
    expect(retrieval.needle!.meanDenseMass).toBeCloseTo(0.8, 12);
    expect(retrieval.needle!.meanSkipMass).toBeCloseTo(0.6, 12);
    expect(sink.meanSparsity).toBeCloseTo(0.7, 12);
    expect(sink.maxRelativeL2).toBe(4e-3);
    expect(sink.needle).toBeUndefined();
    expect(decode.needle).toMatchObject({ heads: 2, lostRows: 0, rows: 2 });
    expect(decode.needle!.meanRecall).toBeCloseTo(0.8, 12);
  });

  it('leaves out heads without a pattern (captured tensors) and errors that were not measured', () => {
    const r = result([
      cell(1024, 'prefill', 'skip', [{ head: 0, counters: COUNTERS, sparsity: 0.5 }, head(1, 'local', 0.5)]),
    ]);
    const rows = accuracyByHeadType(r);
    expect(rows).toHaveLength(1);
    expect(rows[0].meanRelativeL2).toBeUndefined();
    expect(needleAggregate(r.cells[0].heads)).toBeUndefined();
    expect(headTypeTable(r)!.rows[0].slice(5)).toEqual(['50.0%', '—', '—', '—', '—', '—']);
    expect(headTypeTable(result([]))).toBeUndefined();
  });
});

describe('the Accuracy by head type table', () => {
  it('is in the Markdown report with recall, masses, lost rows and the method', () => {
    const md = renderMarkdown(fixture());
    expect(md).toContain('### Accuracy by head type');
    const lines = md.split('\n');
    const start = lines.indexOf('### Accuracy by head type');
    const table = lines.slice(start).filter((l) => l.startsWith('| 4K'));
    expect(table[0]).toBe(
      '| 4K | prefill | skip | retrieval | 2 | 30.0% | 2.0e-3 | 3.0e-3 | 0.750 | 0.800 → 0.600 | 8 / 32 |',
    );
    expect(table[1]).toBe('| 4K | prefill | skip | sink | 2 | 70.0% | 3.0e-3 | 4.0e-3 | — | — | — |');
    expect(table[2]).toBe(
      '| 4K | decode | skip | retrieval+sink | 2 | 40.0% | 2.0e-2 | 3.0e-2 | 0.800 | 0.800 → 0.640 | 0 / 2 |',
    );
    expect(md).toContain('- needle recall, prefill: test method.');
    // before the per-head table
    expect(start).toBeLessThan(lines.indexOf('### Per head at 4K'));
  });

  it('is in the HTML report, built from the same rows', () => {
    const assets: VegaAssets = {
      vega: '',
      vegaLite: '',
      vegaEmbed: '',
      versions: { vega: '0', vegaLite: '0', vegaEmbed: '0' },
    };
    const page = renderHtml(fixture(), { assets });
    const table = page.match(/<table data-table="head-types">([\s\S]*?)<\/table>/);
    expect(table).not.toBeNull();
    expect(page).toContain('>Accuracy by head type</h3>');
    const cells = [...table![1].matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(cells.slice(0, 11)).toEqual(headTypeTable(fixture())!.rows[0]);
  });
});
