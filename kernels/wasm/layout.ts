/**
 * Memory plans for the WebAssembly kernel: where every operand lives in the one linear memory, and how a job splits
 * into independent units (one query tile of one head in prefill; one KV partition of one GQA group in decode).
 * Pure arithmetic: the same plan drives the single-threaded kernel and the worker pool.
 */
import { prefillRowCount, queryTileCount } from '../validate.js';

const F32 = 4;
/** The first page belongs to the AssemblyScript module (it has no data, but its stack/heap base sits there). */
const RESERVED_BYTES = 65536;
/** Cache-line alignment for every region. */
const ALIGN = 64;

export interface Region {
  offset: number;
  bytes: number;
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** Hands out aligned, non-overlapping regions in order. */
class Allocator {
  private next = RESERVED_BYTES;
  take(bytes: number): Region {
    const region = { offset: this.next, bytes };
    this.next = align(this.next + bytes);
    return region;
  }
  get end(): number {
    return this.next;
  }
}

/** Bytes of one unit's scratch (queries, score tile, accumulator, five per-row vectors), as the kernel lays it out. */
export function scratchBytes(maxRows: number, blockN: number, headDim: number): number {
  const rows4 = Math.ceil(maxRows / 4) * 4;
  return (rows4 * headDim * 2 + rows4 * blockN + rows4 * 5) * F32;
}

/** Keys packed in 4-key panels: [ceil(keys/4)][headDim][4] floats. */
export function packedKeyFloats(keys: number, headDim: number): number {
  return Math.ceil(keys / 4) * 4 * headDim;
}

/** Packs K [heads][keys][d] into per-head 4-key panels (see kernels/wasm/assembly/attention.ts), zero padded. */
export function packKeys(k: Float32Array, heads: number, keys: number, headDim: number, dst: Float32Array): void {
  const perHead = packedKeyFloats(keys, headDim);
  for (let h = 0; h < heads; h++) {
    const src = h * keys * headDim;
    const base = h * perHead;
    dst.fill(0, base + Math.floor(keys / 4) * 4 * headDim, base + perHead);
    for (let j = 0; j < keys; j++) {
      const panel = base + (j >> 2) * headDim * 4 + (j & 3);
      const row = src + j * headDim;
      for (let c = 0; c < headDim; c++) dst[panel + c * 4] = k[row + c];
    }
  }
}

/** Keys per packed V block (KEY_BLOCK in the kernel); KV tiles must start on a block, so blockN is a multiple of it. */
export const VALUE_BLOCK = 16;

/** Values packed in blocks of 16 keys: [ceil(keys/16)][headDim/8][16][8] floats. */
export function packedValueFloats(keys: number, headDim: number): number {
  return Math.ceil(keys / VALUE_BLOCK) * VALUE_BLOCK * headDim;
}

/** Packs V [heads][keys][d] into per-head 16-key blocks of 8-dim slices (see the kernel's layout note), zero padded. */
export function packValues(v: Float32Array, heads: number, keys: number, headDim: number, dst: Float32Array): void {
  const perHead = packedValueFloats(keys, headDim);
  const blockFloats = VALUE_BLOCK * headDim;
  for (let h = 0; h < heads; h++) {
    const src = h * keys * headDim;
    const base = h * perHead;
    dst.fill(0, base + Math.floor(keys / VALUE_BLOCK) * blockFloats, base + perHead);
    for (let j = 0; j < keys; j++) {
      const block = base + Math.floor(j / VALUE_BLOCK) * blockFloats + (j % VALUE_BLOCK) * 8;
      const row = src + j * headDim;
      for (let c = 0; c < headDim; c += 8) {
        const at = block + (c / 8) * VALUE_BLOCK * 8;
        for (let i = 0; i < 8; i++) dst[at + i] = v[row + c + i];
      }
    }
  }
}

interface CommonPlan {
  numQueryHeads: number;
  numKvHeads: number;
  headDim: number;
  blockN: number;
  q: Region;
  kPacked: Region;
  v: Region;
  decisions: Region;
  /** One f32 per decision slot: the tile's skip margin (log2 units), written only when asked (calibration). */
  margins: Region;
  /** Per-worker scratch: worker w uses offset + w * scratchStride. */
  scratch: Region;
  scratchStride: number;
  /** Bytes the memory must hold. */
  totalBytes: number;
}

export interface PrefillPlan extends CommonPlan {
  kind: 'prefill';
  seqLen: number;
  blockM: number;
  /** Query tiles computed, ascending. */
  tiles: number[];
  /** Packed row index of each computed tile's first row. */
  tileRowStart: number[];
  rowsQ: number;
  kvTiles: number;
  out: Region;
}

export interface DecodePlan extends CommonPlan {
  kind: 'decode';
  kvLen: number;
  partitions: number;
  kvTiles: number;
  /** Per (KV head, partition, group row): [acc (d), m, l]. */
  state: Region;
  /** The merged output [numQueryHeads][headDim]. */
  out: Region;
}

export type Plan = PrefillPlan | DecodePlan;

export interface PrefillPlanInput {
  numQueryHeads: number;
  numKvHeads: number;
  headDim: number;
  seqLen: number;
  blockM: number;
  blockN: number;
  queryTiles?: readonly number[];
  workers: number;
}

export function planPrefill(p: PrefillPlanInput): PrefillPlan {
  const tiles = p.queryTiles ? [...p.queryTiles] : [...Array(queryTileCount(p.seqLen, p.blockM)).keys()];
  const tileRowStart: number[] = [];
  let rows = 0;
  for (const t of tiles) {
    tileRowStart.push(rows);
    rows += Math.min(p.blockM, p.seqLen - t * p.blockM);
  }
  const rowsQ = prefillRowCount(p.seqLen, p.blockM, p.queryTiles);
  const kvTiles = Math.ceil(p.seqLen / p.blockN);
  const a = new Allocator();
  const qBytes = p.numQueryHeads * rowsQ * p.headDim * F32;
  const q = a.take(qBytes);
  const out = a.take(qBytes);
  const kPacked = a.take(p.numKvHeads * packedKeyFloats(p.seqLen, p.headDim) * F32);
  const v = a.take(p.numKvHeads * packedValueFloats(p.seqLen, p.headDim) * F32);
  const decisions = a.take(p.numQueryHeads * tiles.length * kvTiles);
  const margins = a.take(decisions.bytes * F32);
  const scratchStride = align(scratchBytes(p.blockM, p.blockN, p.headDim));
  const scratch = a.take(scratchStride * p.workers);
  return {
    kind: 'prefill',
    numQueryHeads: p.numQueryHeads,
    numKvHeads: p.numKvHeads,
    headDim: p.headDim,
    blockN: p.blockN,
    blockM: p.blockM,
    seqLen: p.seqLen,
    tiles,
    tileRowStart,
    rowsQ,
    kvTiles,
    q,
    out,
    kPacked,
    v,
    decisions,
    margins,
    scratch,
    scratchStride,
    totalBytes: a.end,
  };
}

export interface DecodePlanInput {
  numQueryHeads: number;
  numKvHeads: number;
  headDim: number;
  kvLen: number;
  blockN: number;
  partitions: number;
  workers: number;
}

export function planDecode(p: DecodePlanInput): DecodePlan {
  const group = p.numQueryHeads / p.numKvHeads;
  const kvTiles = Math.ceil(p.kvLen / p.blockN);
  const a = new Allocator();
  const q = a.take(p.numQueryHeads * p.headDim * F32);
  const kPacked = a.take(p.numKvHeads * packedKeyFloats(p.kvLen, p.headDim) * F32);
  const v = a.take(p.numKvHeads * packedValueFloats(p.kvLen, p.headDim) * F32);
  const state = a.take(p.numKvHeads * p.partitions * group * (p.headDim + 2) * F32);
  const out = a.take(p.numQueryHeads * p.headDim * F32);
  const decisions = a.take(p.numKvHeads * kvTiles);
  const margins = a.take(decisions.bytes * F32);
  const scratchStride = align(scratchBytes(group, p.blockN, p.headDim));
  const scratch = a.take(scratchStride * p.workers);
  return {
    kind: 'decode',
    numQueryHeads: p.numQueryHeads,
    numKvHeads: p.numKvHeads,
    headDim: p.headDim,
    blockN: p.blockN,
    kvLen: p.kvLen,
    partitions: p.partitions,
    kvTiles,
    q,
    kPacked,
    v,
    state,
    out,
    decisions,
    margins,
    scratch,
    scratchStride,
    totalBytes: a.end,
  };
}

/** Units of a plan: prefill (head, tile) pairs, costliest (latest) tiles first so dynamic scheduling balances. */
export function unitCount(plan: Plan): number {
  return plan.kind === 'prefill'
    ? plan.numQueryHeads * plan.tiles.length
    : plan.numKvHeads * plan.partitions;
}
