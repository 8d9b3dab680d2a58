/**
 * Loads and compiles the WebAssembly kernel once per process, in one of two builds of the same source:
 *   simd          f32x4 multiply then add (WebAssembly SIMD, every engine since Node 16)
 *   relaxed-simd  f32x4.relaxed_madd, a fused multiply-add where the CPU has one (half the arithmetic
 *                 instructions in the q·k and p·v loops). Node 20 has it behind a V8 flag, which is switched on here;
 *                 newer Node versions ship it.
 * 'auto' takes relaxed-simd when the engine accepts it. Results record which build ran.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import { builtFile } from '../paths.js';

export type WasmVariant = 'simd' | 'relaxed-simd';
export type WasmVariantChoice = 'auto' | WasmVariant;
export const WASM_VARIANTS: readonly WasmVariantChoice[] = ['auto', 'simd', 'relaxed-simd'];

export const WASM_FILES: Record<WasmVariant, string> = {
  simd: 'build/attention.wasm',
  'relaxed-simd': 'build/attention-relaxed.wasm',
};

export interface CompiledKernel {
  variant: WasmVariant;
  module: WebAssembly.Module;
  /** sha256 of the binary, recorded with results and used to key cached machine ceilings. */
  sha256: string;
}

const compiled = new Map<WasmVariant, CompiledKernel>();

/** True when this engine can run relaxed SIMD, after enabling it where Node keeps it behind a flag. */
function relaxedSimdAvailable(bytes: Uint8Array): boolean {
  if (WebAssembly.validate(bytes)) return true;
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(bytes);
}

export function loadKernelModule(choice: WasmVariantChoice = 'auto'): CompiledKernel {
  let variant: WasmVariant = choice === 'auto' ? 'relaxed-simd' : choice;
  const cached = compiled.get(variant);
  if (cached) return cached;
  let bytes = readFileSync(builtFile(WASM_FILES[variant]));
  if (variant === 'relaxed-simd' && !relaxedSimdAvailable(bytes)) {
    if (choice !== 'auto') {
      throw new SkipbenchError(ErrorCodes.OPTION, 'this JavaScript engine cannot run relaxed SIMD; use --wasm simd', {
        field: 'wasm',
        allowed: 'simd | auto',
      });
    }
    variant = 'simd';
    bytes = readFileSync(builtFile(WASM_FILES.simd));
  }
  const kernel: CompiledKernel = {
    variant,
    module: new WebAssembly.Module(bytes),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  compiled.set(variant, kernel);
  if (choice === 'auto') compiled.set('relaxed-simd', kernel);
  return kernel;
}
