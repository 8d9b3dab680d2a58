/** Loads and compiles the WebAssembly kernel once per process. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { builtFile } from '../paths.js';

export const WASM_PATH = 'build/attention.wasm';

export interface CompiledKernel {
  module: WebAssembly.Module;
  /** sha256 of the binary, recorded with results and used to key cached machine ceilings. */
  sha256: string;
}

let compiled: CompiledKernel | undefined;

export function loadKernelModule(): CompiledKernel {
  if (compiled) return compiled;
  const bytes = readFileSync(builtFile(WASM_PATH));
  compiled = {
    module: new WebAssembly.Module(bytes),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  return compiled;
}
