/** Custom model and GPU files: both model shapes parse, bad fields fail with SKB_CONFIG naming the field. */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../kernels/errors.js';
import { MODEL_PRESETS } from '../../../reports/projection/presets.js';
import {
  gpuFromJson,
  gpuPreset,
  looksLikeFile,
  modelFromJson,
  modelPreset,
} from '../../../reports/projection/specs.js';

function failure(fn: () => unknown): { code?: string; field?: string; message?: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; field?: string };
  }
  throw new Error('expected an error');
}

const OWN = {
  id: 'mini',
  layers: 4,
  hidden: 256,
  numQueryHeads: 8,
  numKvHeads: 2,
  headDim: 32,
  ffn: { kind: 'dense', intermediate: 512 },
  vocab: 1000,
};

/** Qwen3-30B-A3B's config.json, the fields that matter. */
const HF_QWEN = {
  _name_or_path: 'Qwen/Qwen3-30B-A3B',
  num_hidden_layers: 48,
  hidden_size: 2048,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  head_dim: 128,
  intermediate_size: 6144,
  moe_intermediate_size: 768,
  num_experts: 128,
  num_experts_per_tok: 8,
  vocab_size: 151936,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
};

describe('custom models', () => {
  it("reads skipbench's own shape with defaults for dtype, KV dtype and tying", () => {
    const m = modelFromJson(OWN, 'mini.json');
    expect(m).toMatchObject({
      id: 'mini',
      name: 'mini',
      layers: 4,
      dtype: 'bf16',
      kvDtype: 'bf16',
      tieWordEmbeddings: false,
      source: 'mini.json',
    });
    expect(modelFromJson({ ...OWN, dtype: 'fp8' }, 'x.json').kvDtype).toBe('fp8');
  });

  it('reads a Hugging Face config.json: Qwen3-30B-A3B gives the preset', () => {
    const m = modelFromJson(HF_QWEN, 'config.json', 'qwen3-30b-a3b');
    const preset = MODEL_PRESETS['qwen3-30b-a3b'];
    for (const key of [
      'layers',
      'hidden',
      'numQueryHeads',
      'numKvHeads',
      'headDim',
      'ffn',
      'vocab',
      'dtype',
    ] as const) {
      expect(m[key]).toEqual(preset[key]);
    }
  });

  it('defaults head_dim to hidden / heads and KV heads to query heads in a config.json', () => {
    const m = modelFromJson(
      { num_hidden_layers: 2, hidden_size: 512, num_attention_heads: 8, intermediate_size: 1024, vocab_size: 10 },
      'c.json',
    );
    expect(m).toMatchObject({ headDim: 64, numKvHeads: 8, ffn: { kind: 'dense', intermediate: 1024 } });
  });

  it('names the bad field with SKB_CONFIG', () => {
    expect(failure(() => modelFromJson({ ...OWN, layers: 0 }, 'm.json'))).toMatchObject({
      code: ErrorCodes.CONFIG,
      field: 'model.layers',
    });
    expect(failure(() => modelFromJson({ ...OWN, headDim: 'big' }, 'm.json'))).toMatchObject({
      field: 'model.headDim',
    });
    expect(failure(() => modelFromJson({ ...OWN, numKvHeads: 3 }, 'm.json'))).toMatchObject({
      field: 'model.numKvHeads',
    });
    expect(failure(() => modelFromJson({ ...OWN, ffn: { kind: 'mlp' } }, 'm.json'))).toMatchObject({
      field: 'model.ffn.kind',
    });
    expect(
      failure(() =>
        modelFromJson({ ...OWN, ffn: { kind: 'moe', experts: 4, activeExperts: 8, expertIntermediate: 8 } }, 'm.json'),
      ),
    ).toMatchObject({
      field: 'model.ffn.activeExperts',
    });
    expect(failure(() => modelFromJson({ ...OWN, ffn: undefined }, 'm.json'))).toMatchObject({ field: 'model.ffn' });
    expect(failure(() => modelFromJson({ ...OWN, kvDtype: 'int4' }, 'm.json'))).toMatchObject({
      field: 'model.kvDtype',
    });
    expect(failure(() => modelFromJson({ ...HF_QWEN, num_key_value_heads: -1 }, 'c.json'))).toMatchObject({
      code: ErrorCodes.CONFIG,
      field: 'model.num_key_value_heads',
    });
    expect(failure(() => modelFromJson({ ...HF_QWEN, torch_dtype: 'int8' }, 'c.json'))).toMatchObject({
      field: 'model.torch_dtype',
    });
    expect(failure(() => modelFromJson([1, 2], 'c.json'))).toMatchObject({ code: ErrorCodes.CONFIG, field: 'model' });
  });

  it('the message names the file', () => {
    expect(failure(() => modelFromJson({ ...OWN, vocab: 1.5 }, 'my-model.json')).message).toMatch(
      /^my-model\.json: model\.vocab must be/,
    );
  });
});

describe('custom GPUs', () => {
  const GPU = {
    name: 'X',
    peakFlopsPerSec: { bf16: 5e14 },
    memoryBytesPerSec: 2e12,
    memoryBytes: 4.8e10,
    linkBytesPerSec: 4e11,
  };

  it('reads the figures and labels them custom', () => {
    expect(gpuFromJson(GPU, 'x.json')).toMatchObject({
      id: 'custom',
      name: 'X',
      peakFlopsPerSec: { bf16: 5e14 },
      label: 'custom (user-supplied)',
      source: 'x.json',
    });
    expect(gpuFromJson({ ...GPU, peakFlopsPerSec: { bf16: 1, fp8: 2 } }, 'x.json').peakFlopsPerSec.fp8).toBe(2);
  });

  it('names the bad field with SKB_CONFIG', () => {
    expect(failure(() => gpuFromJson({ ...GPU, memoryBytesPerSec: 0 }, 'g.json'))).toMatchObject({
      code: ErrorCodes.CONFIG,
      field: 'gpu.memoryBytesPerSec',
    });
    expect(failure(() => gpuFromJson({ ...GPU, peakFlopsPerSec: { fp8: 1 } }, 'g.json'))).toMatchObject({
      field: 'gpu.peakFlopsPerSec.bf16',
    });
    expect(failure(() => gpuFromJson({ ...GPU, peakFlopsPerSec: 5 }, 'g.json'))).toMatchObject({
      field: 'gpu.peakFlopsPerSec',
    });
    expect(failure(() => gpuFromJson({ ...GPU, linkBytesPerSec: undefined }, 'g.json'))).toMatchObject({
      field: 'gpu.linkBytesPerSec',
    });
  });
});

describe('presets by name', () => {
  it('finds presets case-insensitively and lists them when unknown', () => {
    expect(modelPreset('Llama-3.3-70B').layers).toBe(80);
    expect(gpuPreset('H200').memoryBytesPerSec).toBe(4.8e12);
    expect(failure(() => modelPreset('gpt-5'))).toMatchObject({ code: ErrorCodes.CONFIG, field: '--model' });
    expect(failure(() => gpuPreset('a100'))).toMatchObject({ code: ErrorCodes.CONFIG, field: '--gpu' });
  });

  it('tells files from preset names', () => {
    expect(looksLikeFile('h100')).toBe(false);
    expect(looksLikeFile('my.json')).toBe(true);
    expect(looksLikeFile('./configs/x')).toBe(true);
  });
});
