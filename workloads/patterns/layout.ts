/**
 * How the head dimension is split into subspaces. K carries every subspace at once (all query heads of a GQA group
 * read the same K); each query head switches on only the subspaces of its pattern, plus noise and content.
 *
 *   [sink][vertical][needle][content x C][slash pairs x H][local pairs x P][noise ...]
 *
 * Pairs are stored (cos, sin) next to each other, like rotary embeddings: q_i . k_j over a pair at angular frequency
 * w is cos(w (i - j)), a function of the distance only.
 */
import { CONTENT, LOCAL, SLASH } from './constants.js';

export interface Layout {
  readonly headDim: number;
  readonly sinkDim: number;
  readonly verticalDim: number;
  readonly needleDim: number;
  readonly contentStart: number;
  readonly contentDims: number;
  /** First dimension of the slash pairs followed by the local pairs: one block of `omegas.length` (cos, sin) pairs. */
  readonly pairStart: number;
  /** Angular frequency of each pair: the slash harmonics first, then the local band. */
  readonly omegas: Float64Array;
  readonly slashPairs: number;
  readonly localPairs: number;
  readonly noiseStart: number;
  readonly noiseDims: number;
}

export function layoutFor(headDim: number): Layout {
  const contentDims = CONTENT.dims[headDim];
  const slashPairs = SLASH.harmonics[headDim];
  const localPairs = LOCAL.pairs[headDim];
  if (contentDims === undefined || slashPairs === undefined || localPairs === undefined) {
    throw new Error(`no pattern layout for headDim ${headDim}`); // unreachable after checkShape
  }
  const contentStart = 3;
  const pairStart = contentStart + contentDims;
  const noiseStart = pairStart + 2 * (slashPairs + localPairs);
  const noiseDims = headDim - noiseStart;
  if (noiseDims < 8) throw new Error(`pattern layout for headDim ${headDim} leaves ${noiseDims} noise dims`);
  const omegas = new Float64Array(slashPairs + localPairs);
  for (let h = 0; h < slashPairs; h++) omegas[h] = (2 * Math.PI * (h + 1)) / SLASH.period;
  const omegaLow = (2 * Math.PI) / LOCAL.longestPeriod;
  for (let f = 0; f < localPairs; f++) {
    const t = localPairs > 1 ? f / (localPairs - 1) : 0;
    omegas[slashPairs + f] = LOCAL.omegaHigh * (omegaLow / LOCAL.omegaHigh) ** t;
  }
  return {
    headDim,
    sinkDim: 0,
    verticalDim: 1,
    needleDim: 2,
    contentStart,
    contentDims,
    pairStart,
    omegas,
    slashPairs,
    localPairs,
    noiseStart,
    noiseDims,
  };
}
