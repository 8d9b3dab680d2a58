/**
 * The WebAssembly SIMD kernel as a plain, single-threaded AttentionKernel: what the tests compare against the
 * reference. The multi-threaded path (harness/cpu/pool.ts) runs the very same units on several instances.
 */
import type {
  AttentionKernel,
  AttentionResult,
  DecodeInputs,
  DecodeOptions,
  PrefillInputs,
  PrefillOptions,
} from '../types.js';
import { validateDecode, validatePrefill } from '../validate.js';
import { type Plan, planDecode, planPrefill, unitCount } from './layout.js';
import { decodeCounters, prefillCounters, readDecisions, readOutput, stageInputs } from './stage.js';
import { type AttentionExports, mergeDecode, runUnit, skipParams } from './units.js';

const PAGE = 65536;
/** 4 GiB: the most a wasm32 memory can address; shared memories must declare a maximum. */
export const MAX_PAGES = 65536;

export function createSharedMemory(bytes: number): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE), maximum: MAX_PAGES, shared: true });
}

export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): AttentionExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as AttentionExports;
}

export function createWasmKernel(module: WebAssembly.Module): AttentionKernel {
  function run(plan: Plan, inputs: { q: Float32Array; k: Float32Array; v: Float32Array }, scale: number, factor: number) {
    const memory = createSharedMemory(plan.totalBytes);
    const exports = instantiate(module, memory);
    stageInputs(memory.buffer, plan, inputs);
    const keys = plan.kind === 'prefill' ? plan.seqLen : plan.kvLen;
    const params = skipParams(scale, factor, keys);
    for (let u = 0; u < unitCount(plan); u++) runUnit(exports, plan, u, params, 0);
    return memory.buffer;
  }

  return {
    name: 'wasm-simd',
    prefill(inputs: PrefillInputs, options: PrefillOptions): AttentionResult {
      validatePrefill(inputs, options);
      const plan = planPrefill({ ...inputs, blockM: options.blockM, blockN: options.blockN, workers: 1 });
      const scale = options.scale ?? 1 / Math.sqrt(inputs.headDim);
      const buffer = run(plan, inputs, scale, options.thresholdScaleFactor);
      const decisions = readDecisions(buffer, plan);
      return {
        out: readOutput(buffer, plan),
        heads: prefillCounters(decisions, plan),
        ...(options.recordDecisions ? { decisions } : {}),
      };
    },
    decode(inputs: DecodeInputs, options: DecodeOptions): AttentionResult {
      validateDecode(inputs, options);
      const plan = planDecode({ ...inputs, ...options, workers: 1 });
      const scale = options.scale ?? 1 / Math.sqrt(inputs.headDim);
      const buffer = run(plan, inputs, scale, options.thresholdScaleFactor);
      mergeDecode(buffer, plan);
      const out = readOutput(buffer, plan);
      const decisions = readDecisions(buffer, plan);
      return {
        out,
        heads: decodeCounters(decisions, plan),
        ...(options.recordDecisions ? { decisions } : {}),
      };
    },
  };
}
