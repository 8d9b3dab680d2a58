/**
 * The reference server's "model": real attention work with made-up weights. For a prompt of L tokens and max_tokens
 * N, every layer gets synthetic K/V/Q (workloads syntheticSource: sinks, local bands, stripes, ... per head) seeded
 * from the server seed, the layer and a hash of the prompt's token ids, so identical prompts give identical work and
 * different prompts different work. Then:
 *   prefill   per layer: causal attention of the L prompt queries over the first L keys (prefill factor);
 *             its end is the first generated token;
 *   decode    for token i = 1..N-1, per layer: the query at position L+i-1 over the first L+i keys (decode factor).
 * K/V are generated once per request and layer at capacity L+N-1 (the longest KV length reached); the decode steps
 * use growing prefixes of that cache. (Synthetic K/V amplitudes depend on the generated length, so a request's keys
 * are those of an (L+N-1)-token sequence, not of L tokens; fine for a stand-in model.)
 *
 * Output tokens are words from a fixed list, chosen by hashing (prompt hash, i): deterministic, and every word is one
 * Llama 3 token after a space, so the text re-tokenizes to exactly N tokens. Generation never stops early (ignore_eos).
 *
 * Q/K/V generation (the stand-in for the projections) runs on the event loop; attention runs in the engine.
 */
import { hashKey, mix32 } from '../../workloads/patterns/random.js';
import { type PatternKind, type QkvSource, syntheticSource } from '../../workloads/index.js';
import type { AttentionEngine, PhaseStats } from './engine.js';
import { headPatternsFor, type ServeOptions } from './options.js';

/** Single-token (with a leading space) Llama 3 words; a test checks each encodes to one token. */
export const OUTPUT_WORDS: readonly string[] = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an had ' +
  'they you were their one all we can her has there been if more when will would who so no time model attention ' +
  'long context token value key query sparse dense fast skip block'
).split(' ');

/** A 32-bit hash of a token-id sequence (order and length sensitive). */
export function promptHash(ids: readonly number[]): number {
  let h = mix32(ids.length ^ 0x5bd1e995);
  for (let i = 0; i < ids.length; i++) h = mix32((h ^ ids[i]) + 0x9e3779b9);
  return h;
}

/** The text of generated token `index` for a prompt: a space and one word. */
export function outputToken(hash: number, index: number): string {
  return ` ${OUTPUT_WORDS[hashKey(hash, index) % OUTPUT_WORDS.length]}`;
}

/** Tiles and kernel time of one phase, summed over layers (and decode steps). */
export interface PhaseTotals {
  visitedTiles: number;
  skippedTiles: number;
  /** Kernel wall time (ms), Q/K/V generation excluded. */
  attentionMs: number;
}

export interface GenerationResult {
  /** 'aborted': the signal fired; the totals cover the work done until then. */
  status: 'completed' | 'aborted';
  promptTokens: number;
  /** The tokens produced (N when completed). */
  tokens: string[];
  /** Start of processing to the first token (ms). */
  promptMs: number;
  /** First token to last token (ms); 0 for a single token. */
  predictedMs: number;
  prefill: PhaseTotals;
  decode: PhaseTotals;
}

export interface GenerationRequest {
  promptIds: readonly number[];
  maxTokens: number;
  signal: AbortSignal;
  /** Called with each token as soon as it exists (index 0 right after the prefill). */
  onToken?: (index: number, text: string) => void;
}

const emptyTotals = (): PhaseTotals => ({ visitedTiles: 0, skippedTiles: 0, attentionMs: 0 });

function add(totals: PhaseTotals, stats: PhaseStats): void {
  totals.visitedTiles += stats.visitedTiles;
  totals.skippedTiles += stats.skippedTiles;
  totals.attentionMs += stats.wallMs;
}

export class ReferenceModel {
  private readonly patterns: PatternKind[];

  constructor(
    readonly options: ServeOptions,
    readonly engine: AttentionEngine,
  ) {
    this.patterns = headPatternsFor(options);
  }

  /** The synthetic Q/K/V of one layer for a prompt (exported for tests through `sourceFor`). */
  sourceFor(hash: number, layer: number): QkvSource {
    const o = this.options;
    return syntheticSource({
      seed: hashKey(o.seed, layer, hash),
      shape: { numQueryHeads: o.numQueryHeads, numKvHeads: o.numKvHeads, headDim: o.headDim },
      headPatterns: this.patterns,
    });
  }

  /** Runs one request. Call one at a time (the engine holds one request's cache). */
  async generate(request: GenerationRequest): Promise<GenerationResult> {
    const o = this.options;
    const { promptIds, maxTokens, signal } = request;
    const L = promptIds.length;
    const capacity = L + maxTokens - 1;
    const hash = promptHash(promptIds);
    const start = performance.now();
    const result: GenerationResult = {
      status: 'aborted',
      promptTokens: L,
      tokens: [],
      promptMs: 0,
      predictedMs: 0,
      prefill: emptyTotals(),
      decode: emptyTotals(),
    };
    const emit = (index: number) => {
      const text = outputToken(hash, index);
      result.tokens.push(text);
      request.onToken?.(index, text);
    };

    const kernel = this.engine.begin(L, capacity);
    const sources: QkvSource[] = [];
    // -- prefill: every layer over the prompt --
    for (let layer = 0; layer < o.layers; layer++) {
      if (signal.aborted) return result;
      const source = this.sourceFor(hash, layer);
      sources.push(source);
      const { k, v } = source.keysValues(capacity);
      kernel.loadLayer(layer, k, v);
      const q = source.queries(capacity, [[0, L]]);
      add(result.prefill, await kernel.prefill(layer, q, o.prefillFactor));
    }
    if (signal.aborted) return result;
    const tFirst = performance.now();
    result.promptMs = tFirst - start;
    emit(0);

    // -- decode: token i attends over L + i keys --
    for (let i = 1; i < maxTokens; i++) {
      const kvLen = L + i;
      for (let layer = 0; layer < o.layers; layer++) {
        if (signal.aborted) return result;
        const q = sources[layer].queries(capacity, [[kvLen - 1, kvLen]]);
        add(result.decode, await kernel.decode(layer, q, kvLen, o.decodeFactor));
      }
      if (signal.aborted) return result;
      result.predictedMs = performance.now() - tFirst;
      emit(i);
    }
    result.status = 'completed';
    return result;
  }
}
