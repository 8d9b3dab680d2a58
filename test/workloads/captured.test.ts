import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SkipbenchError } from '../../kernels/errors.js';
import { capturedSource, encodeNpy } from '../../workloads/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A tensor whose value encodes its coordinates, so any mis-indexing shows. */
function tensor(heads: number, tokens: number, d: number, tag: number): Float32Array {
  const t = new Float32Array(heads * tokens * d);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < tokens; i++)
      for (let c = 0; c < d; c++) t[(h * tokens + i) * d + c] = tag + h * 1000 + i + c / 1000;
  return t;
}

function writeCapture(files: Record<string, [Float32Array, number[]] | Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), 'skipbench-captured-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), content instanceof Uint8Array ? content : encodeNpy(content[0], content[1]));
  }
  return dir;
}

function errorOf(fn: () => unknown): SkipbenchError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SkipbenchError);
    return error as SkipbenchError;
  }
  throw new Error('expected an error');
}

const HQ = 4;
const HKV = 2;
const T = 50;
const D = 64;
const q = tensor(HQ, T, D, 0.25);
const k = tensor(HKV, T, D, 0.5);
const v = tensor(HKV, T, D, 0.75);

describe('capturedSource', () => {
  const dir = writeCapture({ 'q.npy': [q, [HQ, T, D]], 'k.npy': [k, [HKV, T, D]], 'v.npy': [v, [HKV, T, D]] });

  it('reports the shape, the length limit and where the data came from', () => {
    const src = capturedSource(dir);
    expect(src.shape).toEqual({ numQueryHeads: HQ, numKvHeads: HKV, headDim: D });
    expect(src.maxLength).toBe(T);
    expect(src.description).toContain(dir);
  });

  it('serves the first L tokens of K and V', () => {
    const src = capturedSource(dir);
    const L = 20;
    const out = src.keysValues(L);
    expect(out.k.length).toBe(HKV * L * D);
    for (let h = 0; h < HKV; h++) {
      expect(out.k.subarray(h * L * D, (h + 1) * L * D)).toEqual(k.subarray(h * T * D, (h * T + L) * D));
      expect(out.v.subarray(h * L * D, (h + 1) * L * D)).toEqual(v.subarray(h * T * D, (h * T + L) * D));
    }
    expect(src.keysValues(T).k).toEqual(k);
  });

  it('serves the requested query rows packed in range order, and the decode row', () => {
    const src = capturedSource(dir);
    const out = src.queries(40, [
      [30, 33],
      [0, 2],
    ]);
    const rows = 5;
    for (let h = 0; h < HQ; h++) {
      const expectRow = (r: number, i: number) =>
        expect(out.subarray((h * rows + r) * D, (h * rows + r + 1) * D)).toEqual(
          q.subarray((h * T + i) * D, (h * T + i + 1) * D),
        );
      for (const [r, i] of [30, 31, 32, 0, 1].entries()) expectRow(r, i);
    }
    const decode = src.decodeQuery(40);
    for (let h = 0; h < HQ; h++)
      expect(decode.subarray(h * D, (h + 1) * D)).toEqual(q.subarray((h * T + 39) * D, (h * T + 40) * D));
  });

  it('bounds the length by the captured tokens', () => {
    const src = capturedSource(dir);
    for (const call of [() => src.keysValues(T + 1), () => src.queries(T + 1, [[0, 1]]), () => src.decodeQuery(0)]) {
      const error = errorOf(call);
      expect(error.code).toBe('SKB_LENGTH');
      expect(error.field).toBe('length');
      expect(error.allowed).toContain(String(T));
    }
    expect(errorOf(() => src.queries(T, [[0, T + 1]])).code).toBe('SKB_LENGTH');
  });

  it('reads float16 captures', () => {
    // Every value 1.5 (0x3e00) in q, k, v of shape [1, 3, 64].
    const half = (shape: number[]) => {
      const count = shape.reduce((a, b) => a * b, 1);
      const dict = `{'descr': '<f2', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
      const header = dict + ' '.repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + '\n';
      const out = new Uint8Array(10 + header.length + 2 * count);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
      out.set(new TextEncoder().encode(header), 10);
      for (let i = 0; i < count; i++) out.set([0x00, 0x3e], 10 + header.length + 2 * i);
      return out;
    };
    const halfDir = writeCapture({ 'q.npy': half([1, 3, 64]), 'k.npy': half([1, 3, 64]), 'v.npy': half([1, 3, 64]) });
    const src = capturedSource(halfDir);
    expect(src.description).toContain('<f2');
    expect(Array.from(src.keysValues(3).k).every((x) => x === 1.5)).toBe(true);
  });

  it('rejects inconsistent or malformed captures, naming the file', () => {
    const q3 = (heads: number, tokens: number, d: number): [Float32Array, number[]] => [
      new Float32Array(heads * tokens * d),
      [heads, tokens, d],
    ];
    const cases: Array<[Record<string, [Float32Array, number[]] | Uint8Array>, string, string]> = [
      [
        { 'q.npy': [new Float32Array(8 * 64), [8, 64]], 'k.npy': q3(2, 8, 64), 'v.npy': q3(2, 8, 64) },
        'SKB_NPY',
        'q.npy',
      ],
      [{ 'q.npy': q3(4, 8, 64), 'k.npy': q3(2, 8, 64), 'v.npy': q3(2, 9, 64) }, 'SKB_SHAPE', 'v.npy'],
      [{ 'q.npy': q3(4, 7, 64), 'k.npy': q3(2, 8, 64), 'v.npy': q3(2, 8, 64) }, 'SKB_SHAPE', 'q.npy'],
      [{ 'q.npy': q3(3, 8, 64), 'k.npy': q3(2, 8, 64), 'v.npy': q3(2, 8, 64) }, 'SKB_SHAPE', 'q.npy'],
      [{ 'q.npy': q3(4, 8, 96), 'k.npy': q3(2, 8, 96), 'v.npy': q3(2, 8, 96) }, 'SKB_HEAD_DIM', 'headDim'],
      [{ 'q.npy': q3(4, 8, 64), 'k.npy': new Uint8Array([1, 2, 3]), 'v.npy': q3(2, 8, 64) }, 'SKB_NPY', 'magic'],
      [{ 'q.npy': q3(4, 8, 64), 'k.npy': q3(2, 8, 64) }, 'SKB_NPY', 'v.npy'],
    ];
    for (const [files, code, field] of cases) {
      const error = errorOf(() => capturedSource(writeCapture(files)));
      expect(error.code).toBe(code);
      expect(error.field).toBe(field);
    }
    const rank = errorOf(() =>
      capturedSource(
        writeCapture({ 'q.npy': [new Float32Array(8 * 64), [8, 64]], 'k.npy': q3(2, 8, 64), 'v.npy': q3(2, 8, 64) }),
      ),
    );
    expect(rank.message).toContain('q.npy');
    expect(rank.allowed).toContain('[heads, tokens, headDim]');
    const magic = errorOf(() =>
      capturedSource(
        writeCapture({ 'q.npy': q3(4, 8, 64), 'k.npy': new Uint8Array([1, 2, 3]), 'v.npy': q3(2, 8, 64) }),
      ),
    );
    expect(magic.message).toContain('k.npy');
  });
});
