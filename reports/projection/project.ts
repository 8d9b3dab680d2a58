/**
 * A projection: per context and phase, the roofline time of attention and of everything else, the attention share
 * f of TTFT (prefill) or TPOT (decode), and the end-to-end speedup Amdahl's law gives for a kernel speedup S.
 * Nothing here is measured; the result says so and carries every input, in its own small versioned JSON shape.
 */
import { ErrorCodes, invalid } from '../../kernels/errors.js';
import { formatTokens } from '../format.js';
import type { Phase } from '../schema.js';
import {
  allReduceBytes,
  allReduceMs,
  amdahl,
  attentionTime,
  attentionWork,
  headsPerGpu,
  linearTime,
  linearWork,
  lmHeadWork,
  memoryPerGpu,
  type RooflineTime,
} from './model.js';
import { CPU_STAND_IN_ASSUMPTION, type KernelSpeedupInput, type ResolvedSpeedup, resolveSpeedup } from './speedup.js';
import type { Efficiency, GpuSpec, ModelSpec } from './types.js';

export const PROJECTION_SCHEMA = 'skipbench/projection';
export const PROJECTION_SCHEMA_VERSION = 1;

export interface ProjectionConfig {
  model: ModelSpec;
  gpu: GpuSpec;
  /** Tensor-parallel degree: GPUs one model instance is split over. */
  tp: number;
  /** Sequences processed together, all at the same context (1 = one request at a time). */
  batch: number;
  contexts: number[];
  phases: Phase[];
  efficiency: Efficiency;
  /** Add the all-reduce term under tensor parallelism. */
  allReduce: boolean;
  /** Fixed time per forward pass outside the roofline (launches, scheduling, sampling), ms; 0 = none. */
  overheadMs: Record<Phase, number>;
  kernelSpeedup: Record<Phase, KernelSpeedupInput>;
}

export interface ProjectionRow {
  context: number;
  phase: Phase;
  /** TTFT for prefill, TPOT for decode. */
  metric: 'TTFT' | 'TPOT';
  /** One layer on one GPU. */
  attentionPerLayer: RooflineTime;
  linearPerLayer: RooflineTime;
  allReducePerLayerMs: number;
  /** linear + all-reduce, one layer (ms). */
  otherPerLayerMs: number;
  /** Once per pass (ms). */
  lmHead: RooflineTime;
  overheadMs: number;
  /** Whole pass: layers x attention (ms). */
  attentionMs: number;
  /** Whole pass: layers x other + LM head + overhead (ms). */
  otherMs: number;
  /** Attention share f of the dense TTFT / TPOT. */
  attentionShare: number;
  kernelSpeedup: ResolvedSpeedup;
  denseMs: number;
  /** denseMs - attentionMs · (1 - 1/S). */
  skipMs: number;
  /** Amdahl: 1 / ((1 - f) + f / S). */
  speedup: number;
  memory: { weightsBytesPerGpu: number; kvBytesPerGpu: number; capacityBytes: number; fits: boolean };
}

export interface ProjectionFile {
  schema: typeof PROJECTION_SCHEMA;
  schemaVersion: typeof PROJECTION_SCHEMA_VERSION;
  /** Always 'projected': no figure in this file was measured on the GPU it names. */
  kind: 'projected';
  createdAt: string;
  inputs: ProjectionConfig;
  /** Every simplification the arithmetic makes, in words. */
  assumptions: string[];
  /** Things a reader should not miss (e.g. the KV cache does not fit). */
  warnings: string[];
  rows: ProjectionRow[];
}

export function baseAssumptions(config: ProjectionConfig): string[] {
  const list = [
    'roofline per layer on one GPU: time = max(FLOPs / (peak x compute efficiency), bytes / (bandwidth x bandwidth efficiency)); no kernel overlap between layers',
    'prefill attention is causal: 2·(Hq/tp)·L²·d FLOPs per sequence and layer; decode attention reads K and V once: 2·L·kv·d·b_kv bytes',
    'linear layers: 2 FLOPs per active weight per token; every weight the pass touches is read once; norms, activations and residual adds left out',
    'the LM head runs for the last position of each sequence only; the embedding lookup is left out',
    'end-to-end speedup by Amdahl: only attention speeds up, by the kernel speedup S; the rest of the pass is unchanged',
    'GPU peaks are datasheet figures (dense tensor-core rate, HBM bandwidth), scaled by the efficiency factors',
  ];
  if (config.tp > 1) {
    list.push(
      config.allReduce
        ? 'tensor parallelism: two ring all-reduces of tokens·h·b bytes per layer over one link direction (half the datasheet NVLink figure) at the bandwidth efficiency; call latency and overlap left out'
        : 'tensor parallelism: communication left out (--no-allreduce)',
    );
  }
  if (config.model.ffn.kind === 'moe') {
    list.push('MoE routing taken as uniform: a pass of n tokens touches E·(1-(1-k/E)^n) experts, each read once');
  }
  if (Object.values(config.kernelSpeedup).some((k) => k.kind === 'measured')) list.push(CPU_STAND_IN_ASSUMPTION);
  return list;
}

export function projectRow(config: ProjectionConfig, context: number, phase: Phase): ProjectionRow {
  const { model, gpu, tp, batch, efficiency } = config;
  const attentionPerLayer = attentionTime(model, gpu, efficiency, attentionWork(model, phase, context, batch, tp));
  const linearPerLayer = linearTime(model, gpu, efficiency, linearWork(model, phase, context, batch, tp));
  const allReducePerLayerMs = config.allReduce
    ? allReduceMs(allReduceBytes(model, phase, context, batch, tp), gpu, efficiency)
    : 0;
  const otherPerLayerMs = linearPerLayer.ms + allReducePerLayerMs;
  const lmHead = linearTime(model, gpu, efficiency, lmHeadWork(model, batch, tp));
  const overheadMs = config.overheadMs[phase];
  const attentionMs = model.layers * attentionPerLayer.ms;
  const otherMs = model.layers * otherPerLayerMs + lmHead.ms + overheadMs;
  const denseMs = attentionMs + otherMs;
  const f = attentionMs / denseMs;
  const kernelSpeedup = resolveSpeedup(config.kernelSpeedup[phase], context);
  const mem = memoryPerGpu(model, context, batch, tp);
  return {
    context,
    phase,
    metric: phase === 'prefill' ? 'TTFT' : 'TPOT',
    attentionPerLayer,
    linearPerLayer,
    allReducePerLayerMs,
    otherPerLayerMs,
    lmHead,
    overheadMs,
    attentionMs,
    otherMs,
    attentionShare: f,
    kernelSpeedup,
    denseMs,
    skipMs: denseMs - attentionMs * (1 - 1 / kernelSpeedup.value),
    speedup: amdahl(f, kernelSpeedup.value),
    memory: {
      weightsBytesPerGpu: mem.weightsBytes,
      kvBytesPerGpu: mem.kvBytes,
      capacityBytes: gpu.memoryBytes,
      fits: mem.weightsBytes + mem.kvBytes <= gpu.memoryBytes,
    },
  };
}

function check(config: ProjectionConfig): void {
  headsPerGpu(config.model, config.tp);
  if (!Number.isInteger(config.batch) || config.batch < 1)
    throw invalid(ErrorCodes.CONFIG, 'batch', 'a whole number >= 1', config.batch);
  if (config.contexts.length === 0) throw invalid(ErrorCodes.CONFIG, 'contexts', 'a non-empty list', config.contexts);
  for (const [key, value] of Object.entries(config.efficiency)) {
    if (!(value > 0 && value <= 1)) throw invalid(ErrorCodes.CONFIG, `efficiency.${key}`, 'a number in (0, 1]', value);
  }
  for (const phase of config.phases) {
    const k = config.kernelSpeedup[phase];
    if (k.kind === 'theory' && !(k.sparsity >= 0 && k.sparsity < 1))
      throw invalid(ErrorCodes.CONFIG, `sparsity.${phase}`, 'a number in [0, 1)', k.sparsity);
    if (k.kind === 'given' && !(k.speedup > 0))
      throw invalid(ErrorCodes.CONFIG, `kernelSpeedup.${phase}`, 'a positive number', k.speedup);
    if (!(config.overheadMs[phase] >= 0))
      throw invalid(ErrorCodes.CONFIG, `overhead.${phase}`, 'a number >= 0 (ms)', config.overheadMs[phase]);
  }
}

/** The whole projection: one row per (context, phase), contexts in the order given. */
export function project(config: ProjectionConfig, now: () => Date = () => new Date()): ProjectionFile {
  check(config);
  const rows = config.contexts.flatMap((context) => config.phases.map((phase) => projectRow(config, context, phase)));
  const warnings: string[] = [];
  const warned = new Set<number>();
  for (const r of rows.filter((row) => !row.memory.fits)) {
    if (warned.has(r.context)) continue;
    warned.add(r.context);
    const need = (r.memory.weightsBytesPerGpu + r.memory.kvBytesPerGpu) / 1e9;
    warnings.push(
      `${formatTokens(r.context)}: weights + KV cache need ${need.toFixed(1)} GB per GPU, more than the ${(r.memory.capacityBytes / 1e9).toFixed(0)} GB a ${config.gpu.name} has (batch ${config.batch}, tp ${config.tp})`,
    );
  }
  return {
    schema: PROJECTION_SCHEMA,
    schemaVersion: PROJECTION_SCHEMA_VERSION,
    kind: 'projected',
    createdAt: now().toISOString(),
    inputs: config,
    assumptions: baseAssumptions(config),
    warnings,
    rows,
  };
}
