/**
 * What a projection is made of: a model, a GPU, how the model is split, and how well the GPU is used. Every field is
 * an input the projection prints back, so a reader can redo the arithmetic.
 *
 * Units follow reports/schema.ts: FLOP/s, bytes/s, bytes, tokens, milliseconds.
 */

/** Storage type of weights, activations or the KV cache. fp16 and bf16 run at the same tensor rate on these GPUs. */
export type Dtype = 'bf16' | 'fp16' | 'fp8';
export const DTYPES: readonly Dtype[] = ['bf16', 'fp16', 'fp8'];
export const DTYPE_BYTES: Record<Dtype, number> = { bf16: 2, fp16: 2, fp8: 1 };

/** The tensor-core rate a dtype runs at: datasheets list FP16 and BF16 together, FP8 separately. */
export type ComputeClass = 'bf16' | 'fp8';
export function computeClass(dtype: Dtype): ComputeClass {
  return dtype === 'fp8' ? 'fp8' : 'bf16';
}

/** A gated (SwiGLU) feed-forward block: gate, up and down projections, 3 · hidden · intermediate weights. */
export interface DenseFfn {
  kind: 'dense';
  intermediate: number;
}

/** A mixture of experts: a router (hidden x experts) and gated experts, `activeExperts` of them per token. */
export interface MoeFfn {
  kind: 'moe';
  experts: number;
  activeExperts: number;
  /** Intermediate size of one expert. */
  expertIntermediate: number;
  /** Intermediate size of an always-on shared expert (0 = none). */
  sharedIntermediate: number;
}

export interface ModelSpec {
  id: string;
  name: string;
  layers: number;
  hidden: number;
  numQueryHeads: number;
  numKvHeads: number;
  headDim: number;
  ffn: DenseFfn | MoeFfn;
  vocab: number;
  /** Input embedding and LM head share one matrix. */
  tieWordEmbeddings: boolean;
  /** Weights and activations. */
  dtype: Dtype;
  /** KV cache (and the attention kernel's inputs). */
  kvDtype: Dtype;
  /** Where the numbers come from. */
  source: string;
}

export interface GpuSpec {
  id: string;
  name: string;
  /** Dense tensor-core peak per compute class (FLOP/s), without 2:4 structured sparsity. */
  peakFlopsPerSec: { bf16: number; fp8?: number };
  /** HBM bandwidth (bytes/s). */
  memoryBytesPerSec: number;
  /** HBM capacity (bytes). */
  memoryBytes: number;
  /** GPU-to-GPU link, both directions added as datasheets quote it (bytes/s). One direction carries half. */
  linkBytesPerSec: number;
  /** What kind of number these are, e.g. "datasheet peak". */
  label: string;
  source: string;
}

/**
 * Achievable fraction of the datasheet peak. No kernel runs at peak: the roofline divides by peak x efficiency.
 * Linear layers use `compute` / `bandwidth`; attention uses its own pair (the attention kernel is usually further
 * from peak than a large GEMM). All-reduce uses `bandwidth` on the link.
 */
export interface Efficiency {
  compute: number;
  bandwidth: number;
  attentionCompute: number;
  attentionBandwidth: number;
}
