/**
 * Measures one (context, phase) for every arm: warmup, then timed rounds in interleaved arm order (the order
 * alternates each round: dense, skip | skip, dense | ...), so slow drifts of a shared machine hit every arm alike
 * and each round yields a paired speedup. Failures are recorded as samples, never thrown.
 */
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import type { KernelSample, KernelSampleOk, Phase } from '../../reports/schema.js';
import { cpuSnapshot, foreignLoad } from '../cpu-load.js';
import type { ArmSpec } from './config.js';
import type { ArmOutput, PreparedPhase } from './executor.js';

/** Upper bound on kernel repetitions per sample (1K decode takes tens of microseconds, so 30 ms takes ~1000). The
 * GPU runner accepts at most 10,000 per call (harness/gpu/runner.py), and a larger request would fail the sample. */
export const MAX_ITERATIONS = 10000;

export interface MeasureOptions {
  phase: Phase;
  arms: ArmSpec[];
  warmup: number;
  reps: number;
  minSampleMs: number;
  /** Checked between samples: once aborted, measuring stops and what was measured is kept. */
  signal?: AbortSignal;
  /** Numbering of samples across the whole run. */
  nextSequence: () => number;
  onSample?: (arm: string, sample: KernelSample) => void;
}

export interface ArmMeasurement {
  arm: string;
  samples: KernelSample[];
  /** Output and counters of the arm's first successful run (they are deterministic). */
  output?: ArmOutput;
}

function failure(error: unknown): { code: string; message: string } {
  if (error instanceof SkipbenchError) return { code: error.code, message: error.message };
  return { code: 'SKB_UNEXPECTED', message: error instanceof Error ? error.message : String(error) };
}

export async function measurePhase(phase: PreparedPhase<ArmOutput>, o: MeasureOptions): Promise<ArmMeasurement[]> {
  const results = o.arms.map((a): ArmMeasurement => ({ arm: a.id, samples: [] }));
  const call = (arm: ArmSpec, iterations: number): Promise<number> => {
    if (!arm.anchor) return phase.run(arm.thresholdScaleFactor[o.phase], iterations, arm.id);
    if (!phase.runAnchor) {
      return Promise.reject(new SkipbenchError(ErrorCodes.CONFIG, `this kernel backend has no ${arm.anchor} anchor`));
    }
    return phase.runAnchor(arm.anchor, iterations);
  };

  // -- warmup: untimed calls that also tier the kernel up and size the repetitions per sample --
  let fastest = Number.POSITIVE_INFINITY;
  for (let w = 0; w < o.warmup; w++) {
    for (const arm of o.arms) {
      try {
        fastest = Math.min(fastest, await call(arm, 1));
      } catch {
        // a failing arm shows up in its timed samples
      }
    }
  }
  const iterations = Number.isFinite(fastest)
    ? Math.min(MAX_ITERATIONS, Math.max(1, Math.ceil(o.minSampleMs / Math.max(fastest, 1e-3))))
    : 1;

  // -- timed rounds --
  for (let round = 0; round < o.reps; round++) {
    const order = round % 2 === 0 ? o.arms.map((_, i) => i) : o.arms.map((_, i) => o.arms.length - 1 - i);
    for (const i of order) {
      if (o.signal?.aborted) return results;
      const arm = o.arms[i];
      const sequence = o.nextSequence();
      let sample: KernelSample;
      const before = cpuSnapshot();
      try {
        const wallMs = await call(arm, iterations);
        const ok: KernelSampleOk = {
          status: 'ok',
          round,
          sequence,
          wallMs,
          iterations,
          timeMs: wallMs / iterations,
          foreignLoad: foreignLoad(before, cpuSnapshot()),
        };
        sample = ok;
        if (!results[i].output) results[i].output = phase.collect();
      } catch (error) {
        sample = { status: 'failed', round, sequence, error: failure(error) };
      }
      results[i].samples.push(sample);
      o.onSample?.(arm.id, sample);
    }
  }
  return results;
}
