/**
 * Where the kernel speedup S of each phase comes from, in order of precedence: a number given outright
 * (--kernel-speedup), the measured median speedup in a kernel result file (--results), or the theory bound
 * 2/(2-s) for a sparsity s (--sparsity). Each resolved S carries a label that says which, and from what.
 */
import { ErrorCodes, invalid, SkipbenchError } from '../../kernels/errors.js';
import { skipArmIds, theoryBound } from '../comparison.js';
import { formatPercent, formatTokens } from '../format.js';
import type { KernelCell, Phase, ResultFile } from '../schema.js';

/** One measured point: the skip arm's median speedup over dense at one context. */
export interface MeasuredPoint {
  context: number;
  speedup: number;
  sparsity: number;
  partitions?: number;
}

export type KernelSpeedupInput =
  | { kind: 'theory'; sparsity: number }
  | { kind: 'given'; speedup: number }
  | {
      kind: 'measured';
      file: string;
      arm: string;
      implementation: string;
      points: MeasuredPoint[];
      fallbackSparsity: number;
    };

export interface ResolvedSpeedup {
  value: number;
  source: 'theory' | 'given' | 'measured';
  /** One line: what S is and where it came from. */
  label: string;
  /** Measured only: the context whose cell was used, and its sparsity. */
  measuredContext?: number;
  measuredSparsity?: number;
}

export const CPU_STAND_IN_ASSUMPTION =
  'a measured kernel speedup comes from the kernel that wrote the result file (the CPU kernel, unless a GPU backend ' +
  'wrote it); it stands in for the GPU attention kernel the projection is about';

/**
 * The skip arms' (context, speedup) points of one phase in a kernel result file. `arm` picks a skip arm; without
 * it, the first arm after the baseline. Cells without a speedup (the baseline, failed cells) are left out.
 */
export function measuredPoints(
  result: ResultFile,
  phase: Phase,
  arm?: string,
): { arm: string; points: MeasuredPoint[] } {
  if (result.target.kind !== 'kernel') {
    throw new SkipbenchError(
      ErrorCodes.RESULT,
      `--results must be a kernel result file (target.kind "kernel"), got "${result.target.kind}": server speedups are already end to end`,
      { field: '--results', allowed: 'kernel', received: result.target.kind },
    );
  }
  const skipArms = skipArmIds(result);
  const chosen = arm ?? skipArms[0];
  if (chosen === undefined || !skipArms.includes(chosen)) {
    throw invalid(ErrorCodes.CONFIG, '--arm', `a skip arm of the result file (${skipArms.join(' | ') || 'none'})`, arm);
  }
  const points = result.cells
    .filter((c): c is KernelCell => c.kind === 'kernel' && c.phase === phase && c.arm === chosen)
    .filter((c) => c.speedup !== undefined && Number.isFinite(c.speedup.ofMedians) && c.speedup.ofMedians > 0)
    .map((c) => ({
      context: c.context,
      speedup: c.speedup!.ofMedians,
      sparsity: c.work.sparsity,
      partitions: c.partitions,
    }));
  return { arm: chosen, points };
}

/** The point nearest to `context` on a log scale (|log2(c / context)|); a tie goes to the longer context. */
export function nearestPoint(points: readonly MeasuredPoint[], context: number): MeasuredPoint | undefined {
  let best: MeasuredPoint | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const p of points) {
    const distance = Math.abs(Math.log2(p.context / context));
    if (
      distance < bestDistance - 1e-12 ||
      (Math.abs(distance - bestDistance) <= 1e-12 && best && p.context > best.context)
    ) {
      best = p;
      bestDistance = distance;
    }
  }
  return best;
}

function theory(sparsity: number, note = ''): ResolvedSpeedup {
  return {
    value: theoryBound(sparsity),
    source: 'theory',
    label: `theory bound 2/(2-s) at s = ${formatPercent(sparsity, 0)}${note}`,
  };
}

/** S for one phase at one context. */
export function resolveSpeedup(input: KernelSpeedupInput, context: number): ResolvedSpeedup {
  if (input.kind === 'given') return { value: input.speedup, source: 'given', label: 'given (--kernel-speedup)' };
  if (input.kind === 'theory') return theory(input.sparsity);
  const p = nearestPoint(input.points, context);
  if (!p) return theory(input.fallbackSparsity, ` (no measured cell of this phase in ${input.file})`);
  const split = p.partitions !== undefined ? `, ${p.partitions} split-KV partitions` : '';
  return {
    value: p.speedup,
    source: 'measured',
    label: `measured median speedup, ${input.implementation} kernel, arm ${input.arm}, at ${formatTokens(p.context)} (s = ${formatPercent(p.sparsity)}${split}), ${input.file}`,
    measuredContext: p.context,
    measuredSparsity: p.sparsity,
  };
}
