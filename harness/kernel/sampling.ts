/**
 * Which query tiles a long prefill computes, and how the sample's time scales to the whole phase.
 *
 * Causal prefill work grows with the query position (tile t attends t*blockM.. keys), so tiles are sampled by
 * stratified position: the tiles are cut into S equal strata and one tile per stratum is drawn with a seeded hash.
 * The sample's time is scaled by the ratio of dense causal work (unmasked score elements) in all tiles to that in
 * the sampled tiles: a ratio estimator, exact when time is proportional to dense work.
 */
import { causalPairs } from '../../kernels/tiling.js';
import { queryTileCount } from '../../kernels/validate.js';

export interface PrefillSample {
  /** Query tiles to compute; undefined = all (measured in full). */
  tiles?: number[];
  totalTiles: number;
  /** Dense causal score elements per head: all tiles, and the computed ones. */
  totalWork: number;
  sampledWork: number;
}

function tileWork(tile: number, blockM: number, seqLen: number): number {
  const r0 = tile * blockM;
  const r1 = Math.min(seqLen, r0 + blockM);
  return causalPairs(r0, r1, 0, r1);
}

/** Deterministic in [0, 1) from (seed, a, b): a splitmix-style integer hash. */
function unitHash(seed: number, a: number, b: number): number {
  let x = (seed ^ Math.imul(a + 1, 0x9e3779b1) ^ Math.imul(b + 1, 0x85ebca77)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return ((x ^ (x >>> 16)) >>> 0) / 2 ** 32;
}

export const SAMPLING_METHOD =
  'stratified by query position: tiles cut into equal strata, one tile per stratum drawn by a seeded hash; ' +
  'times scaled by (dense causal work of all tiles) / (dense causal work of the sampled tiles)';

/**
 * Full prefill up to `fullMax` tokens; beyond, enough strata that the sample's dense FLOPs per head stay within
 * `flopBudget` (4·d FLOPs per causal score element), at least 4 tiles.
 */
export function choosePrefillSample(
  seqLen: number,
  blockM: number,
  headDim: number,
  fullMax: number,
  flopBudget: number,
  seed: number,
): PrefillSample {
  const totalTiles = queryTileCount(seqLen, blockM);
  const totalWork = (seqLen * (seqLen + 1)) / 2;
  if (seqLen <= fullMax) return { totalTiles, totalWork, sampledWork: totalWork };
  const meanTileFlops = (4 * headDim * totalWork) / totalTiles;
  const strata = Math.min(totalTiles, Math.max(4, Math.floor(flopBudget / meanTileFlops)));
  if (strata === totalTiles) return { totalTiles, totalWork, sampledWork: totalWork };
  const tiles: number[] = [];
  for (let s = 0; s < strata; s++) {
    const start = Math.floor((s * totalTiles) / strata);
    const end = Math.floor(((s + 1) * totalTiles) / strata);
    tiles.push(start + Math.floor(unitHash(seed, s, seqLen) * (end - start)));
  }
  const sampledWork = tiles.reduce((sum, t) => sum + tileWork(t, blockM, seqLen), 0);
  return { tiles, totalTiles, totalWork, sampledWork };
}

/** Rows [start, end) of each sampled tile, for the workload's query generator. */
export function tileRowRanges(tiles: readonly number[], blockM: number, seqLen: number): [number, number][] {
  return tiles.map((t) => [t * blockM, Math.min(seqLen, (t + 1) * blockM)]);
}
