/**
 * The measured roof of a result: the CPU probe's ceilings (stream read, the kernel's q·k tile) or the GPU runner's
 * (device copy, bf16 GEMM), whichever the run measured, as one compute and one bandwidth ceiling. Pure.
 */
import type { Ceilings, Environment, GpuCeilings } from './schema.js';

export interface Roof {
  /** Compute ceiling (FLOP/s). */
  flopsPerSec: number;
  /** Bandwidth ceiling (bytes/s). */
  bytesPerSec: number;
  /** What the two ceilings are, in words. */
  compute: string;
  bandwidth: string;
}

const usable = (x: number) => Number.isFinite(x) && x > 0;

/** A roof from either kind of ceilings; undefined when a ceiling is missing or not positive. */
export function roofOf(ceilings: Ceilings | GpuCeilings | undefined): Roof | undefined {
  if (!ceilings) return undefined;
  const roof: Roof =
    'copyBytesPerSec' in ceilings
      ? {
          flopsPerSec: ceilings.matmulFlopsPerSec,
          bytesPerSec: ceilings.copyBytesPerSec,
          compute: 'bf16 GEMM',
          bandwidth: 'device copy',
        }
      : {
          flopsPerSec: ceilings.scoreTileFlopsPerSec,
          bytesPerSec: ceilings.streamReadBytesPerSec,
          compute: 'q·k tile',
          bandwidth: 'stream read',
        };
  return usable(roof.flopsPerSec) && usable(roof.bytesPerSec) ? roof : undefined;
}

/** The roof a result's cells were measured under: the GPU's when the run measured one, else the CPU's. */
export function measuredRoof(environment: Pick<Environment, 'ceilings' | 'gpuCeilings'>): Roof | undefined {
  return roofOf(environment.gpuCeilings ?? environment.ceilings);
}

/** The arithmetic intensity (FLOP/byte) where the two roofs meet. */
export function ridgeOf(roof: Roof): number {
  return roof.flopsPerSec / roof.bytesPerSec;
}
