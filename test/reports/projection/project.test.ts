/** A whole projection on the tiny model and a round GPU, checked against hand arithmetic; renderers and JSON shape. */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../kernels/errors.js';
import { MODEL_PRESETS, GPU_PRESETS, DEFAULT_EFFICIENCY } from '../../../reports/projection/presets.js';
import {
  PROJECTION_SCHEMA,
  PROJECTION_SCHEMA_VERSION,
  type ProjectionConfig,
  project,
} from '../../../reports/projection/project.js';
import { renderProjection } from '../../../reports/projection/render.js';
import { FULL_EFFICIENCY, ROUND_GPU, TINY } from './fixtures.js';

const NOW = () => new Date('2026-01-01T00:00:00.000Z');

function config(over: Partial<ProjectionConfig> = {}): ProjectionConfig {
  return {
    model: TINY,
    gpu: ROUND_GPU,
    tp: 1,
    batch: 1,
    contexts: [8],
    phases: ['prefill', 'decode'],
    efficiency: FULL_EFFICIENCY,
    allReduce: true,
    overheadMs: { prefill: 0, decode: 0 },
    kernelSpeedup: { prefill: { kind: 'theory', sparsity: 0.5 }, decode: { kind: 'given', speedup: 2 } },
    ...over,
  };
}

describe('project', () => {
  it('decode on the tiny model: every term by hand', () => {
    const p = project(config(), NOW);
    const row = p.rows.find((r) => r.phase === 'decode')!;
    // attention: 2048 FLOPs (2.048e-6 ms), 1024 bytes at 1e11 B/s = 1.024e-5 ms -> bandwidth
    expect(row.attentionPerLayer).toMatchObject({ flops: 2048, bytes: 1024, bound: 'bandwidth' });
    expect(row.attentionPerLayer.ms).toBeCloseTo(1.024e-5, 15);
    // linear: 73728 bytes -> 7.3728e-4 ms; LM head 12800 bytes -> 1.28e-4 ms
    expect(row.linearPerLayer.ms).toBeCloseTo(7.3728e-4, 15);
    expect(row.lmHead.ms).toBeCloseTo(1.28e-4, 15);
    const attention = 2 * 1.024e-5;
    const dense = attention + 2 * 7.3728e-4 + 1.28e-4;
    expect(row.attentionMs).toBeCloseTo(attention, 15);
    expect(row.denseMs).toBeCloseTo(dense, 15);
    expect(row.attentionShare).toBeCloseTo(attention / dense, 12);
    // S = 2 given: skip time drops by half the attention time; speedup = dense / skip = Amdahl
    expect(row.kernelSpeedup).toMatchObject({ value: 2, source: 'given' });
    expect(row.skipMs).toBeCloseTo(dense - attention / 2, 15);
    expect(row.speedup).toBeCloseTo(dense / (dense - attention / 2), 12);
    expect(row.metric).toBe('TPOT');
  });

  it('prefill uses the theory bound at the given sparsity', () => {
    const row = project(config(), NOW).rows.find((r) => r.phase === 'prefill')!;
    expect(row.metric).toBe('TTFT');
    expect(row.kernelSpeedup.value).toBeCloseTo(4 / 3, 12);
    expect(row.kernelSpeedup.label).toContain('2/(2-s)');
    const f = row.attentionShare;
    expect(row.speedup).toBeCloseTo(1 / (1 - f + f / (4 / 3)), 12);
  });

  it('a fixed overhead per pass lowers f and the end-to-end speedup', () => {
    const base = project(config(), NOW).rows[1];
    const slowed = project(config({ overheadMs: { prefill: 0, decode: base.denseMs } }), NOW).rows[1];
    expect(slowed.attentionShare).toBeCloseTo(base.attentionShare / 2, 12);
    expect(slowed.speedup).toBeLessThan(base.speedup);
  });

  it('adds the all-reduce term under tensor parallelism, and leaves it out when asked', () => {
    const on = project(config({ tp: 2 }), NOW).rows[0];
    // prefill, 8 tokens, tp 2: 2048 bytes at 10 GB/s = 2.048e-4 ms
    expect(on.allReducePerLayerMs).toBeCloseTo(2.048e-4, 15);
    expect(on.otherPerLayerMs).toBeCloseTo(on.linearPerLayer.ms + 2.048e-4, 15);
    expect(project(config({ tp: 2, allReduce: false }), NOW).rows[0].allReducePerLayerMs).toBe(0);
  });

  it('Llama 3.3 70B on 4 H100s at 128K prefill: f near Hq·L·d / (Hq·L·d + P), independent of equal efficiencies', () => {
    const c = config({
      model: MODEL_PRESETS['llama-3.3-70b'],
      gpu: GPU_PRESETS.h100,
      tp: 4,
      contexts: [131072],
      phases: ['prefill'],
      efficiency: DEFAULT_EFFICIENCY,
      allReduce: false,
    });
    const row = project(c, NOW).rows[0];
    // 2·64·L²·128 vs 2·855.6M·L per layer; the LM head adds 2·8192·128256 once
    const attn = 64 * 131072 * 128;
    const perLayerLinear = 2 * 8192 * 64 * 128 + 2 * 8192 * 8 * 128 + 3 * 8192 * 28672;
    expect(row.attentionShare).toBeCloseTo(attn / (attn + perLayerLinear), 3);
    const other = project(
      { ...c, efficiency: { compute: 0.3, bandwidth: 0.3, attentionCompute: 0.3, attentionBandwidth: 0.3 } },
      NOW,
    ).rows[0];
    expect(other.attentionShare).toBeCloseTo(row.attentionShare, 3);
    expect(other.denseMs).toBeCloseTo(2 * row.denseMs, 0);
  });

  it('warns once per context when weights and KV cache exceed the GPU memory', () => {
    const p = project(
      config({
        model: MODEL_PRESETS['llama-3.3-70b'],
        gpu: GPU_PRESETS.h100,
        tp: 1,
        contexts: [131072],
        efficiency: DEFAULT_EFFICIENCY,
      }),
      NOW,
    );
    expect(p.rows.every((r) => !r.memory.fits)).toBe(true);
    expect(p.warnings).toHaveLength(1);
    expect(p.warnings[0]).toMatch(/128K: weights \+ KV cache need/);
  });

  it('rejects bad inputs naming the field', () => {
    expect(() => project(config({ batch: 0 }))).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG, field: 'batch' }),
    );
    expect(() => project(config({ tp: 3 }))).toThrow(expect.objectContaining({ field: 'tp' }));
    expect(() => project(config({ efficiency: { ...FULL_EFFICIENCY, bandwidth: 1.5 } }))).toThrow(
      expect.objectContaining({ field: 'efficiency.bandwidth' }),
    );
    expect(() =>
      project(
        config({ kernelSpeedup: { prefill: { kind: 'theory', sparsity: 1 }, decode: { kind: 'given', speedup: 2 } } }),
      ),
    ).toThrow(expect.objectContaining({ field: 'sparsity.prefill' }));
    expect(() => project(config({ model: { ...TINY, dtype: 'fp8' } }))).toThrow(
      expect.objectContaining({ field: 'gpu.peakFlopsPerSec.fp8' }),
    );
  });
});

describe('projection output', () => {
  const p = project(config({ contexts: [8, 16] }), NOW);

  it('JSON: own versioned schema, labeled projected, inputs and assumptions included', () => {
    const json = JSON.parse(renderProjection('json', p));
    expect(json).toMatchObject({
      schema: PROJECTION_SCHEMA,
      schemaVersion: PROJECTION_SCHEMA_VERSION,
      kind: 'projected',
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(json.inputs.model.id).toBe('tiny');
    expect(json.rows).toHaveLength(4);
    expect(json.assumptions.length).toBeGreaterThan(3);
  });

  it('table and Markdown say projected and list every input', () => {
    for (const format of ['table', 'markdown']) {
      const text = renderProjection(format, p);
      expect(text).toMatch(/PROJECTED|Projected/);
      expect(text).toContain('model: Tiny');
      expect(text).toContain('gpu: Round GPU');
      expect(text).toContain('efficiency (fraction of peak)');
      expect(text).toContain('kernel speedup S, prefill: theory bound 2/(2-s), s = 50% -> 1.33x');
      expect(text).toContain('kernel speedup S, decode: given 2.00x');
      expect(text).toContain('Assumptions');
    }
    expect(renderProjection('markdown', p)).toContain('| context | phase |');
  });

  it('an unknown format lists the valid ones', () => {
    expect(() => renderProjection('html', p)).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG, field: 'format', allowed: 'json | markdown | table' }),
    );
  });
});
