/**
 * Minimal NumPy .npy reader/writer for float tensors (format spec: numpy.lib.format, versions 1.0-3.0).
 * Reads '<f4', '<f8' and '<f2' (converted to float32), C order only; writes '<f4' version 1.0.
 */
import { ErrorCodes, invalid, SkipbenchError } from '../kernels/errors.js';

export interface NpyArray {
  /** The descr of the file, e.g. '<f4'. */
  dtype: string;
  shape: number[];
  /** Row-major values as float32. For aligned '<f4' input this views the input bytes instead of copying them. */
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ITEM_SIZES: Readonly<Record<string, number>> = { '<f4': 4, '<f8': 8, '<f2': 2 };
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function readNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw invalid(ErrorCodes.NPY, 'magic', 'the .npy magic string \\x93NUMPY', [...bytes.subarray(0, 6)]);
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major !== 1 && major !== 2 && major !== 3) {
    throw invalid(ErrorCodes.NPY, 'version', 'format version 1.x, 2.x or 3.x', `${major}.${bytes[7]}`);
  }
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw invalid(ErrorCodes.NPY, 'header', 'a complete header', bytes.length);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = 8 + lengthBytes + headerLength;
  if (dataOffset > bytes.length) {
    throw invalid(ErrorCodes.NPY, 'header', `${headerLength} header bytes`, `${bytes.length - 8 - lengthBytes}`);
  }
  const headerBytes = bytes.subarray(8 + lengthBytes, dataOffset);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);
  const { dtype, fortranOrder, shape } = parseHeader(header);
  if (fortranOrder)
    throw invalid(ErrorCodes.NPY, 'fortran_order', 'False (C order; save with np.ascontiguousarray)', true);
  const itemSize = ITEM_SIZES[dtype];
  if (itemSize === undefined) throw invalid(ErrorCodes.NPY, 'descr', Object.keys(ITEM_SIZES).join(' | '), dtype);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataBytes = bytes.length - dataOffset;
  if (dataBytes !== count * itemSize) {
    throw invalid(
      ErrorCodes.NPY,
      'data',
      `${count * itemSize} bytes for shape (${shape.join(', ')}) of ${dtype}`,
      dataBytes,
    );
  }
  return { dtype, shape, data: decode(bytes, dataOffset, count, dtype) };
}

function parseHeader(header: string): { dtype: string; fortranOrder: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!header.trimStart().startsWith('{') || !descr || !fortran || !shapeMatch) {
    throw invalid(ErrorCodes.NPY, 'header', "a dict with 'descr', 'fortran_order' and 'shape'", header.trim());
  }
  const parts = shapeMatch[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (!parts.every((s) => /^\d+$/.test(s)))
    throw invalid(ErrorCodes.NPY, 'shape', 'a tuple of integers', shapeMatch[1]);
  return { dtype: descr[1], fortranOrder: fortran[1] === 'True', shape: parts.map(Number) };
}

function decode(bytes: Uint8Array, offset: number, count: number, dtype: string): Float32Array {
  const start = bytes.byteOffset + offset;
  const view = new DataView(bytes.buffer, start, bytes.byteLength - offset);
  if (dtype === '<f4') {
    if (LITTLE_ENDIAN_HOST && start % 4 === 0) return new Float32Array(bytes.buffer, start, count);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }
  const out = new Float32Array(count);
  if (dtype === '<f8') {
    if (LITTLE_ENDIAN_HOST && start % 8 === 0) out.set(new Float64Array(bytes.buffer, start, count));
    else for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
    return out;
  }
  const table = halfTable();
  if (LITTLE_ENDIAN_HOST && start % 2 === 0) {
    const halves = new Uint16Array(bytes.buffer, start, count);
    for (let i = 0; i < count; i++) out[i] = table[halves[i]];
  } else {
    for (let i = 0; i < count; i++) out[i] = table[view.getUint16(2 * i, true)];
  }
  return out;
}

let HALF_TABLE: Float32Array | undefined;

/** float16 bit pattern -> float32 value, all 65536 of them (IEEE 754 binary16: 1 sign, 5 exponent, 10 mantissa). */
function halfTable(): Float32Array {
  if (HALF_TABLE) return HALF_TABLE;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) table[h] = halfToFloat(h);
  HALF_TABLE = table;
  return table;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero and subnormals
  if (exponent === 31) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Encodes a C-order '<f4' .npy file (version 1.0; 2.0 only if the header would not fit). */
export function encodeNpy(data: Float32Array, shape: number[]): Uint8Array {
  if (!Array.isArray(shape) || !shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw invalid(ErrorCodes.SHAPE, 'shape', 'an array of integers >= 0', shape);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (!(data instanceof Float32Array) || data.length !== count) {
    throw new SkipbenchError(
      ErrorCodes.SHAPE,
      `data has ${data?.length} values, shape (${shape.join(', ')}) needs ${count}`,
      {
        field: 'data',
        allowed: `${count} float32 values`,
        received: data?.length,
      },
    );
  }
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${tuple}, }`;
  const major = dict.length + 12 > 65535 ? 2 : 1;
  const prefix = major === 1 ? 10 : 12;
  // Pad with spaces so the data starts on a 64-byte boundary; the header ends with '\n' (as numpy writes it).
  const padded = dict + ' '.repeat((64 - ((prefix + dict.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(prefix + padded.length + 4 * count);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  if (major === 1) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) out[prefix + i] = padded.charCodeAt(i);
  const dataOffset = prefix + padded.length;
  if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(data.buffer, data.byteOffset, 4 * count), dataOffset);
  else for (let i = 0; i < count; i++) view.setFloat32(dataOffset + 4 * i, data[i], true);
  return out;
}
