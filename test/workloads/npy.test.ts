import { describe, expect, it } from 'vitest';
import { SkipbenchError } from '../../kernels/errors.js';
import { encodeNpy, readNpy } from '../../workloads/index.js';

function codeOf(fn: () => unknown): { code?: string; field?: string } {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof SkipbenchError)) throw error;
    return { code: error.code, field: error.field };
  }
  return {};
}

/** A .npy file from a header dict and raw little-endian data, padded as numpy pads (version 1 or 2). */
function npyBytes(dict: string, data: Uint8Array, major = 1): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  const pad = (64 - ((prefix + dict.length + 1) % 64)) % 64;
  const header = dict + ' '.repeat(pad) + '\n';
  const out = new Uint8Array(prefix + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), prefix);
  out.set(data, prefix + header.length);
  return out;
}

describe('npy', () => {
  it('round-trips float32 through encodeNpy and readNpy, with a 64-byte aligned header', () => {
    const data = new Float32Array([0, -1.5, 3.25, 1e-8, -7e6, Math.PI, 42, 0.1, -0, 2, 3, 4]);
    const bytes = encodeNpy(data, [2, 3, 2]);
    const header = new TextDecoder('latin1').decode(
      bytes.subarray(10, 10 + new DataView(bytes.buffer).getUint16(8, true)),
    );
    expect(header).toContain("'descr': '<f4'");
    expect(header).toContain("'fortran_order': False");
    expect(header).toContain("'shape': (2, 3, 2)");
    expect(header.endsWith('\n')).toBe(true);
    expect((10 + header.length) % 64).toBe(0);
    const array = readNpy(bytes);
    expect(array.dtype).toBe('<f4');
    expect(array.shape).toEqual([2, 3, 2]);
    expect(array.data).toEqual(data);
    expect(readNpy(encodeNpy(new Float32Array([5]), [1])).shape).toEqual([1]);
  });

  it('reads an unaligned float32 payload (copying it)', () => {
    const bytes = encodeNpy(new Float32Array([1, 2, 3]), [3]);
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    expect(readNpy(shifted).data).toEqual(new Float32Array([1, 2, 3]));
  });

  it('decodes float16 against hand-made bytes', () => {
    // 0x3c00 = 1, 0xc000 = -2, 0x3555 ~ 0.33325, 0x7bff = 65504 (max), 0x0001 = 2^-24 (smallest subnormal),
    // 0x8000 = -0, 0x7c00 = +inf, 0x3800 = 0.5
    const halves = [0x3c00, 0xc000, 0x3555, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x3800];
    const raw = new Uint8Array(halves.flatMap((h) => [h & 0xff, h >> 8]));
    const array = readNpy(npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 4), }", raw));
    expect(array.dtype).toBe('<f2');
    expect(array.shape).toEqual([2, 4]);
    expect(Array.from(array.data)).toEqual([1, -2, Math.fround(0.333251953125), 65504, 2 ** -24, -0, Infinity, 0.5]);
  });

  it('decodes float64 against hand-made bytes', () => {
    const values = [1.5, -2.25, 1e-3, 123456.789];
    const raw = new Uint8Array(32);
    for (const [i, x] of values.entries()) new DataView(raw.buffer).setFloat64(8 * i, x, true);
    const array = readNpy(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", raw));
    expect(Array.from(array.data)).toEqual(values.map(Math.fround));
  });

  it('reads version 2.0 headers', () => {
    const raw = new Uint8Array(new Float32Array([7, 8]).buffer);
    const array = readNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", raw, 2));
    expect(array.shape).toEqual([1, 2]);
    expect(Array.from(array.data)).toEqual([7, 8]);
  });

  it('rejects malformed or unsupported files with SKB_NPY', () => {
    const raw = new Uint8Array(new Float32Array([1, 2]).buffer);
    const good = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", raw);
    const badMagic = good.slice();
    badMagic[1] = 0x4f;
    expect(codeOf(() => readNpy(badMagic))).toEqual({ code: 'SKB_NPY', field: 'magic' });
    expect(codeOf(() => readNpy(new Uint8Array(4)))).toEqual({ code: 'SKB_NPY', field: 'magic' });
    const fortran = npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", raw);
    expect(codeOf(() => readNpy(fortran))).toEqual({ code: 'SKB_NPY', field: 'fortran_order' });
    const bigEndian = npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", raw);
    expect(codeOf(() => readNpy(bigEndian))).toEqual({ code: 'SKB_NPY', field: 'descr' });
    const ints = npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", raw);
    expect(codeOf(() => readNpy(ints))).toEqual({ code: 'SKB_NPY', field: 'descr' });
    const truncated = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", raw);
    expect(codeOf(() => readNpy(truncated))).toEqual({ code: 'SKB_NPY', field: 'data' });
    const noShape = npyBytes("{'descr': '<f4', 'fortran_order': False, }", raw);
    expect(codeOf(() => readNpy(noShape))).toEqual({ code: 'SKB_NPY', field: 'header' });
    const version = good.slice();
    version[6] = 9;
    expect(codeOf(() => readNpy(version))).toEqual({ code: 'SKB_NPY', field: 'version' });
  });

  it('encodeNpy rejects a shape that does not match the data', () => {
    expect(codeOf(() => encodeNpy(new Float32Array(5), [2, 3])).code).toBe('SKB_SHAPE');
    expect(codeOf(() => encodeNpy(new Float32Array(6), [2, -3])).code).toBe('SKB_SHAPE');
  });
});
