/** Preset sanity: parameter counts match the models' published sizes; GPU figures are the datasheet ones. */
import { describe, expect, it } from 'vitest';
import { layerWeights, memoryPerGpu } from '../../../reports/projection/model.js';
import { DEFAULT_EFFICIENCY, GPU_PRESETS, MODEL_PRESETS } from '../../../reports/projection/presets.js';

const params = (id: string) => memoryPerGpu(MODEL_PRESETS[id], 1, 1, 1).weightsBytes / 2;

describe('model presets', () => {
  it('total parameters match the published sizes (8.0B, 70.6B, 30.5B)', () => {
    expect(params('llama-3.1-8b') / 1e9).toBeCloseTo(8.03, 2);
    expect(params('llama-3.3-70b') / 1e9).toBeCloseTo(70.55, 1);
    expect(params('qwen3-30b-a3b') / 1e9).toBeCloseTo(30.53, 1);
  });

  it('Qwen3-30B-A3B activates about 3.3B parameters per token', () => {
    const m = MODEL_PRESETS['qwen3-30b-a3b'];
    const w = layerWeights(m, 1);
    const active = m.layers * (w.attentionProjections + w.ffnAlwaysOn + 8 * w.expert) + 2 * m.hidden * m.vocab;
    expect(active / 1e9).toBeCloseTo(3.35, 1);
  });

  it('every preset is GQA-consistent, bf16, keyed by its id, with a source', () => {
    for (const [key, m] of Object.entries(MODEL_PRESETS)) {
      expect(m.id).toBe(key);
      expect(m.numQueryHeads % m.numKvHeads).toBe(0);
      expect(m.dtype).toBe('bf16');
      expect(m.source).toMatch(/huggingface\.co/);
    }
  });
});

describe('GPU presets', () => {
  it('datasheet dense bf16 peak (the with-sparsity figure halved), HBM bandwidth and capacity', () => {
    expect(GPU_PRESETS.h100).toMatchObject({
      peakFlopsPerSec: { bf16: 989.5e12 },
      memoryBytesPerSec: 3.35e12,
      memoryBytes: 80e9,
    });
    expect(GPU_PRESETS.h200).toMatchObject({
      peakFlopsPerSec: { bf16: 989.5e12 },
      memoryBytesPerSec: 4.8e12,
      memoryBytes: 141e9,
    });
    expect(GPU_PRESETS.b200).toMatchObject({ peakFlopsPerSec: { bf16: 2250e12 }, memoryBytesPerSec: 8e12 });
    for (const [key, g] of Object.entries(GPU_PRESETS)) {
      expect(g.id).toBe(key);
      expect(g.label).toBe('datasheet peak');
      expect(g.peakFlopsPerSec.fp8).toBe(2 * g.peakFlopsPerSec.bf16);
    }
  });

  it('the default efficiency is a visible fraction of peak', () => {
    expect(DEFAULT_EFFICIENCY).toEqual({
      compute: 0.6,
      bandwidth: 0.8,
      attentionCompute: 0.6,
      attentionBandwidth: 0.8,
    });
  });
});
