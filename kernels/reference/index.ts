/**
 * The reference kernel: plain TypeScript, float64 arithmetic, the readable spec of Skip Softmax that every faster
 * implementation (WebAssembly SIMD, GPU) is checked against decision by decision. Slow on purpose.
 */
import type { AttentionKernel } from '../types.js';
import { decodeReference } from './decode.js';
import { prefillReference } from './prefill.js';

export { decodeReference, prefillReference };

export const referenceKernel: AttentionKernel = {
  name: 'reference',
  prefill: prefillReference,
  decode: decodeReference,
};
