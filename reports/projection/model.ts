/**
 * The arithmetic of a projection: FLOPs and bytes per layer on one GPU, a roofline time for each, and Amdahl's law.
 * Pure functions; every formula is written out next to its code.
 *
 * Notation: L context (tokens), B sequences in the batch, h hidden size, Hq / Hkv query / KV heads, d head_dim,
 * t tensor-parallel degree, b bytes per weight or activation, b_kv bytes per KV-cache element.
 * Per GPU with tensor parallelism (Megatron-style): Hq/t query heads, max(1, Hkv/t) KV heads (replicated when
 * t > Hkv), and 1/t of every projection and FFN matrix.
 */
import { ErrorCodes, invalid } from '../../kernels/errors.js';
import type { Phase } from '../schema.js';
import { computeClass, DTYPE_BYTES, type Efficiency, type GpuSpec, type ModelSpec } from './types.js';

export interface Work {
  flops: number;
  bytes: number;
}

/** Query and KV heads one GPU holds at tensor-parallel degree tp. Hq must divide by tp; tp and Hkv must nest. */
export function headsPerGpu(model: ModelSpec, tp: number): { query: number; kv: number } {
  if (!Number.isInteger(tp) || tp < 1 || model.numQueryHeads % tp !== 0) {
    throw invalid(ErrorCodes.CONFIG, 'tp', `a divisor of the query heads (${model.numQueryHeads})`, tp);
  }
  if (model.numKvHeads % tp !== 0 && tp % model.numKvHeads !== 0) {
    throw invalid(ErrorCodes.CONFIG, 'tp', `a divisor or a multiple of the KV heads (${model.numKvHeads})`, tp);
  }
  return { query: model.numQueryHeads / tp, kv: Math.max(1, model.numKvHeads / tp) };
}

/**
 * Expected experts a batch of `tokens` tokens touches, each routed to k of E experts, routing taken as uniform:
 * E · (1 - (1 - k/E)^tokens). One token touches k; a long prompt touches all E.
 */
export function expertsTouched(experts: number, active: number, tokens: number): number {
  return experts * (1 - (1 - active / experts) ** tokens);
}

/** Linear-layer weights of one layer on one GPU (elements): the four attention projections plus the FFN. */
export interface LayerWeights {
  /** q: h·(Hq/t)·d, k and v: h·kv·d each, o: (Hq/t)·d·h. */
  attentionProjections: number;
  /** Dense FFN: 3·h·I/t. MoE: the router h·E (replicated) plus the shared expert 3·h·I_s/t. */
  ffnAlwaysOn: number;
  /** MoE: one expert's slice, 3·h·I_e/t (0 for a dense FFN). */
  expert: number;
}

export function layerWeights(model: ModelSpec, tp: number): LayerWeights {
  const heads = headsPerGpu(model, tp);
  const h = model.hidden;
  const d = model.headDim;
  const attentionProjections = 2 * h * heads.query * d + 2 * h * heads.kv * d;
  if (model.ffn.kind === 'dense')
    return { attentionProjections, ffnAlwaysOn: (3 * h * model.ffn.intermediate) / tp, expert: 0 };
  return {
    attentionProjections,
    ffnAlwaysOn: h * model.ffn.experts + (3 * h * model.ffn.sharedIntermediate) / tp,
    expert: (3 * h * model.ffn.expertIntermediate) / tp,
  };
}

/** Tokens one forward pass processes: L·B in prefill, B in decode (one new token per sequence). */
export function tokensPerPass(phase: Phase, context: number, batch: number): number {
  return phase === 'prefill' ? context * batch : batch;
}

/**
 * Attention of one layer on one GPU (the part Skip Softmax speeds up).
 * Prefill, causal: Q·K^T and P·V cost 2·L·L·d FLOPs each per head, halved by the causal mask:
 *   FLOPs = 2 · (Hq/t) · L² · d · B;  bytes = (2·(Hq/t) + 2·kv) · L · d · b_kv · B (read Q, K, V and write O once).
 * Decode at KV length L: one query row per head,
 *   FLOPs = 4 · (Hq/t) · L · d · B;  bytes = 2 · L · kv · d · b_kv · B (read K and V; Q and O, Hq·d each, left out).
 */
export function attentionWork(model: ModelSpec, phase: Phase, context: number, batch: number, tp: number): Work {
  const { query, kv } = headsPerGpu(model, tp);
  const d = model.headDim;
  const bKv = DTYPE_BYTES[model.kvDtype];
  const L = context;
  if (phase === 'prefill') {
    return { flops: 2 * query * L * L * d * batch, bytes: (2 * query + 2 * kv) * L * d * bKv * batch };
  }
  return { flops: 4 * query * L * d * batch, bytes: 2 * L * kv * d * bKv * batch };
}

/**
 * Linear layers of one layer on one GPU (everything but attention: Q/K/V/O projections, FFN or experts, router).
 *   FLOPs = 2 · P_active · tokens, P_active = projections + always-on FFN + k · expert (k = active experts);
 *   bytes = P_touched · b: every weight touched is read once per pass (dense: all of them; MoE: the experts the
 *   pass's tokens touch, expertsTouched(E, k, tokens)). Activations, norms and residual adds are left out.
 */
export function linearWork(model: ModelSpec, phase: Phase, context: number, batch: number, tp: number): Work {
  const w = layerWeights(model, tp);
  const tokens = tokensPerPass(phase, context, batch);
  const b = DTYPE_BYTES[model.dtype];
  if (model.ffn.kind === 'dense') {
    const params = w.attentionProjections + w.ffnAlwaysOn;
    return { flops: 2 * params * tokens, bytes: params * b };
  }
  const active = w.attentionProjections + w.ffnAlwaysOn + model.ffn.activeExperts * w.expert;
  const touched =
    w.attentionProjections +
    w.ffnAlwaysOn +
    expertsTouched(model.ffn.experts, model.ffn.activeExperts, tokens) * w.expert;
  return { flops: 2 * active * tokens, bytes: touched * b };
}

/**
 * The LM head once per pass (whole model, not per layer), vocabulary split over the GPUs. Only the last position of
 * each sequence needs logits, in prefill as in decode: FLOPs = 2 · h · V/t · B; bytes = h · V/t · b.
 */
export function lmHeadWork(model: ModelSpec, batch: number, tp: number): Work {
  const params = (model.hidden * model.vocab) / tp;
  return { flops: 2 * params * batch, bytes: params * DTYPE_BYTES[model.dtype] };
}

/**
 * All-reduce per layer under tensor parallelism: two of them (after attention's output projection and after the
 * FFN), each of tokens · h · b bytes. Ring all-reduce moves 2·(t-1)/t of the payload over each GPU's link in one
 * direction (half the datasheet's bidirectional figure). Latency per call (microseconds, which matters in decode)
 * and overlap with compute are left out. Returns the bytes over one GPU's link per layer.
 */
export function allReduceBytes(model: ModelSpec, phase: Phase, context: number, batch: number, tp: number): number {
  if (tp === 1) return 0;
  const payload = tokensPerPass(phase, context, batch) * model.hidden * DTYPE_BYTES[model.dtype];
  return 2 * ((2 * (tp - 1)) / tp) * payload;
}

export interface RooflineTime extends Work {
  computeMs: number;
  memoryMs: number;
  /** max(computeMs, memoryMs). */
  ms: number;
  bound: 'compute' | 'bandwidth';
}

/** Roofline: time = max(FLOPs / (peak · e_compute), bytes / (bandwidth · e_bandwidth)), in ms. */
export function roofline(
  work: Work,
  peakFlopsPerSec: number,
  bytesPerSec: number,
  computeEff: number,
  bandwidthEff: number,
): RooflineTime {
  const computeMs = (work.flops / (peakFlopsPerSec * computeEff)) * 1e3;
  const memoryMs = (work.bytes / (bytesPerSec * bandwidthEff)) * 1e3;
  return {
    ...work,
    computeMs,
    memoryMs,
    ms: Math.max(computeMs, memoryMs),
    bound: computeMs >= memoryMs ? 'compute' : 'bandwidth',
  };
}

/** The tensor peak the model's dtype runs at on this GPU; an error names the missing field. */
export function peakFor(gpu: GpuSpec, dtype: ModelSpec['dtype']): number {
  const cls = computeClass(dtype);
  const peak = gpu.peakFlopsPerSec[cls];
  if (peak === undefined)
    throw invalid(ErrorCodes.CONFIG, `gpu.peakFlopsPerSec.${cls}`, `a number (FLOP/s) for ${dtype}`, peak);
  return peak;
}

export function attentionTime(model: ModelSpec, gpu: GpuSpec, eff: Efficiency, work: Work): RooflineTime {
  return roofline(
    work,
    peakFor(gpu, model.kvDtype),
    gpu.memoryBytesPerSec,
    eff.attentionCompute,
    eff.attentionBandwidth,
  );
}

export function linearTime(model: ModelSpec, gpu: GpuSpec, eff: Efficiency, work: Work): RooflineTime {
  return roofline(work, peakFor(gpu, model.dtype), gpu.memoryBytesPerSec, eff.compute, eff.bandwidth);
}

/** All-reduce time (ms) over one direction of the link at the bandwidth efficiency. */
export function allReduceMs(bytes: number, gpu: GpuSpec, eff: Efficiency): number {
  return bytes === 0 ? 0 : (bytes / ((gpu.linkBytesPerSec / 2) * eff.bandwidth)) * 1e3;
}

/** Amdahl's law: end-to-end speedup when a share f of the time speeds up by S: 1 / ((1 - f) + f / S). */
export function amdahl(f: number, kernelSpeedup: number): number {
  return 1 / (1 - f + f / kernelSpeedup);
}

/**
 * The kernel speedup Amdahl needs for an end-to-end target T at share f: S = f / (1/T - (1 - f)); Infinity when
 * T >= 1/(1 - f) (no kernel speedup reaches it).
 */
export function requiredKernelSpeedup(f: number, target: number): number {
  const rest = 1 / target - (1 - f);
  return rest <= 0 ? Number.POSITIVE_INFINITY : f / rest;
}

/** Memory one GPU needs: its share of every weight plus the KV cache of B sequences at L tokens (activations left out). */
export function memoryPerGpu(
  model: ModelSpec,
  context: number,
  batch: number,
  tp: number,
): { weightsBytes: number; kvBytes: number } {
  const w = layerWeights(model, tp);
  const experts = model.ffn.kind === 'moe' ? model.ffn.experts : 0;
  const perLayer = w.attentionProjections + w.ffnAlwaysOn + experts * w.expert;
  const embeddings = ((model.tieWordEmbeddings ? 1 : 2) * model.hidden * model.vocab) / tp;
  const { kv } = headsPerGpu(model, tp);
  return {
    weightsBytes: (model.layers * perLayer + embeddings) * DTYPE_BYTES[model.dtype],
    kvBytes: model.layers * 2 * context * kv * model.headDim * DTYPE_BYTES[model.kvDtype] * batch,
  };
}
