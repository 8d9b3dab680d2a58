/**
 * Silent no-op detection: a skip arm that behaves exactly like dense (a known failure mode in the wild: a path that
 * ignores the threshold). Kernel: the arm has a factor > 0 for the phase but skipped no tile. Server: for a context,
 * the paired speedup's bootstrap CI reaches 1.0 (within PRACTICAL_EQUIVALENCE) in every measured phase AND every
 * request that both arms answered produced the same text (greedy decoding with skipping active almost always changes
 * some token). Pure.
 */
import { ratioMedianCI } from './bootstrap.js';
import type { ResultFile, ServerCell } from './schema.js';

/**
 * A speedup CI within this distance of 1.0 counts as "contains 1.0": request order and warm-up leave a few percent of
 * bias between two arms served by one and the same server, which a tight CI would otherwise call a difference.
 */
export const PRACTICAL_EQUIVALENCE = 0.05;

export interface InactiveFinding {
  context: number;
  arm: string;
  /** The phases the finding covers. */
  phases: string[];
  reason: string;
}

function sameOutputs(skip: ServerCell, dense: ServerCell): { compared: number; identical: boolean } {
  const byRequest = new Map(
    dense.samples.filter((s) => s.status === 'ok' && !s.warmup && s.outputSha1).map((s) => [s.request, s.outputSha1]),
  );
  let compared = 0;
  let identical = true;
  for (const s of skip.samples) {
    if (s.status !== 'ok' || s.warmup || !s.outputSha1 || !byRequest.has(s.request)) continue;
    compared += 1;
    if (byRequest.get(s.request) !== s.outputSha1) identical = false;
  }
  return { compared, identical };
}

export function detectInactive(result: ResultFile): InactiveFinding[] {
  const baseline = result.arms[0]?.id;
  const findings: InactiveFinding[] = [];
  // anchors (GPU: torch SDPA) are no skip arm: they cannot be inactive
  for (const arm of result.arms.slice(1).filter((a) => !a.anchor)) {
    const cells = result.cells.filter((c) => c.arm === arm.id);
    for (const context of [...new Set(cells.map((c) => c.context))]) {
      const here = cells.filter((c) => c.context === context);
      const kernelDead = here.filter(
        (c) => c.kind === 'kernel' && (arm.thresholdScaleFactor?.[c.phase] ?? 0) > 0 && c.work.visitedTiles > 0 && c.work.skippedTiles === 0,
      );
      if (kernelDead.length) {
        findings.push({
          context,
          arm: arm.id,
          phases: kernelDead.map((c) => c.phase),
          reason: 'kernel sparsity is 0 at the configured threshold_scale_factor',
        });
      }
      const server = here.filter((c): c is ServerCell => c.kind === 'server');
      if (server.length === 0) continue;
      const noSpeedup = server.every((c) => {
        const ci = ratioMedianCI(c.speedup?.pairedRatios ?? []);
        return Number.isFinite(ci.low) && ci.low <= 1 + PRACTICAL_EQUIVALENCE && ci.high >= 1 - PRACTICAL_EQUIVALENCE;
      });
      const outputs = server
        .map((c) => {
          const dense = result.cells.find(
            (d): d is ServerCell => d.kind === 'server' && d.arm === baseline && d.context === c.context && d.phase === c.phase,
          );
          return dense ? sameOutputs(c, dense) : { compared: 0, identical: true };
        })
        .reduce((a, b) => ({ compared: a.compared + b.compared, identical: a.identical && b.identical }));
      if (noSpeedup && outputs.compared > 0 && outputs.identical) {
        findings.push({
          context,
          arm: arm.id,
          phases: server.map((c) => c.phase),
          reason: `the speedup CI reaches 1.0 (+-${PRACTICAL_EQUIVALENCE * 100}%) and all ${outputs.compared} compared outputs are identical to ${baseline}`,
        });
      }
    }
  }
  return findings;
}

/** The banner reports put first when any finding exists. */
export function inactiveBanner(findings: InactiveFinding[]): string | undefined {
  if (findings.length === 0) return undefined;
  const where = findings.map((f) => `${f.arm} at ${f.context} (${f.phases.join(', ')}): ${f.reason}`).join('; ');
  return `WARNING: Skip Softmax appears inactive: ${where}. Check that the skip arm's configuration reached the kernel.`;
}
