import { ErrorCodes, SkipbenchError, invalid } from './errors.js';
import {
  type AttentionShape,
  type DecodeInputs,
  type DecodeOptions,
  type PrefillInputs,
  type PrefillOptions,
  SUPPORTED_HEAD_DIMS,
} from './types.js';

/** Tile sizes are multiples of 4 (one SIMD lane group) between these bounds. */
export const TILE_LIMITS = { min: 4, max: 512 } as const;
/** Split-KV partitions allowed in decode. */
export const PARTITION_LIMITS = { min: 1, max: 1024 } as const;

export function checkPositiveInteger(field: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw invalid(ErrorCodes.LENGTH, field, 'an integer >= 1', value);
}

export function checkShape(shape: AttentionShape): void {
  if (!(SUPPORTED_HEAD_DIMS as readonly number[]).includes(shape.headDim)) {
    throw invalid(ErrorCodes.HEAD_DIM, 'headDim', SUPPORTED_HEAD_DIMS.join(' | '), shape.headDim);
  }
  if (!Number.isInteger(shape.numKvHeads) || shape.numKvHeads < 1) {
    throw invalid(ErrorCodes.SHAPE, 'numKvHeads', 'an integer >= 1', shape.numKvHeads);
  }
  if (!Number.isInteger(shape.numQueryHeads) || shape.numQueryHeads < 1 || shape.numQueryHeads % shape.numKvHeads) {
    throw invalid(
      ErrorCodes.SHAPE,
      'numQueryHeads',
      `a positive multiple of numKvHeads (${shape.numKvHeads})`,
      shape.numQueryHeads,
    );
  }
}

export function checkTensor(field: string, tensor: Float32Array, expectedLength: number, finite = true): void {
  if (!(tensor instanceof Float32Array)) {
    throw new SkipbenchError(ErrorCodes.SHAPE, `${field} must be a Float32Array`, { field, allowed: 'Float32Array' });
  }
  if (tensor.length !== expectedLength) {
    throw invalid(ErrorCodes.SHAPE, `${field}.length`, `${expectedLength} (heads x rows x headDim)`, tensor.length);
  }
  if (!finite) return;
  for (let i = 0; i < tensor.length; i++) {
    const x = tensor[i];
    if (!Number.isFinite(x)) {
      throw new SkipbenchError(ErrorCodes.NON_FINITE, `${field}[${i}] is ${x}; every element must be finite`, {
        field,
        allowed: 'finite numbers',
        received: x,
      });
    }
  }
}

function checkTile(field: string, value: number): void {
  if (!Number.isInteger(value) || value < TILE_LIMITS.min || value > TILE_LIMITS.max || value % 4) {
    throw invalid(ErrorCodes.OPTION, field, `a multiple of 4 in [${TILE_LIMITS.min}, ${TILE_LIMITS.max}]`, value);
  }
}

function checkSkip(options: { thresholdScaleFactor: number; scale?: number }): void {
  const f = options.thresholdScaleFactor;
  if (typeof f !== 'number' || !Number.isFinite(f) || f < 0) {
    throw invalid(ErrorCodes.OPTION, 'thresholdScaleFactor', 'a finite number >= 0 (0 = dense)', f);
  }
  if (options.scale !== undefined && (!Number.isFinite(options.scale) || options.scale <= 0)) {
    throw invalid(ErrorCodes.OPTION, 'scale', 'a finite number > 0', options.scale);
  }
}

export function queryTileCount(seqLen: number, blockM: number): number {
  return Math.ceil(seqLen / blockM);
}

/** Rows held in q for a prefill: every row, or the rows of the selected query tiles. */
export function prefillRowCount(seqLen: number, blockM: number, queryTiles?: readonly number[]): number {
  if (!queryTiles) return seqLen;
  let rows = 0;
  for (const t of queryTiles) rows += Math.min(blockM, seqLen - t * blockM);
  return rows;
}

/** Validates everything before any compute, so a bad input fails fast with the field named. */
export function validatePrefill(inputs: PrefillInputs, options: PrefillOptions, checkFinite = true): void {
  checkShape(inputs);
  checkPositiveInteger('seqLen', inputs.seqLen);
  checkTile('blockM', options.blockM);
  checkTile('blockN', options.blockN);
  checkSkip(options);
  const tiles = queryTileCount(inputs.seqLen, options.blockM);
  if (inputs.queryTiles) {
    let previous = -1;
    for (const t of inputs.queryTiles) {
      if (!Number.isInteger(t) || t <= previous || t >= tiles) {
        throw invalid(ErrorCodes.OPTION, 'queryTiles', `ascending unique integers in [0, ${tiles})`, t);
      }
      previous = t;
    }
    if (inputs.queryTiles.length === 0) throw invalid(ErrorCodes.OPTION, 'queryTiles', 'a non-empty list', []);
  }
  const { headDim: d, numQueryHeads: hq, numKvHeads: hkv, seqLen } = inputs;
  const rows = prefillRowCount(seqLen, options.blockM, inputs.queryTiles);
  checkTensor('q', inputs.q, hq * rows * d, checkFinite);
  checkTensor('k', inputs.k, hkv * seqLen * d, checkFinite);
  checkTensor('v', inputs.v, hkv * seqLen * d, checkFinite);
}

export function validateDecode(inputs: DecodeInputs, options: DecodeOptions, checkFinite = true): void {
  checkShape(inputs);
  checkPositiveInteger('kvLen', inputs.kvLen);
  checkTile('blockN', options.blockN);
  if (
    !Number.isInteger(options.partitions) ||
    options.partitions < PARTITION_LIMITS.min ||
    options.partitions > PARTITION_LIMITS.max
  ) {
    throw invalid(
      ErrorCodes.OPTION,
      'partitions',
      `an integer in [${PARTITION_LIMITS.min}, ${PARTITION_LIMITS.max}]`,
      options.partitions,
    );
  }
  checkSkip(options);
  const { headDim: d, numQueryHeads: hq, numKvHeads: hkv, kvLen } = inputs;
  checkTensor('q', inputs.q, hq * d, checkFinite);
  checkTensor('k', inputs.k, hkv * kvLen * d, checkFinite);
  checkTensor('v', inputs.v, hkv * kvLen * d, checkFinite);
}
