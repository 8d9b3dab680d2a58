/**
 * Captured Q/K/V: real attention inputs saved from a model, so the kernels can be measured on true attention patterns.
 *
 * Layout (one directory, three files):
 *   q.npy  [numQueryHeads, tokens, headDim]
 *   k.npy  [numKvHeads,    tokens, headDim]
 *   v.npy  [numKvHeads,    tokens, headDim]
 * - One layer of one sequence, captured from the attention module's inputs AFTER rotary embedding (RoPE) is applied,
 *   BEFORE the softmax scale (the kernels apply 1/sqrt(headDim)), without repeating KV heads for GQA.
 * - Saved with numpy.save as float32 or float16 ('<f4' or '<f2'; '<f8' is also read), C order
 *   (torch: `np.save(path, t[0].transpose(0, 1).contiguous().float().cpu().numpy())` for a [batch, tokens, heads, d]
 *   tensor; use `.permute` / `np.ascontiguousarray` as your model's layout needs).
 * - numQueryHeads a multiple of numKvHeads; headDim 64 or 128; the same token count in all three files.
 * keysValues(L) serves the first L tokens, queries() the requested rows (a causal prefix of the capture is the
 * attention of its first L tokens), decodeQuery(L) row L - 1. L is at most the captured token count.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, invalid, SkipbenchError } from '../kernels/errors.js';
import { type AttentionShape, type HeadDim, SUPPORTED_HEAD_DIMS } from '../kernels/types.js';
import { type NpyArray, readNpy } from './npy.js';
import { checkLength, checkRowRanges, type QkvSource } from './source.js';

const LAYOUT = '[heads, tokens, headDim] (3 dimensions)';

export function capturedSource(dir: string): QkvSource {
  const q = load(dir, 'q.npy');
  const k = load(dir, 'k.npy');
  const v = load(dir, 'v.npy');
  const [hq, tokens, d] = q.shape;
  const [hkv, kTokens, kd] = k.shape;
  if (!(SUPPORTED_HEAD_DIMS as readonly number[]).includes(kd)) {
    throw invalid(ErrorCodes.HEAD_DIM, 'headDim', `${SUPPORTED_HEAD_DIMS.join(' | ')} (k.npy in ${dir})`, kd);
  }
  if (v.shape.some((n, i) => n !== k.shape[i])) {
    throw invalid(ErrorCodes.SHAPE, 'v.npy', `the shape of k.npy (${k.shape.join(', ')})`, v.shape);
  }
  if (d !== kd || tokens !== kTokens) {
    throw invalid(ErrorCodes.SHAPE, 'q.npy', `[numQueryHeads, ${kTokens}, ${kd}] to match k.npy`, q.shape);
  }
  if (hq % hkv !== 0) {
    throw invalid(ErrorCodes.SHAPE, 'q.npy', `a head count that is a multiple of k.npy's ${hkv}`, hq);
  }
  const shape: AttentionShape = { numQueryHeads: hq, numKvHeads: hkv, headDim: kd as HeadDim };
  return new CapturedSource(dir, shape, tokens, q, k, v);
}

/** Reads one file; every error names it. */
function load(dir: string, name: string): NpyArray {
  const path = join(dir, name);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new SkipbenchError(
      ErrorCodes.NPY,
      `cannot read ${path}: ${(cause as Error).message}`,
      {
        field: name,
        allowed: `a readable .npy file of layout ${LAYOUT}`,
      },
      { cause },
    );
  }
  let array: NpyArray;
  try {
    array = readNpy(bytes);
  } catch (cause) {
    if (!(cause instanceof SkipbenchError)) throw cause;
    const { field, allowed, received } = cause;
    throw new SkipbenchError(cause.code, `${path}: ${cause.message}`, { field, allowed, received }, { cause });
  }
  if (array.shape.length !== 3 || array.shape.some((n) => n < 1)) {
    throw new SkipbenchError(ErrorCodes.NPY, `${path} has shape (${array.shape.join(', ')}); expected ${LAYOUT}`, {
      field: name,
      allowed: LAYOUT,
      received: array.shape,
    });
  }
  return array;
}

class CapturedSource implements QkvSource {
  readonly description: string;

  constructor(
    dir: string,
    readonly shape: AttentionShape,
    readonly maxLength: number,
    private readonly q: NpyArray,
    private readonly k: NpyArray,
    private readonly v: NpyArray,
  ) {
    const { numQueryHeads: hq, numKvHeads: hkv, headDim: d } = shape;
    const dtypes = [...new Set([q.dtype, k.dtype, v.dtype])].join('/');
    this.description = `captured ${dir} (q.npy,k.npy,v.npy ${dtypes}) Hq=${hq} Hkv=${hkv} d=${d} tokens=${maxLength}`;
  }

  keysValues(length: number): { k: Float32Array; v: Float32Array } {
    checkLength(length, this.maxLength);
    const ranges: ReadonlyArray<readonly [number, number]> = [[0, length]];
    return {
      k: this.gather(this.k.data, this.shape.numKvHeads, ranges, length),
      v: this.gather(this.v.data, this.shape.numKvHeads, ranges, length),
    };
  }

  queries(length: number, rowRanges: ReadonlyArray<readonly [number, number]>): Float32Array {
    checkLength(length, this.maxLength);
    const rows = checkRowRanges(rowRanges, length);
    return this.gather(this.q.data, this.shape.numQueryHeads, rowRanges, rows);
  }

  decodeQuery(length: number): Float32Array {
    checkLength(length, this.maxLength);
    return this.queries(length, [[length - 1, length]]);
  }

  /** Copies the given token rows of every head into a fresh packed [heads][rows][headDim] array. */
  private gather(
    data: Float32Array,
    heads: number,
    ranges: ReadonlyArray<readonly [number, number]>,
    rows: number,
  ): Float32Array {
    const d = this.shape.headDim;
    const tokens = this.maxLength;
    const out = new Float32Array(heads * rows * d);
    for (let h = 0; h < heads; h++) {
      let r = h * rows;
      for (const [start, end] of ranges) {
        out.set(data.subarray((h * tokens + start) * d, (h * tokens + end) * d), r * d);
        r += end - start;
      }
    }
    return out;
  }
}
