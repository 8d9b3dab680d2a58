/** Calibration results as ready-to-use configuration and as a readable summary (pure: strings only). */
import { formatPercent, formatSci, formatTokens } from '../../reports/format.js';
import { trtllmSkipSoftmaxYaml } from '../bench/trtllm.js';
import type { CalibrationResult, PhaseCalibration } from './run.js';

function factorFor(result: CalibrationResult, phase: 'prefill' | 'decode', target: number): number {
  return result.phases.find((p) => p.phase === phase)?.targets.find((t) => t.target === target)?.factor ?? 0;
}

/** TensorRT-LLM `--extra_llm_api_options` YAML for one target sparsity (a phase not calibrated stays dense). */
export function trtllmYaml(result: CalibrationResult, target: number): string {
  const factors = { prefill: factorFor(result, 'prefill', target), decode: factorFor(result, 'decode', target) };
  const fits = result.phases
    .filter((p) => p.exponential)
    .map((p) => `#   ${p.phase}: threshold_scale_factor = ${p.exponential!.a.toPrecision(6)} * exp(${p.exponential!.b.toPrecision(6)} * target_sparsity)`);
  return [
    `# skipbench calibrate: target sparsity ${target} on ${result.workload}`,
    ...(fits.length ? ['# calibration fit (checkpoint-metadata form):', ...fits] : []),
    trtllmSkipSoftmaxYaml(factors).trimEnd(),
    '',
  ].join('\n');
}

/** SGLang environment variables for one target sparsity. */
export function sglangEnv(result: CalibrationResult, target: number): string {
  const lines: string[] = [];
  for (const phase of ['prefill', 'decode'] as const) {
    const f = factorFor(result, phase, target);
    if (f > 0) lines.push(`SGLANG_SKIP_SOFTMAX_${phase.toUpperCase()}_THRESHOLD_SCALE_FACTOR=${f.toPrecision(6)}`);
  }
  return `${lines.join('\n')}\n`;
}

function phaseText(p: PhaseCalibration): string[] {
  const lines = [`${p.phase}:`];
  for (const t of p.targets) {
    lines.push(
      `  target ${formatPercent(t.target, 0)}: threshold_scale_factor ${t.factor.toPrecision(6)} ` +
        `(max deviation of the measured sparsity from the target ${formatPercent(t.maxDeviation)})`,
    );
    for (const x of t.points) {
      lines.push(
        `    ${formatTokens(x.context).padStart(5)}  lambda* ${x.lambda.toExponential(3)}  predicted ${formatPercent(x.predicted).padStart(6)}` +
          `  measured ${formatPercent(x.measured).padStart(6)}  rel.err ${formatSci(x.relativeError)}`,
      );
    }
    // which heads move with the context: the measured sparsity of each decision unit, one column per context
    const width = Math.max(...p.units.map((u) => u.length));
    lines.push(`    by decision unit (${t.points.map((x) => formatTokens(x.context)).join(' / ')}):`);
    for (const [u, unit] of p.units.entries()) {
      lines.push(`      ${unit.padEnd(width)}  ${t.points.map((x) => formatPercent(x.byUnit[u]).padStart(6)).join(' ')}`);
    }
  }
  if (p.exponential) lines.push(`  fit: factor = ${p.exponential.a.toPrecision(6)} * exp(${p.exponential.b.toPrecision(6)} * s)`);
  const longest = Math.max(...p.targets.flatMap((t) => t.points.map((x) => x.context)));
  const curve = p.targets
    .map((t) => t.points.find((x) => x.context === longest)!)
    .map((x) => `${formatPercent(x.measured)} -> ${formatSci(x.relativeError)}`);
  lines.push(`  sparsity -> output error at ${formatTokens(longest)}: ${curve.join(', ')}`);
  for (const w of p.warnings) lines.push(`  WARNING: ${w}`);
  return lines;
}

export function renderCalibration(result: CalibrationResult): string {
  return [
    `Calibration on ${result.workload}`,
    `Hq=${result.shape.numQueryHeads}, Hkv=${result.shape.numKvHeads}, d=${result.shape.headDim}; prefill tiles ` +
      `${result.tiles.prefill.blockM}x${result.tiles.prefill.blockN}, decode tile ${result.tiles.decode.blockN}, ` +
      `${result.tiles.decode.partitions} partition(s); sequences pooled at ` +
      `${result.contexts.map(formatTokens).join('/')}: prefill ${result.sequences.prefill.join('/')}, ` +
      `decode ${result.sequences.decode.join('/')}`,
    `Method: ${result.method}`,
    '',
    ...result.phases.flatMap(phaseText),
    '',
  ].join('\n');
}
