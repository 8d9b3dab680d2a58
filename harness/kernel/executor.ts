/**
 * Executors run one prepared phase (a context's prefill or decode) for any arm, repeatedly, and hand back the last
 * output and counters. The WebAssembly executor uses the worker pool; the reference executor runs the plain
 * TypeScript kernel in this thread (slow: it is the readable spec, timed for completeness).
 */
import { referenceKernel } from '../../kernels/reference/index.js';
import type { DecodeInputs, HeadCounters, PrefillInputs } from '../../kernels/types.js';
import type { AnchorKind, OutputError } from '../../reports/schema.js';
import { planDecode, planPrefill, type Plan } from '../../kernels/wasm/layout.js';
import {
  decodeCounters,
  prefillCounters,
  readDecisions,
  readMargins,
  readOutput,
  stageInputs,
} from '../../kernels/wasm/stage.js';
import { skipParams } from '../../kernels/wasm/units.js';
import { KernelPool } from '../cpu/pool.js';
import { loadKernelModule, type WasmVariantChoice } from '../cpu/wasm-module.js';

/** What an arm's run leaves behind for its cell: counters, and the output or the errors versus dense. */
export interface ArmOutput {
  /** The output, laid out like q; absent when the backend compares outputs itself (GPU: see error, headErrors). */
  out?: Float32Array;
  heads: HeadCounters[];
  /** Versus the dense arm, when the backend computed it (absent for dense); used instead of comparing `out`. */
  error?: OutputError;
  /** The same per decision head. */
  headErrors?: OutputError[];
  /** The tile decisions of the run (kernels/types.ts AttentionResult.decisions layout), when the backend has them. */
  decisions?: Uint8Array;
}

/** A CPU executor's output: always the output itself. */
export interface PhaseOutput extends ArmOutput {
  out: Float32Array;
}

export interface PreparedPhase<Output extends ArmOutput = PhaseOutput> {
  /**
   * Runs the phase `iterations` times with this threshold_scale_factor; resolves to the time (ms) of all the
   * iterations: wall time on the CPU, the sum of per-call CUDA-event times on the GPU. `arm` names the arm.
   */
  run(thresholdScaleFactor: number, iterations: number, arm?: string): Promise<number>;
  /** Runs an anchor (a reference implementation such as torch SDPA) likewise; backends without anchors omit it. */
  runAnchor?(anchor: AnchorKind, iterations: number): Promise<number>;
  /** Output and counters of the most recent run. */
  collect(): Output;
  /**
   * Runs once recording every visited tile's skip margin (calibration): the tile is skipped at threshold factor f
   * iff its margin < ln(f / L). Natural-log units; +Infinity for each unit's first tile (never skipped).
   * Only the WebAssembly executor has it.
   */
  margins?(): Promise<Float64Array>;
}

export interface PrefillTiles {
  blockM: number;
  blockN: number;
}

export interface DecodeTiles {
  blockN: number;
  partitions: number;
}

export interface Executor {
  readonly implementation: string;
  readonly threads: number;
  readonly binarySha256?: string;
  /** The worker pool, when there is one (machine ceilings are probed on it). */
  readonly pool?: KernelPool;
  preparePrefill(inputs: PrefillInputs, tiles: PrefillTiles): PreparedPhase;
  prepareDecode(inputs: DecodeInputs, tiles: DecodeTiles): PreparedPhase;
  close(): Promise<void>;
}

const defaultScale = (headDim: number) => 1 / Math.sqrt(headDim);

export async function createWasmExecutor(threads: number, variant: WasmVariantChoice = 'auto'): Promise<Executor> {
  const kernel = loadKernelModule(variant);
  const pool = await KernelPool.create(threads, kernel);

  function prepare(plan: Plan, inputs: { q: Float32Array; k: Float32Array; v: Float32Array }, headDim: number) {
    stageInputs(pool.reserve(plan.totalBytes), plan, inputs);
    const keys = plan.kind === 'prefill' ? plan.seqLen : plan.kvLen;
    return {
      run: async (factor: number, iterations: number) =>
        (await pool.run(plan, skipParams(defaultScale(headDim), factor, keys), iterations)).wallMs,
      collect: (): PhaseOutput => {
        const buffer = pool.reserve(plan.totalBytes);
        const decisions = readDecisions(buffer, plan);
        return {
          out: readOutput(buffer, plan),
          heads: plan.kind === 'prefill' ? prefillCounters(decisions, plan) : decodeCounters(decisions, plan),
          decisions,
        };
      },
      margins: async (): Promise<Float64Array> => {
        const params = {
          ...skipParams(defaultScale(headDim), 1, keys),
          log2Lambda: Number.NEGATIVE_INFINITY,
          recordMargins: true,
        };
        await pool.run(plan, params, 1);
        return readMargins(pool.reserve(plan.totalBytes), plan);
      },
    };
  }

  return {
    implementation: `wasm-${kernel.variant}`,
    threads,
    binarySha256: kernel.sha256,
    pool,
    preparePrefill: (inputs, tiles) =>
      prepare(planPrefill({ ...inputs, ...tiles, workers: threads }), inputs, inputs.headDim),
    prepareDecode: (inputs, tiles) =>
      prepare(planDecode({ ...inputs, ...tiles, workers: threads }), inputs, inputs.headDim),
    close: () => pool.close(),
  };
}

export function createReferenceExecutor(): Executor {
  function prepare(call: (factor: number) => PhaseOutput): PreparedPhase {
    let last: PhaseOutput | undefined;
    return {
      async run(factor, iterations) {
        const start = performance.now();
        for (let i = 0; i < iterations; i++) last = call(factor);
        return performance.now() - start;
      },
      collect() {
        if (!last) throw new Error('collect() before run()');
        return last;
      },
    };
  }
  return {
    implementation: 'reference',
    threads: 1,
    // decisions are recorded on every call (one byte per tile: small next to the kernel's own work)
    preparePrefill: (inputs, tiles) =>
      prepare((f) => referenceKernel.prefill(inputs, { ...tiles, thresholdScaleFactor: f, recordDecisions: true })),
    prepareDecode: (inputs, tiles) =>
      prepare((f) => referenceKernel.decode(inputs, { ...tiles, thresholdScaleFactor: f, recordDecisions: true })),
    close: async () => {},
  };
}
