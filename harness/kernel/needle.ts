/**
 * Needle recall in the kernel target: for a prepared phase of a synthetic workload, a probe that turns an arm's tile
 * decisions into a NeedleRecall per decision head (kernels/needle-recall.ts does the arithmetic). Pure: no timing,
 * no I/O; it runs after the timed rounds, on the decisions of the arm's recorded run.
 */
import { NEEDLE_MAX_ROWS, type NeedleRow, needleRecall, spreadIndices } from '../../kernels/needle-recall.js';
import type { DecodeInputs, PrefillInputs } from '../../kernels/types.js';
import { queryTileCount } from '../../kernels/validate.js';
import type { NeedleRecall } from '../../reports/schema.js';
import type { DecodeTiles, PrefillTiles } from './executor.js';

/**
 * An arm's decision bytes (kernels/types.ts AttentionResult.decisions layout) to one entry per decision head: query
 * heads in prefill, KV heads in decode; undefined where no head looks for the needle or no row lies after it.
 */
export type NeedleProbe = (decisions: Uint8Array) => (NeedleRecall | undefined)[];

/** Where the needle is and which query heads look for it (QkvSource.needle). */
export interface NeedleSpec {
  position: number;
  heads: readonly number[];
}

const RECALL = 'recall = mean skip mass / mean dense mass';

export const PREFILL_NEEDLE_METHOD =
  `softmax mass on the needle key in float64 from Q, K and the arm's tile decisions: dense = exp(s_needle - logsumexp of the row's causal scores), ` +
  `skip = the same over the computed tiles' keys only, 0 when the needle's tile was skipped for the row's query tile; ` +
  `up to ${NEEDLE_MAX_ROWS} query rows per head after the needle, from the computed query tiles, the centre row of each of ${NEEDLE_MAX_ROWS} equal shares of those rows; ${RECALL}`;

export const DECODE_NEEDLE_METHOD =
  `softmax mass on the needle key in float64 from Q, K and the arm's tile decisions: dense = exp(s_needle - logsumexp of all scores), ` +
  `skip = the same over the computed tiles' keys only, 0 when the group skipped the needle's tile; ` +
  `the decode query (position L-1) of each retrieval head of the GQA group, under the group's decisions; ${RECALL}`;

const defaultScale = (headDim: number) => 1 / Math.sqrt(headDim);

/** Prefill: each needle head's checked rows, under the decisions of the query tile holding the row. */
export function prefillNeedleProbe(inputs: PrefillInputs, tiles: PrefillTiles, needle: NeedleSpec): NeedleProbe {
  const { numQueryHeads: hq, numKvHeads: hkv, headDim: d, seqLen } = inputs;
  const { blockM, blockN } = tiles;
  const computedTiles = inputs.queryTiles ?? Array.from({ length: queryTileCount(seqLen, blockM) }, (_, t) => t);
  const kvTiles = Math.ceil(seqLen / blockN);
  const rowsHeld = computedTiles.reduce((n, t) => n + Math.min(blockM, seqLen - t * blockM), 0);

  // -- the checked rows, the same for every needle head: (index in computedTiles, absolute row, packed row) --
  const candidates: { tileIndex: number; position: number; packed: number }[] = [];
  let packed = 0;
  computedTiles.forEach((t, tileIndex) => {
    const first = t * blockM;
    const end = Math.min(seqLen, first + blockM);
    for (let position = Math.max(first, needle.position + 1); position < end; position++) {
      candidates.push({ tileIndex, position, packed: packed + position - first });
    }
    packed += end - first;
  });
  const checked = spreadIndices(candidates.length).map((i) => candidates[i]);

  return (decisions) => {
    const out: (NeedleRecall | undefined)[] = new Array(hq).fill(undefined);
    if (checked.length === 0) return out;
    for (const h of needle.heads) {
      const g = Math.floor(h / (hq / hkv));
      const rows: NeedleRow[] = checked.map((c) => ({
        q: inputs.q.subarray((h * rowsHeld + c.packed) * d, (h * rowsHeld + c.packed + 1) * d),
        position: c.position,
        decisions: decisions.subarray(
          (h * computedTiles.length + c.tileIndex) * kvTiles,
          (h * computedTiles.length + c.tileIndex + 1) * kvTiles,
        ),
      }));
      const k = inputs.k.subarray(g * seqLen * d, (g + 1) * seqLen * d);
      const summary = needleRecall({ k, headDim: d, needle: needle.position, blockN, scale: defaultScale(d) }, rows);
      out[h] = { position: needle.position, ...summary, method: PREFILL_NEEDLE_METHOD };
    }
    return out;
  };
}

/** Decode: per GQA group holding a needle head, the decode rows of its needle heads under the group's decisions. */
export function decodeNeedleProbe(inputs: DecodeInputs, tiles: DecodeTiles, needle: NeedleSpec): NeedleProbe {
  const { numQueryHeads: hq, numKvHeads: hkv, headDim: d, kvLen } = inputs;
  const group = hq / hkv;
  const kvTiles = Math.ceil(kvLen / tiles.blockN);
  const position = kvLen - 1;
  return (decisions) => {
    const out: (NeedleRecall | undefined)[] = new Array(hkv).fill(undefined);
    if (position <= needle.position) return out;
    for (let g = 0; g < hkv; g++) {
      const heads = needle.heads.filter((h) => Math.floor(h / group) === g);
      if (heads.length === 0) continue;
      const unit = decisions.subarray(g * kvTiles, (g + 1) * kvTiles);
      const rows: NeedleRow[] = heads.map((h) => ({
        q: inputs.q.subarray(h * d, (h + 1) * d),
        position,
        decisions: unit,
      }));
      const k = inputs.k.subarray(g * kvLen * d, (g + 1) * kvLen * d);
      const summary = needleRecall(
        { k, headDim: d, needle: needle.position, blockN: tiles.blockN, scale: defaultScale(d) },
        rows,
      );
      out[g] = { position: needle.position, ...summary, method: DECODE_NEEDLE_METHOD };
    }
    return out;
  };
}
