/**
 * Runs one unit of a plan on an instance of the compiled kernel. Called by the single-threaded kernel and by every
 * pool worker, so both execute exactly the same code.
 */
import type { DecodePlan, Plan, PrefillPlan } from './layout.js';

/** The compiled module's exports (kernels/wasm/assembly/attention.ts). */
export interface AttentionExports {
  prefillTile(
    q: number, kp: number, v: number, out: number, row0: number, rows: number, d: number, blockN: number,
    scaleLog2: number, skipping: number, log2Lambda: number, scratch: number, decisions: number, margins: number,
  ): number;
  decodePartition(
    q: number, rows: number, kp: number, v: number, kvLen: number, d: number, blockN: number, partition: number,
    partitions: number, scaleLog2: number, skipping: number, log2Lambda: number, scratch: number, state: number,
    decisions: number, margins: number,
  ): number;
  streamRead(ptr: number, bytes: number): number;
  scoreProbe(q: number, rows: number, kp: number, keys: number, d: number, s: number, repeats: number): void;
}

/** What the kernel needs besides the plan: softmax scale and threshold, both in the log2 domain. */
export interface SkipParams {
  /** scale * log2(e) */
  scaleLog2: number;
  /** log2(factor / L); ignored when skipping is false. */
  log2Lambda: number;
  skipping: boolean;
  /** Also write every tile's skip margin (calibration); needs skipping. */
  recordMargins?: boolean;
}

export const LOG2E = Math.LOG2E;

export function skipParams(scale: number, thresholdScaleFactor: number, kvLen: number): SkipParams {
  const skipping = thresholdScaleFactor > 0;
  return {
    scaleLog2: scale * LOG2E,
    log2Lambda: skipping ? Math.log2(thresholdScaleFactor / kvLen) : Number.NEGATIVE_INFINITY,
    skipping,
  };
}

const F32 = 4;

/** Unit u of a prefill plan: units are ordered costliest first (latest query tiles), heads interleaved. */
function runPrefillUnit(x: AttentionExports, plan: PrefillPlan, unit: number, params: SkipParams, worker: number): void {
  const heads = plan.numQueryHeads;
  const listIndex = plan.tiles.length - 1 - Math.floor(unit / heads);
  const head = unit % heads;
  const tile = plan.tiles[listIndex];
  const d = plan.headDim;
  const kvHead = Math.floor(head / (heads / plan.numKvHeads));
  const row0 = tile * plan.blockM;
  const rows = Math.min(plan.blockM, plan.seqLen - row0);
  const rowOffset = (head * plan.rowsQ + plan.tileRowStart[listIndex]) * d * F32;
  x.prefillTile(
    plan.q.offset + rowOffset,
    plan.kPacked.offset + kvHead * (plan.kPacked.bytes / plan.numKvHeads),
    plan.v.offset + kvHead * (plan.v.bytes / plan.numKvHeads),
    plan.out.offset + rowOffset,
    row0,
    rows,
    d,
    plan.blockN,
    params.scaleLog2,
    params.skipping ? 1 : 0,
    params.log2Lambda,
    plan.scratch.offset + worker * plan.scratchStride,
    plan.decisions.offset + (head * plan.tiles.length + listIndex) * plan.kvTiles,
    params.recordMargins ? plan.margins.offset + (head * plan.tiles.length + listIndex) * plan.kvTiles * F32 : 0,
  );
}

function runDecodeUnit(x: AttentionExports, plan: DecodePlan, unit: number, params: SkipParams, worker: number): void {
  const kvHead = Math.floor(unit / plan.partitions);
  const partition = unit % plan.partitions;
  const d = plan.headDim;
  const group = plan.numQueryHeads / plan.numKvHeads;
  x.decodePartition(
    plan.q.offset + kvHead * group * d * F32,
    group,
    plan.kPacked.offset + kvHead * (plan.kPacked.bytes / plan.numKvHeads),
    plan.v.offset + kvHead * (plan.v.bytes / plan.numKvHeads),
    plan.kvLen,
    d,
    plan.blockN,
    partition,
    plan.partitions,
    params.scaleLog2,
    params.skipping ? 1 : 0,
    params.log2Lambda,
    plan.scratch.offset + worker * plan.scratchStride,
    plan.state.offset + unit * group * (d + 2) * F32,
    plan.decisions.offset + kvHead * plan.kvTiles,
    params.recordMargins ? plan.margins.offset + kvHead * plan.kvTiles * F32 : 0,
  );
}

export function runUnit(x: AttentionExports, plan: Plan, unit: number, params: SkipParams, worker: number): void {
  if (plan.kind === 'prefill') runPrefillUnit(x, plan, unit, params, worker);
  else runDecodeUnit(x, plan, unit, params, worker);
}

/**
 * Merges the split-KV partial states of a decode plan into the output [Hq][d] by log-sum-exp (log2 domain).
 * Empty partitions (more partitions than tiles) hold l = 0 and are left out.
 */
export function mergeDecode(
  memory: ArrayBufferLike,
  plan: DecodePlan,
  out = new Float32Array(memory, plan.out.offset, plan.out.bytes / F32),
): void {
  const d = plan.headDim;
  const group = plan.numQueryHeads / plan.numKvHeads;
  const stride = d + 2;
  const state = new Float32Array(memory, plan.state.offset, plan.state.bytes / F32);
  for (let h = 0; h < plan.numQueryHeads; h++) {
    const kvHead = Math.floor(h / group);
    const row = h % group;
    const at = (p: number) => ((kvHead * plan.partitions + p) * group + row) * stride;
    let mMax = Number.NEGATIVE_INFINITY;
    for (let p = 0; p < plan.partitions; p++) if (state[at(p) + d + 1] > 0) mMax = Math.max(mMax, state[at(p) + d]);
    const o = h * d;
    out.fill(0, o, o + d);
    let l = 0;
    for (let p = 0; p < plan.partitions; p++) {
      const base = at(p);
      if (!(state[base + d + 1] > 0)) continue;
      const w = 2 ** (state[base + d] - mMax);
      l += w * state[base + d + 1];
      for (let c = 0; c < d; c++) out[o + c] += w * state[base + c];
    }
    for (let c = 0; c < d; c++) out[o + c] /= l;
  }
}
