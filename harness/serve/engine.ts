/**
 * The attention engine behind the reference server: one request's KV cache, a causal prefill over the prompt and a
 * decode step per generated token, each returning the tiles it visited and skipped.
 *
 * Why not harness/kernel/executor.ts: an Executor stages (packs) all of K and V into the kernel's memory on every
 * prepare, which suits a benchmark that prepares a context once and times it many times. A server decodes one token
 * at a time over a growing cache; restaging K/V for every token would cost O(L) JavaScript on the event loop per
 * token and per layer, dwarf the decode kernel itself, and hide the dense-vs-skip difference in TPOT. So the wasm
 * engine stages each layer's K/V once per request, at the request's full capacity (prompt + max_tokens - 1 keys),
 * and every decode step reuses that cache with a plan of the current KV length: the kernel only reads the first
 * kvLen keys (the partial last panel is masked, V is read key-exact), and per-head strides come from the region
 * sizes, so a plan's prefix of the cache is exactly the packing of the shorter sequence.
 *
 * Both engines run the same kernels as the benchmark: the WebAssembly SIMD kernel on the worker pool (off the event
 * loop), or the reference TypeScript kernel inline (tiny shapes in tests only).
 */
import { referenceKernel } from '../../kernels/reference/index.js';
import { TileDecision } from '../../kernels/types.js';
import {
  type DecodePlan,
  packedKeyFloats,
  packedValueFloats,
  packKeys,
  packValues,
  type PrefillPlan,
  planDecode,
  planPrefill,
  type Region,
} from '../../kernels/wasm/layout.js';
import { clearDecisions } from '../../kernels/wasm/stage.js';
import { skipParams } from '../../kernels/wasm/units.js';
import { KernelPool } from '../cpu/pool.js';
import { loadKernelModule } from '../cpu/wasm-module.js';
import { resolvedPartitions, type ServeOptions } from './options.js';

/** What one kernel call did. */
export interface PhaseStats {
  /** KV tiles visited (causally masked tiles are never visited), over all decision units. */
  visitedTiles: number;
  /** Visited tiles skipped by the Skip Softmax rule. */
  skippedTiles: number;
  /** Wall time of the kernel call (ms). */
  wallMs: number;
}

/** One request's KV cache and kernel calls. Valid until the next `begin`. */
export interface RequestKernel {
  /** Stores one layer's K and V, each [numKvHeads][capacity][headDim]. */
  loadLayer(layer: number, k: Float32Array, v: Float32Array): void;
  /** Causal prefill of the prompt's `promptLen` queries (q: [numQueryHeads][promptLen][headDim]). */
  prefill(layer: number, q: Float32Array, thresholdScaleFactor: number): Promise<PhaseStats>;
  /** One decode query per head (q: [numQueryHeads][headDim]) against the first kvLen cached keys. */
  decode(layer: number, q: Float32Array, kvLen: number, thresholdScaleFactor: number): Promise<PhaseStats>;
}

export interface AttentionEngine {
  /** e.g. `wasm-relaxed-simd`, `reference`. */
  readonly implementation: string;
  readonly threads: number;
  /** Split-KV partitions of every decode step. */
  readonly partitions: number;
  /** Sets up one request: `promptLen` keys prefilled, `capacity` keys in all. One request at a time. */
  begin(promptLen: number, capacity: number): RequestKernel;
  close(): Promise<void>;
}

export async function createEngine(o: ServeOptions): Promise<AttentionEngine> {
  return o.implementation === 'wasm' ? createWasmEngine(o) : createReferenceEngine(o);
}

const scaleOf = (headDim: number) => 1 / Math.sqrt(headDim);

/** Counts decision bytes: 1 computed, 2 skipped, 0 not visited. */
function countDecisions(memory: ArrayBufferLike, region: Region): { visitedTiles: number; skippedTiles: number } {
  const bytes = new Uint8Array(memory, region.offset, region.bytes);
  let visitedTiles = 0;
  let skippedTiles = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== TileDecision.NOT_VISITED) visitedTiles++;
    if (b === TileDecision.SKIPPED) skippedTiles++;
  }
  return { visitedTiles, skippedTiles };
}

// -- WebAssembly engine: the worker pool over one shared memory --

export async function createWasmEngine(o: ServeOptions): Promise<AttentionEngine> {
  const kernel = loadKernelModule(o.wasmVariant);
  const pool = await KernelPool.create(o.threads, kernel);
  const partitions = resolvedPartitions(o);
  return {
    implementation: `wasm-${kernel.variant}`,
    threads: o.threads,
    partitions,
    begin: (promptLen, capacity) => new WasmRequest(pool, o, partitions, promptLen, capacity),
    close: () => pool.close(),
  };
}

const ALIGN = 64;

/**
 * One request's layout in the kernel memory: shared Q / output / decisions / scratch / split-KV state regions sized
 * for the larger of prefill and decode, then every layer's packed K and V at full capacity.
 */
class WasmRequest implements RequestKernel {
  private readonly prefillPlan: PrefillPlan;
  private readonly layerK: Region[] = [];
  private readonly layerV: Region[] = [];
  private readonly q: Region;
  private readonly out: Region;
  private readonly decisions: Region;
  private readonly scratch: Region;
  private readonly scratchStride: number;
  private readonly state: Region;
  private readonly totalBytes: number;
  private readonly scale: number;

  constructor(
    private readonly pool: KernelPool,
    private readonly o: ServeOptions,
    private readonly partitions: number,
    private readonly promptLen: number,
    private readonly capacity: number,
  ) {
    const shape = { numQueryHeads: o.numQueryHeads, numKvHeads: o.numKvHeads, headDim: o.headDim };
    const workers = pool.threads;
    this.prefillPlan = planPrefill({ ...shape, seqLen: promptLen, blockM: o.blockM, blockN: o.blockN, workers });
    const longest = this.decodePlanTemplate(capacity);
    // the first region the kernel's own allocator hands out: everything below belongs to the module
    let next = this.prefillPlan.q.offset;
    const take = (bytes: number): Region => {
      const region = { offset: next, bytes };
      next = Math.ceil((next + bytes) / ALIGN) * ALIGN;
      return region;
    };
    const p = this.prefillPlan;
    this.q = take(Math.max(p.q.bytes, longest.q.bytes));
    this.out = take(Math.max(p.out.bytes, longest.out.bytes));
    this.decisions = take(Math.max(p.decisions.bytes, longest.decisions.bytes));
    this.scratchStride = Math.max(p.scratchStride, longest.scratchStride);
    this.scratch = take(this.scratchStride * workers);
    this.state = take(longest.state.bytes);
    const d = o.headDim;
    for (let layer = 0; layer < o.layers; layer++) {
      this.layerK.push(take(o.numKvHeads * packedKeyFloats(capacity, d) * 4));
      this.layerV.push(take(o.numKvHeads * packedValueFloats(capacity, d) * 4));
    }
    this.totalBytes = next;
    this.scale = scaleOf(d);
    pool.reserve(this.totalBytes);
  }

  loadLayer(layer: number, k: Float32Array, v: Float32Array): void {
    const { numKvHeads: hkv, headDim: d } = this.o;
    const memory = this.pool.reserve(this.totalBytes);
    const kr = this.layerK[layer];
    const vr = this.layerV[layer];
    packKeys(k, hkv, this.capacity, d, new Float32Array(memory, kr.offset, kr.bytes / 4));
    packValues(v, hkv, this.capacity, d, new Float32Array(memory, vr.offset, vr.bytes / 4));
  }

  prefill(layer: number, q: Float32Array, factor: number): Promise<PhaseStats> {
    const p = this.prefillPlan;
    const plan: PrefillPlan = {
      ...p,
      ...this.shared(layer, p.q.bytes, p.out.bytes, p.decisions.bytes),
    };
    return this.run(plan, q, skipParams(this.scale, factor, this.promptLen));
  }

  decode(layer: number, q: Float32Array, kvLen: number, factor: number): Promise<PhaseStats> {
    const p = this.decodePlanTemplate(kvLen);
    const plan: DecodePlan = {
      ...p,
      ...this.shared(layer, p.q.bytes, p.out.bytes, p.decisions.bytes),
      state: this.state,
    };
    return this.run(plan, q, skipParams(this.scale, factor, kvLen));
  }

  private decodePlanTemplate(kvLen: number): DecodePlan {
    const o = this.o;
    return planDecode({
      numQueryHeads: o.numQueryHeads,
      numKvHeads: o.numKvHeads,
      headDim: o.headDim,
      kvLen,
      blockN: o.decodeBlockN,
      partitions: this.partitions,
      workers: this.pool.threads,
    });
  }

  /** The regions every plan of this request shares, trimmed to the sizes this plan uses. */
  private shared(layer: number, qBytes: number, outBytes: number, decisionBytes: number) {
    return {
      q: { offset: this.q.offset, bytes: qBytes },
      out: { offset: this.out.offset, bytes: outBytes },
      decisions: { offset: this.decisions.offset, bytes: decisionBytes },
      kPacked: this.layerK[layer],
      v: this.layerV[layer],
      scratch: this.scratch,
      scratchStride: this.scratchStride,
      totalBytes: this.totalBytes,
    };
  }

  private async run(
    plan: PrefillPlan | DecodePlan,
    q: Float32Array,
    params: ReturnType<typeof skipParams>,
  ): Promise<PhaseStats> {
    const before = this.pool.reserve(this.totalBytes);
    new Float32Array(before, plan.q.offset, plan.q.bytes / 4).set(q);
    clearDecisions(before, plan);
    const { wallMs } = await this.pool.run(plan, params, 1);
    // re-read the buffer: run() may have grown the memory for its control words
    return { ...countDecisions(this.pool.reserve(this.totalBytes), plan.decisions), wallMs };
  }
}

// -- reference engine: the plain TypeScript kernel, inline --

export function createReferenceEngine(o: ServeOptions): AttentionEngine {
  const partitions = resolvedPartitions({ ...o, threads: 1 });
  return {
    implementation: 'reference',
    threads: 1,
    partitions,
    begin: (promptLen, capacity) => new ReferenceRequest(o, partitions, promptLen, capacity),
    close: async () => {},
  };
}

/** Yields to the event loop, so sockets are served between two synchronous kernel calls. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

class ReferenceRequest implements RequestKernel {
  private readonly cache: { k: Float32Array; v: Float32Array }[] = [];

  constructor(
    private readonly o: ServeOptions,
    private readonly partitions: number,
    private readonly promptLen: number,
    private readonly capacity: number,
  ) {}

  loadLayer(layer: number, k: Float32Array, v: Float32Array): void {
    this.cache[layer] = { k, v };
  }

  async prefill(layer: number, q: Float32Array, factor: number): Promise<PhaseStats> {
    await yieldToLoop();
    const o = this.o;
    const L = this.promptLen;
    const start = performance.now();
    const result = referenceKernel.prefill(
      { ...this.shape(), seqLen: L, q, ...this.prefix(layer, L) },
      { blockM: o.blockM, blockN: o.blockN, thresholdScaleFactor: factor },
    );
    return { ...sumHeads(result.heads), wallMs: performance.now() - start };
  }

  async decode(layer: number, q: Float32Array, kvLen: number, factor: number): Promise<PhaseStats> {
    await yieldToLoop();
    const start = performance.now();
    const result = referenceKernel.decode(
      { ...this.shape(), kvLen, q, ...this.prefix(layer, kvLen) },
      { blockN: this.o.decodeBlockN, partitions: this.partitions, thresholdScaleFactor: factor },
    );
    return { ...sumHeads(result.heads), wallMs: performance.now() - start };
  }

  private shape() {
    return { numQueryHeads: this.o.numQueryHeads, numKvHeads: this.o.numKvHeads, headDim: this.o.headDim };
  }

  /** The first `len` keys and values of every KV head ([hkv][len][d]): a view for one head, a copy for several. */
  private prefix(layer: number, len: number): { k: Float32Array; v: Float32Array } {
    const { k, v } = this.cache[layer];
    const { numKvHeads: hkv, headDim: d } = this.o;
    if (hkv === 1 || len === this.capacity) return { k: k.subarray(0, hkv * len * d), v: v.subarray(0, hkv * len * d) };
    const cut = (x: Float32Array) => {
      const out = new Float32Array(hkv * len * d);
      for (let g = 0; g < hkv; g++)
        out.set(x.subarray(g * this.capacity * d, (g * this.capacity + len) * d), g * len * d);
      return out;
    };
    return { k: cut(k), v: cut(v) };
  }
}

function sumHeads(heads: { visitedTiles: number; skippedTiles: number }[]) {
  let visitedTiles = 0;
  let skippedTiles = 0;
  for (const h of heads) {
    visitedTiles += h.visitedTiles;
    skippedTiles += h.skippedTiles;
  }
  return { visitedTiles, skippedTiles };
}
