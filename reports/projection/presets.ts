/**
 * Model and GPU presets for projections. Each number carries its source. Models: the `config.json` each model
 * publishes on Hugging Face. GPUs: NVIDIA datasheets (dense tensor-core peak, i.e. the "with sparsity" figure
 * halved; HBM bandwidth and capacity; NVLink bandwidth), labeled "datasheet peak": no kernel reaches them, which
 * is what the efficiency factors are for.
 */
import type { Efficiency, GpuSpec, ModelSpec } from './types.js';

const TERA = 1e12;
const GB = 1e9;

export const MODEL_PRESETS: Record<string, ModelSpec> = {
  'llama-3.1-8b': {
    id: 'llama-3.1-8b',
    name: 'Llama 3.1 8B',
    // huggingface.co/meta-llama/Llama-3.1-8B config.json: num_hidden_layers 32, hidden_size 4096,
    // num_attention_heads 32, num_key_value_heads 8, head_dim 128, intermediate_size 14336, vocab_size 128256,
    // tie_word_embeddings false, torch_dtype bfloat16
    layers: 32,
    hidden: 4096,
    numQueryHeads: 32,
    numKvHeads: 8,
    headDim: 128,
    ffn: { kind: 'dense', intermediate: 14336 },
    vocab: 128256,
    tieWordEmbeddings: false,
    dtype: 'bf16',
    kvDtype: 'bf16',
    source: 'huggingface.co/meta-llama/Llama-3.1-8B config.json',
  },
  'llama-3.3-70b': {
    id: 'llama-3.3-70b',
    name: 'Llama 3.3 70B',
    // huggingface.co/meta-llama/Llama-3.3-70B-Instruct config.json: num_hidden_layers 80, hidden_size 8192,
    // num_attention_heads 64, num_key_value_heads 8, head_dim 128, intermediate_size 28672, vocab_size 128256,
    // tie_word_embeddings false, torch_dtype bfloat16
    layers: 80,
    hidden: 8192,
    numQueryHeads: 64,
    numKvHeads: 8,
    headDim: 128,
    ffn: { kind: 'dense', intermediate: 28672 },
    vocab: 128256,
    tieWordEmbeddings: false,
    dtype: 'bf16',
    kvDtype: 'bf16',
    source: 'huggingface.co/meta-llama/Llama-3.3-70B-Instruct config.json',
  },
  'qwen3-30b-a3b': {
    id: 'qwen3-30b-a3b',
    name: 'Qwen3-30B-A3B',
    // huggingface.co/Qwen/Qwen3-30B-A3B config.json (Qwen3-30B-A3B-Instruct-2507 has the same shape):
    // num_hidden_layers 48, hidden_size 2048, num_attention_heads 32, num_key_value_heads 4, head_dim 128,
    // num_experts 128, num_experts_per_tok 8, moe_intermediate_size 768 (every layer is MoE: decoder_sparse_step 1,
    // mlp_only_layers []), no shared expert, vocab_size 151936, tie_word_embeddings false, torch_dtype bfloat16
    layers: 48,
    hidden: 2048,
    numQueryHeads: 32,
    numKvHeads: 4,
    headDim: 128,
    ffn: { kind: 'moe', experts: 128, activeExperts: 8, expertIntermediate: 768, sharedIntermediate: 0 },
    vocab: 151936,
    tieWordEmbeddings: false,
    dtype: 'bf16',
    kvDtype: 'bf16',
    source: 'huggingface.co/Qwen/Qwen3-30B-A3B config.json',
  },
};

export const GPU_PRESETS: Record<string, GpuSpec> = {
  h100: {
    id: 'h100',
    name: 'H100 SXM 80GB',
    // NVIDIA H100 Tensor Core GPU datasheet, SXM column: BF16 Tensor Core 1,979 TFLOPS and FP8 3,958 TFLOPS, both
    // "with sparsity" (dense = half); GPU memory 80 GB; bandwidth 3.35 TB/s; NVLink 900 GB/s
    peakFlopsPerSec: { bf16: (1979 * TERA) / 2, fp8: (3958 * TERA) / 2 },
    memoryBytesPerSec: 3.35 * TERA,
    memoryBytes: 80 * GB,
    linkBytesPerSec: 900 * GB,
    label: 'datasheet peak',
    source: 'NVIDIA H100 Tensor Core GPU datasheet (SXM)',
  },
  h200: {
    id: 'h200',
    name: 'H200 SXM 141GB',
    // NVIDIA H200 Tensor Core GPU datasheet, SXM column: BF16 Tensor Core 1,979 TFLOPS and FP8 3,958 TFLOPS with
    // sparsity (same compute as H100; dense = half); GPU memory 141 GB; bandwidth 4.8 TB/s; NVLink 900 GB/s
    peakFlopsPerSec: { bf16: (1979 * TERA) / 2, fp8: (3958 * TERA) / 2 },
    memoryBytesPerSec: 4.8 * TERA,
    memoryBytes: 141 * GB,
    linkBytesPerSec: 900 * GB,
    label: 'datasheet peak',
    source: 'NVIDIA H200 Tensor Core GPU datasheet (SXM)',
  },
  b200: {
    id: 'b200',
    name: 'B200 (HGX, 1000 W)',
    // NVIDIA HGX B200 datasheet, per GPU: FP16/BF16 Tensor Core 4.5 PFLOPS and FP8 9 PFLOPS with sparsity
    // (dense 2.25 and 4.5 PFLOPS); HBM3e 8 TB/s; 1,440 GB per 8 GPUs = 180 GB; NVLink 5 1.8 TB/s
    peakFlopsPerSec: { bf16: (4500 * TERA) / 2, fp8: (9000 * TERA) / 2 },
    memoryBytesPerSec: 8 * TERA,
    memoryBytes: 180 * GB,
    linkBytesPerSec: 1800 * GB,
    label: 'datasheet peak',
    source: 'NVIDIA HGX B200 datasheet (per GPU)',
  },
};

/**
 * Achievable fraction of the datasheet peak (settable with --efficiency). Round, conservative figures; published
 * anchors for comparison: TensorRT-LLM tech blog 16's dense H200 BF16 attention baselines reach 594-610 TFLOP/s in
 * prefill (0.60-0.62 of 989) and 4.31-4.37 TB/s in decode (0.90-0.91 of 4.8); a large bf16 GEMM on an H100 reaches
 * 757-790 TFLOP/s (0.77-0.80; skipbench GPU notes). When attention and the linear layers sit in the same regime with
 * the same factor (prefill: both compute-bound; batch-1 decode: both bandwidth-bound) the factor cancels out of the
 * attention share f, so it moves the projected milliseconds but not the projected speedup.
 */
export const DEFAULT_EFFICIENCY: Efficiency = {
  compute: 0.6,
  bandwidth: 0.8,
  attentionCompute: 0.6,
  attentionBandwidth: 0.8,
};
