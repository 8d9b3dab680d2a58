/**
 * The GPU backend: the kernel runner's phases served by the Python GPU runner (harness/gpu/runner.py, Triton
 * kernels). Q/K/V are generated on the GPU from the seed and head patterns; `prepare` runs every arm once and checks
 * it against a float32 reference; each timed sample is one `time` request whose CUDA-event times are summed, so
 * the runner's interleaved rounds and cell builder work unchanged. Prefill is always computed in full.
 */
import { ErrorCodes } from '../../kernels/errors.js';
import type { HeadCounters } from '../../kernels/types.js';
import type { Phase } from '../../reports/schema.js';
import { parseHeadMix, syntheticDescription } from '../../workloads/index.js';
import type { KernelBackend, Prepared, PrepareFailure } from '../kernel/backend.js';
import { type ArmSpec, armsForPhase, armsOf, type KernelConfig, resolvePartitions } from '../kernel/config.js';
import type { ArmOutput, PreparedPhase } from '../kernel/executor.js';
import { GpuError, GpuRunner } from './client.js';
import { GPU_TIMEOUTS_MS } from './defaults.js';
import type { GpuArm, GpuCeilings, PreparedArm, PrepareParams, PrepareResult } from './protocol.js';

export const GPU_IMPLEMENTATION = 'triton-gpu';

export interface GpuBackendOptions {
  /** Extra environment for the runner process. */
  env?: Record<string, string>;
}

const COUNTER_FIELDS = ['visitedTiles', 'skippedTiles', 'flops', 'denseFlops', 'bytes', 'denseBytes'] as const;
const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function malformed(what: string): GpuError {
  return new GpuError(ErrorCodes.GPU_PROTOCOL, `the GPU runner's ${what}`, { answered: true });
}

function checkCounters(heads: unknown, count: number, arm: string): HeadCounters[] {
  const ok =
    Array.isArray(heads) &&
    heads.length === count &&
    heads.every((h) => typeof h === 'object' && h !== null && COUNTER_FIELDS.every((f) => finite(h[f]) && h[f] >= 0));
  if (!ok) throw malformed(`prepare answer has no valid counters for ${count} heads for arm ${arm}`);
  return heads as HeadCounters[];
}

/** The arms' outputs by id, anchors given the dense arm's counters (their work is the dense work). */
function armOutputs(result: PrepareResult, arms: ArmSpec[], heads: number): Map<string, ArmOutput> {
  if (typeof result !== 'object' || result === null || !Array.isArray(result.arms)) {
    throw malformed('prepare answer has no arms');
  }
  const byId = new Map<string, PreparedArm>(result.arms.map((a) => [a?.id, a]));
  const dense = byId.get(arms[0].id);
  const denseHeads = checkCounters(dense?.heads, heads, arms[0].id);
  const outputs = new Map<string, ArmOutput>();
  for (const arm of arms) {
    const answer = byId.get(arm.id);
    if (!answer) throw malformed(`prepare answer lacks arm ${arm.id}`);
    const counters =
      arm.anchor && (!Array.isArray(answer.heads) || answer.heads.length === 0)
        ? denseHeads
        : checkCounters(answer.heads, heads, arm.id);
    outputs.set(arm.id, {
      heads: counters,
      ...(answer.error ? { error: answer.error } : {}),
      ...(answer.headErrors ? { headErrors: answer.headErrors } : {}),
    });
  }
  return outputs;
}

function checkCeilings(c: GpuCeilings): GpuCeilings {
  if (!finite(c?.copyBytesPerSec) || !finite(c?.matmulFlopsPerSec) || typeof c?.method !== 'string') {
    throw new GpuError(ErrorCodes.GPU_PROTOCOL, "the GPU runner's ceilings answer is malformed", { answered: true });
  }
  return { copyBytesPerSec: c.copyBytesPerSec, matmulFlopsPerSec: c.matmulFlopsPerSec, method: c.method };
}

/** Starts the runner and says hello; rejects (with the runner stopped) when the GPU backend cannot run. */
export async function createGpuBackend(c: KernelConfig, options: GpuBackendOptions = {}): Promise<KernelBackend> {
  const patterns = parseHeadMix(c.headMix, c.numQueryHeads);
  const runner = GpuRunner.start({ python: c.python, script: c.gpuRunner, env: options.env });
  let hello: Awaited<ReturnType<GpuRunner['hello']>>;
  try {
    hello = await runner.hello({ timeoutMs: GPU_TIMEOUTS_MS.hello });
  } catch (error) {
    await runner.close();
    throw error;
  }
  // validated as a number for the GPU backend ('auto' sizes CPU threads)
  const partitions = resolvePartitions(c);
  const shape = { numQueryHeads: c.numQueryHeads, numKvHeads: c.numKvHeads, headDim: c.headDim };
  const arms = armsOf(c);

  async function prepare(L: number, phase: Phase): Promise<Prepared | PrepareFailure> {
    const phaseArms = armsForPhase(arms, phase);
    const batch = phase === 'prefill' ? 1 : c.batch;
    const params: PrepareParams = {
      phase,
      context: L,
      batch,
      shape,
      workload: { seed: c.seed, headPatterns: [...patterns] },
      tiles:
        phase === 'prefill'
          ? { blockM: c.blockM, blockN: c.blockN, ...(c.prefillKernel === 'auto' ? {} : { kernel: c.prefillKernel }) }
          : { blockN: c.decodeBlockN, partitions },
      arms: phaseArms.map(
        (a): GpuArm =>
          a.anchor ? { id: a.id, anchor: a.anchor } : { id: a.id, factor: a.thresholdScaleFactor[phase] },
      ),
      tolerance: c.tolerance,
    };
    let outputs: Map<string, ArmOutput>;
    let answer: PrepareResult;
    try {
      answer = await runner.request('prepare', params, { timeoutMs: GPU_TIMEOUTS_MS.prepare });
      outputs = armOutputs(answer, phaseArms, phase === 'prefill' ? c.numQueryHeads : c.numKvHeads);
    } catch (error) {
      // an error the runner answered fails this phase only; a broken runner ends the run
      if (!(error instanceof GpuError) || !error.answered) throw error;
      await release();
      return { failed: { code: error.code, message: error.message } };
    }
    return {
      phase: preparedPhase(phaseArms, phase, outputs),
      provenance: { kind: 'measured' },
      workScale: 1,
      headRanges: [],
      ...(phase === 'decode' ? { partitions: finite(answer.partitions) ? answer.partitions : partitions } : {}),
      batch,
      ...(Array.isArray(answer.referenceCheck) ? { referenceChecks: answer.referenceCheck } : {}),
      ...(answer.launch && finite(answer.launch.numWarps) && finite(answer.launch.numStages) ? { launch: answer.launch } : {}),
      release,
    };
  }

  async function release(): Promise<void> {
    try {
      await runner.request('release', {}, { timeoutMs: GPU_TIMEOUTS_MS.release });
    } catch (error) {
      if (!(error instanceof GpuError) || !error.answered) throw error;
    }
  }

  function preparedPhase(
    phaseArms: ArmSpec[],
    phase: Phase,
    outputs: Map<string, ArmOutput>,
  ): PreparedPhase<ArmOutput> {
    let last: string | undefined;
    const time = async (arm: string, iterations: number): Promise<number> => {
      const timeoutMs = GPU_TIMEOUTS_MS.timeBase + GPU_TIMEOUTS_MS.timePerCall * iterations;
      const { timesMs } = await runner.request('time', { arm, iterations }, { timeoutMs });
      if (!Array.isArray(timesMs) || timesMs.length !== iterations || !timesMs.every((t) => finite(t) && t > 0)) {
        throw malformed(`time answer for ${arm} is not ${iterations} positive times (ms)`);
      }
      last = arm;
      return timesMs.reduce((sum, t) => sum + t, 0);
    };
    // a factor names the first kernel arm with it (two arms sharing a factor in a phase do the same work)
    const byFactor = (factor: number) =>
      phaseArms.find((a) => !a.anchor && a.thresholdScaleFactor[phase] === factor)?.id ?? `factor ${factor}`;
    return {
      run: (factor, iterations, arm) => time(arm ?? byFactor(factor), iterations),
      runAnchor: (anchor, iterations) => time(anchor, iterations),
      collect: () => {
        const output = last === undefined ? undefined : outputs.get(last);
        if (!output)
          throw new GpuError(ErrorCodes.GPU_PROTOCOL, 'collect() before a successful run', { answered: true });
        return output;
      },
    };
  }

  return {
    target: {
      implementation: GPU_IMPLEMENTATION,
      threads: 1,
      device: { ...hello.device, versions: hello.versions },
      batch: c.batch,
    },
    workload: {
      description: `${syntheticDescription({ seed: c.seed, shape: c, headPatterns: patterns })}, generated on the GPU`,
      headPatterns: [...patterns],
    },
    partitions,
    // CUDA-event times do not depend on what else the host CPU runs
    maxForeignLoad: Number.POSITIVE_INFINITY,
    async measureCeilings(environment, onEvent) {
      environment.gpuCeilings = checkCeilings(
        await runner.request('ceilings', {}, { timeoutMs: GPU_TIMEOUTS_MS.ceilings }),
      );
      const { copyBytesPerSec, matmulFlopsPerSec } = environment.gpuCeilings;
      onEvent?.({ type: 'gpu', device: hello.device.name, copyBytesPerSec, matmulFlopsPerSec });
    },
    prepare,
    close: () => runner.close(),
  };
}
