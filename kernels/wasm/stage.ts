/**
 * Moves operands between JS arrays and the kernel's linear memory according to a plan, and turns the kernel's
 * decision bytes into the shared counters. Shared by the single-threaded kernel and the worker pool.
 */
import { causalPairs, countQueryIo, countTile, emptyCounters, lastVisitedKvTile } from '../tiling.js';
import { type HeadCounters, TileDecision } from '../types.js';
import { type DecodePlan, type Plan, type PrefillPlan, packKeys, packValues } from './layout.js';

const F32 = 4;

function f32(memory: ArrayBufferLike, offset: number, bytes: number): Float32Array {
  return new Float32Array(memory, offset, bytes / F32);
}

/** Copies Q, packed K and packed V into memory and clears the decision bytes. */
export function stageInputs(
  memory: ArrayBufferLike,
  plan: Plan,
  inputs: { q: Float32Array; k: Float32Array; v: Float32Array },
): void {
  const keys = plan.kind === 'prefill' ? plan.seqLen : plan.kvLen;
  f32(memory, plan.q.offset, plan.q.bytes).set(inputs.q);
  packKeys(inputs.k, plan.numKvHeads, keys, plan.headDim, f32(memory, plan.kPacked.offset, plan.kPacked.bytes));
  packValues(inputs.v, plan.numKvHeads, keys, plan.headDim, f32(memory, plan.v.offset, plan.v.bytes));
  clearDecisions(memory, plan);
}

/** Replaces only the queries (the keys and values of a context stay in place across arms and repetitions). */
export function stageQueries(memory: ArrayBufferLike, plan: Plan, q: Float32Array): void {
  f32(memory, plan.q.offset, plan.q.bytes).set(q);
}

export function clearDecisions(memory: ArrayBufferLike, plan: Plan): void {
  new Uint8Array(memory, plan.decisions.offset, plan.decisions.bytes).fill(TileDecision.NOT_VISITED);
}

export function readOutput(memory: ArrayBufferLike, plan: Plan): Float32Array {
  return f32(memory, plan.out.offset, plan.out.bytes).slice();
}

export function readDecisions(memory: ArrayBufferLike, plan: Plan): Uint8Array {
  return new Uint8Array(memory, plan.decisions.offset, plan.decisions.bytes).slice();
}

/**
 * The margins of every visited tile (natural-log units: log2 margins times ln 2), in decision-slot order, for a run
 * made with recordMargins. Unvisited slots are left out; each unit's first tile is +Infinity.
 */
export function readMargins(memory: ArrayBufferLike, plan: Plan): Float64Array {
  const decisions = new Uint8Array(memory, plan.decisions.offset, plan.decisions.bytes);
  const margins = new Float32Array(memory, plan.margins.offset, plan.decisions.bytes);
  const out: number[] = [];
  for (let i = 0; i < decisions.length; i++) {
    if (decisions[i] !== TileDecision.NOT_VISITED) out.push(margins[i] * Math.LN2);
  }
  return Float64Array.from(out);
}

/** Counters per query head from the decision bytes, counted exactly as the reference counts them. */
export function prefillCounters(decisions: Uint8Array, plan: PrefillPlan): HeadCounters[] {
  const { blockM, blockN, seqLen, headDim: d, tiles, kvTiles } = plan;
  const heads: HeadCounters[] = [];
  for (let h = 0; h < plan.numQueryHeads; h++) {
    const c = emptyCounters();
    tiles.forEach((t, i) => {
      const row0 = t * blockM;
      const row1 = Math.min(seqLen, row0 + blockM);
      const base = (h * tiles.length + i) * kvTiles;
      for (let u = 0; u <= lastVisitedKvTile(t, blockM, blockN, seqLen); u++) {
        const k0 = u * blockN;
        const k1 = Math.min(seqLen, k0 + blockN);
        countTile(c, causalPairs(row0, row1, k0, k1), k1 - k0, d, decisions[base + u] === TileDecision.SKIPPED);
      }
      countQueryIo(c, row1 - row0, d);
    });
    heads.push(c);
  }
  return heads;
}

/** Counters per KV head (the GQA group is the decision unit). */
export function decodeCounters(decisions: Uint8Array, plan: DecodePlan): HeadCounters[] {
  const { blockN, kvLen, headDim: d, kvTiles } = plan;
  const group = plan.numQueryHeads / plan.numKvHeads;
  const heads: HeadCounters[] = [];
  for (let g = 0; g < plan.numKvHeads; g++) {
    const c = emptyCounters();
    for (let t = 0; t < kvTiles; t++) {
      const keys = Math.min(blockN, kvLen - t * blockN);
      countTile(c, group * keys, keys, d, decisions[g * kvTiles + t] === TileDecision.SKIPPED);
    }
    countQueryIo(c, group, d);
    heads.push(c);
  }
  return heads;
}
