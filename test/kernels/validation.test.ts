import { describe, expect, it } from 'vitest';
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import { referenceKernel } from '../../kernels/reference/index.js';
import type { DecodeInputs, DecodeOptions, PrefillInputs, PrefillOptions } from '../../kernels/types.js';
import { gaussianArray, mulberry32 } from '../helpers/random.js';

const rng = mulberry32(41);
const d = 64;
const n = 10;

const goodPrefill = (): PrefillInputs => ({
  numQueryHeads: 2,
  numKvHeads: 1,
  headDim: d,
  seqLen: n,
  q: gaussianArray(2 * n * d, rng),
  k: gaussianArray(n * d, rng),
  v: gaussianArray(n * d, rng),
});
const goodPrefillOptions = (): PrefillOptions => ({ thresholdScaleFactor: 10, blockM: 4, blockN: 8 });

const goodDecode = (): DecodeInputs => ({
  numQueryHeads: 2,
  numKvHeads: 1,
  headDim: d,
  kvLen: n,
  q: gaussianArray(2 * d, rng),
  k: gaussianArray(n * d, rng),
  v: gaussianArray(n * d, rng),
});
const goodDecodeOptions = (): DecodeOptions => ({ thresholdScaleFactor: 10, blockN: 4, partitions: 2 });

/** Runs `fn` and returns the SkipbenchError's code and field; fails if it does not throw one. */
function thrown(fn: () => unknown): { code: string; field?: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SkipbenchError);
    const e = error as SkipbenchError;
    return { code: e.code, field: e.field };
  }
  throw new Error('expected a SkipbenchError, nothing was thrown');
}

const withNaN = (a: Float32Array, x: number) => {
  const b = a.slice();
  b[3] = x;
  return b;
};

type PrefillCase = [string, Partial<PrefillInputs>, Partial<PrefillOptions>, string, string];
const prefillCases: PrefillCase[] = [
  ['q too short', { q: new Float32Array(2 * n * d - 1) }, {}, ErrorCodes.SHAPE, 'q.length'],
  ['k too long', { k: new Float32Array(n * d + d) }, {}, ErrorCodes.SHAPE, 'k.length'],
  ['v not a Float32Array', { v: new Float64Array(n * d) as unknown as Float32Array }, {}, ErrorCodes.SHAPE, 'v'],
  ['NaN in q', { q: withNaN(goodPrefill().q, Number.NaN) }, {}, ErrorCodes.NON_FINITE, 'q'],
  ['Infinity in k', { k: withNaN(goodPrefill().k, Number.POSITIVE_INFINITY) }, {}, ErrorCodes.NON_FINITE, 'k'],
  ['-Infinity in v', { v: withNaN(goodPrefill().v, Number.NEGATIVE_INFINITY) }, {}, ErrorCodes.NON_FINITE, 'v'],
  ['seqLen 0', { seqLen: 0 }, {}, ErrorCodes.LENGTH, 'seqLen'],
  ['seqLen 2.5', { seqLen: 2.5 }, {}, ErrorCodes.LENGTH, 'seqLen'],
  ['headDim 96', { headDim: 96 as 64 }, {}, ErrorCodes.HEAD_DIM, 'headDim'],
  ['Hq not a multiple of Hkv', { numQueryHeads: 3, numKvHeads: 2 }, {}, ErrorCodes.SHAPE, 'numQueryHeads'],
  ['Hkv 0', { numKvHeads: 0 }, {}, ErrorCodes.SHAPE, 'numKvHeads'],
  ['blockM 6 (not a multiple of 4)', {}, { blockM: 6 }, ErrorCodes.OPTION, 'blockM'],
  ['blockM 0', {}, { blockM: 0 }, ErrorCodes.OPTION, 'blockM'],
  ['blockN 1024 (too large)', {}, { blockN: 1024 }, ErrorCodes.OPTION, 'blockN'],
  ['negative factor', {}, { thresholdScaleFactor: -1 }, ErrorCodes.OPTION, 'thresholdScaleFactor'],
  ['NaN factor', {}, { thresholdScaleFactor: Number.NaN }, ErrorCodes.OPTION, 'thresholdScaleFactor'],
  [
    'infinite factor',
    {},
    { thresholdScaleFactor: Number.POSITIVE_INFINITY },
    ErrorCodes.OPTION,
    'thresholdScaleFactor',
  ],
  ['scale 0', {}, { scale: 0 }, ErrorCodes.OPTION, 'scale'],
  ['queryTiles not ascending', { queryTiles: [2, 1] }, {}, ErrorCodes.OPTION, 'queryTiles'],
  ['queryTiles out of range', { queryTiles: [3] }, {}, ErrorCodes.OPTION, 'queryTiles'],
  ['queryTiles empty', { queryTiles: [] }, {}, ErrorCodes.OPTION, 'queryTiles'],
];

type DecodeCase = [string, Partial<DecodeInputs>, Partial<DecodeOptions>, string, string];
const decodeCases: DecodeCase[] = [
  ['q with the prefill shape', { q: new Float32Array(2 * n * d) }, {}, ErrorCodes.SHAPE, 'q.length'],
  ['v too short', { v: new Float32Array(n * d - 1) }, {}, ErrorCodes.SHAPE, 'v.length'],
  ['NaN in k', { k: withNaN(goodDecode().k, Number.NaN) }, {}, ErrorCodes.NON_FINITE, 'k'],
  ['kvLen 0', { kvLen: 0 }, {}, ErrorCodes.LENGTH, 'kvLen'],
  ['kvLen -3', { kvLen: -3 }, {}, ErrorCodes.LENGTH, 'kvLen'],
  ['headDim 96', { headDim: 96 as 64 }, {}, ErrorCodes.HEAD_DIM, 'headDim'],
  ['blockN 2', {}, { blockN: 2 }, ErrorCodes.OPTION, 'blockN'],
  ['partitions 0', {}, { partitions: 0 }, ErrorCodes.OPTION, 'partitions'],
  ['partitions 1.5', {}, { partitions: 1.5 }, ErrorCodes.OPTION, 'partitions'],
  ['partitions 2000', {}, { partitions: 2000 }, ErrorCodes.OPTION, 'partitions'],
  ['negative factor', {}, { thresholdScaleFactor: -0.5 }, ErrorCodes.OPTION, 'thresholdScaleFactor'],
  ['NaN scale', {}, { scale: Number.NaN }, ErrorCodes.OPTION, 'scale'],
];

describe('reference kernel input validation', () => {
  it('accepts valid inputs (and a one-token sequence)', () => {
    expect(referenceKernel.prefill(goodPrefill(), goodPrefillOptions()).out).toHaveLength(2 * n * d);
    expect(referenceKernel.decode(goodDecode(), goodDecodeOptions()).out).toHaveLength(2 * d);
    const one = { ...goodDecode(), kvLen: 1, k: gaussianArray(d, rng), v: gaussianArray(d, rng) };
    expect(Array.from(referenceKernel.decode(one, goodDecodeOptions()).out.subarray(0, d))).toEqual(Array.from(one.v));
  });

  it.each(prefillCases)('prefill: %s', (_, inputs, options, code, field) => {
    const err = thrown(() =>
      referenceKernel.prefill({ ...goodPrefill(), ...inputs }, { ...goodPrefillOptions(), ...options }),
    );
    expect(err).toEqual({ code, field });
  });

  it.each(decodeCases)('decode: %s', (_, inputs, options, code, field) => {
    const err = thrown(() =>
      referenceKernel.decode({ ...goodDecode(), ...inputs }, { ...goodDecodeOptions(), ...options }),
    );
    expect(err).toEqual({ code, field });
  });
});
