/** Kernel samples for hand-built result cells. */
import type { KernelSample } from '../../reports/schema.js';

/** A successful single-call sample of round `round` (sequence = round), taking `timeMs`, with no foreign load. */
export function okKernelSample(timeMs: number, round: number): KernelSample {
  return { status: 'ok', round, sequence: round, wallMs: timeMs, iterations: 1, timeMs, foreignLoad: 0 };
}
