/**
 * Custom models and GPUs from JSON, validated field by field. A model file is either skipbench's own shape (the
 * ModelSpec fields) or a Hugging Face `config.json` (recognised by `num_hidden_layers`). Errors are SKB_CONFIG and
 * name the field, e.g. `model.numKvHeads` or `model.num_key_value_heads`.
 */
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import { GPU_PRESETS, MODEL_PRESETS } from './presets.js';
import { DTYPES, type Dtype, type GpuSpec, type ModelSpec } from './types.js';

type Json = Record<string, unknown>;

class Reader {
  constructor(
    private readonly value: Json,
    private readonly prefix: string,
    private readonly origin: string,
  ) {}

  fail(key: string, allowed: string): never {
    const field = `${this.prefix}.${key}`;
    const received = this.value[key];
    throw new SkipbenchError(
      ErrorCodes.CONFIG,
      `${this.origin}: ${field} must be ${allowed} (got ${JSON.stringify(received)})`,
      {
        field,
        allowed,
        received,
      },
    );
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  int(key: string, fallback?: number): number {
    if (!this.has(key) && fallback !== undefined) return fallback;
    const v = this.value[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) this.fail(key, 'a whole number >= 1');
    return v;
  }

  intOrZero(key: string): number {
    if (!this.has(key)) return 0;
    const v = this.value[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(key, 'a whole number >= 0');
    return v;
  }

  positive(key: string): number {
    const v = this.value[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(key, 'a positive number');
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const v = this.value[key];
    if (typeof v !== 'boolean') this.fail(key, 'true | false');
    return v;
  }

  text(key: string, fallback: string): string {
    if (!this.has(key)) return fallback;
    const v = this.value[key];
    if (typeof v !== 'string' || v.trim() === '') this.fail(key, 'a non-empty string');
    return v;
  }

  dtype(key: string, fallback: Dtype): Dtype {
    if (!this.has(key)) return fallback;
    const v = this.value[key];
    if (!DTYPES.includes(v as Dtype)) this.fail(key, DTYPES.join(' | '));
    return v as Dtype;
  }

  object(key: string): Reader {
    const v = this.value[key];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(key, 'an object');
    return new Reader(v as Json, `${this.prefix}.${key}`, this.origin);
  }
}

function asObject(value: unknown, what: string, origin: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SkipbenchError(ErrorCodes.CONFIG, `${origin}: a ${what} file must hold a JSON object`, {
      field: what,
      received: value,
    });
  }
  return value as Json;
}

/** Hugging Face torch_dtype -> dtype (float32 checkpoints are served in 16 bits: taken as bf16). */
const HF_DTYPES: Record<string, Dtype> = { bfloat16: 'bf16', float16: 'fp16', float32: 'bf16', float8_e4m3fn: 'fp8' };

function fromHuggingFace(r: Reader, id: string, origin: string): ModelSpec {
  const layers = r.int('num_hidden_layers');
  const hidden = r.int('hidden_size');
  const numQueryHeads = r.int('num_attention_heads');
  const numKvHeads = r.int('num_key_value_heads', numQueryHeads);
  const headDim = r.int('head_dim', hidden / numQueryHeads);
  const experts = r.has('num_experts')
    ? r.int('num_experts')
    : r.has('num_local_experts')
      ? r.int('num_local_experts')
      : 0;
  let ffn: ModelSpec['ffn'];
  if (experts > 0) {
    ffn = {
      kind: 'moe',
      experts,
      activeExperts: r.int('num_experts_per_tok'),
      expertIntermediate: r.has('moe_intermediate_size') ? r.int('moe_intermediate_size') : r.int('intermediate_size'),
      sharedIntermediate: r.intOrZero('shared_expert_intermediate_size'),
    };
  } else {
    ffn = { kind: 'dense', intermediate: r.int('intermediate_size') };
  }
  const torchDtype = r.text('torch_dtype', 'bfloat16');
  const dtype = HF_DTYPES[torchDtype];
  if (!dtype) r.fail('torch_dtype', Object.keys(HF_DTYPES).join(' | '));
  return {
    id,
    name: r.text('_name_or_path', id),
    layers,
    hidden,
    numQueryHeads,
    numKvHeads,
    headDim,
    ffn,
    vocab: r.int('vocab_size'),
    tieWordEmbeddings: r.bool('tie_word_embeddings', false),
    dtype,
    kvDtype: dtype,
    source: `${origin} (Hugging Face config.json)`,
  };
}

function checkHeads(model: ModelSpec, origin: string, hf: boolean): ModelSpec {
  if (model.numQueryHeads % model.numKvHeads !== 0) {
    const field = hf ? 'model.num_key_value_heads' : 'model.numKvHeads';
    throw new SkipbenchError(
      ErrorCodes.CONFIG,
      `${origin}: ${field} must divide the query heads (${model.numQueryHeads})`,
      {
        field,
        allowed: `a divisor of ${model.numQueryHeads}`,
        received: model.numKvHeads,
      },
    );
  }
  if (model.ffn.kind === 'moe' && model.ffn.activeExperts > model.ffn.experts) {
    const field = hf ? 'model.num_experts_per_tok' : 'model.ffn.activeExperts';
    throw new SkipbenchError(ErrorCodes.CONFIG, `${origin}: ${field} must be <= the experts (${model.ffn.experts})`, {
      field,
      allowed: `<= ${model.ffn.experts}`,
      received: model.ffn.activeExperts,
    });
  }
  return model;
}

/** A custom model from parsed JSON; `origin` (a file path) names it in errors and becomes its source. */
export function modelFromJson(value: unknown, origin: string, id = 'custom'): ModelSpec {
  const json = asObject(value, 'model', origin);
  const r = new Reader(json, 'model', origin);
  if ('num_hidden_layers' in json) return checkHeads(fromHuggingFace(r, id, origin), origin, true);
  const ffnReader = r.object('ffn');
  const kind = ffnReader.text('kind', '');
  let ffn: ModelSpec['ffn'];
  if (kind === 'dense') ffn = { kind, intermediate: ffnReader.int('intermediate') };
  else if (kind === 'moe') {
    ffn = {
      kind,
      experts: ffnReader.int('experts'),
      activeExperts: ffnReader.int('activeExperts'),
      expertIntermediate: ffnReader.int('expertIntermediate'),
      sharedIntermediate: ffnReader.intOrZero('sharedIntermediate'),
    };
  } else return ffnReader.fail('kind', 'dense | moe');
  const dtype = r.dtype('dtype', 'bf16');
  return checkHeads(
    {
      id: r.text('id', id),
      name: r.text('name', r.text('id', id)),
      layers: r.int('layers'),
      hidden: r.int('hidden'),
      numQueryHeads: r.int('numQueryHeads'),
      numKvHeads: r.int('numKvHeads'),
      headDim: r.int('headDim'),
      ffn,
      vocab: r.int('vocab'),
      tieWordEmbeddings: r.bool('tieWordEmbeddings', false),
      dtype,
      kvDtype: r.dtype('kvDtype', dtype),
      source: r.text('source', origin),
    },
    origin,
    false,
  );
}

/** A custom GPU from parsed JSON: peakFlopsPerSec {bf16, fp8?}, memoryBytesPerSec, memoryBytes, linkBytesPerSec. */
export function gpuFromJson(value: unknown, origin: string, id = 'custom'): GpuSpec {
  const r = new Reader(asObject(value, 'gpu', origin), 'gpu', origin);
  const peak = r.object('peakFlopsPerSec');
  return {
    id: r.text('id', id),
    name: r.text('name', r.text('id', id)),
    peakFlopsPerSec: { bf16: peak.positive('bf16'), ...(peak.has('fp8') ? { fp8: peak.positive('fp8') } : {}) },
    memoryBytesPerSec: r.positive('memoryBytesPerSec'),
    memoryBytes: r.positive('memoryBytes'),
    linkBytesPerSec: r.positive('linkBytesPerSec'),
    label: r.text('label', 'custom (user-supplied)'),
    source: r.text('source', origin),
  };
}

function preset<T>(table: Record<string, T>, field: string, name: string): T {
  const found = table[name.toLowerCase()];
  if (!found) {
    throw new SkipbenchError(
      ErrorCodes.CONFIG,
      `${field} must be a preset (${Object.keys(table).join(' | ')}) or a .json file (got "${name}")`,
      { field, allowed: Object.keys(table).join(' | '), received: name },
    );
  }
  return found;
}

/** True when a --model / --gpu argument names a file rather than a preset. */
export function looksLikeFile(arg: string): boolean {
  return arg.endsWith('.json') || arg.includes('/') || arg.includes('\\');
}

export function modelPreset(name: string): ModelSpec {
  return preset(MODEL_PRESETS, '--model', name);
}

export function gpuPreset(name: string): GpuSpec {
  return preset(GPU_PRESETS, '--gpu', name);
}
