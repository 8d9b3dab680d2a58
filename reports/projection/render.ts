/**
 * Renderers of a projection, looked up by name like the result renderers: a terminal table, Markdown, JSON. Every
 * rendering says "projected" and prints the inputs and assumptions under the table. Only the CLI writes files.
 */
import { ErrorCodes, invalid } from '../../kernels/errors.js';
import { formatMs, formatPercent, formatRatio, formatSi, formatTokens } from '../format.js';
import type { ProjectionFile, ProjectionRow } from './project.js';
import type { KernelSpeedupInput } from './speedup.js';
import type { ModelSpec } from './types.js';

export const PROJECTION_TITLE = 'PROJECTED end-to-end speedup (roofline + Amdahl) — not measured on the GPU named';

const HEADER = [
  'context',
  'phase',
  'attn/layer',
  'other/layer',
  'f (attn share)',
  'S kernel',
  'S from',
  'projected e2e',
  'dense (proj.)',
  'skip (proj.)',
  'bound attn/other',
];

function shortSource(r: ProjectionRow): string {
  const k = r.kernelSpeedup;
  if (k.source === 'given') return 'given';
  if (k.source === 'measured') return `measured @${formatTokens(k.measuredContext ?? r.context)}`;
  return k.label.startsWith('theory') ? `theory${k.label.includes('no measured') ? ' (fallback)' : ''}` : k.label;
}

function figures(r: ProjectionRow): string[] {
  return [
    formatTokens(r.context),
    r.phase,
    formatMs(r.attentionPerLayer.ms),
    formatMs(r.otherPerLayerMs),
    formatPercent(r.attentionShare),
    formatRatio(r.kernelSpeedup.value),
    shortSource(r),
    formatRatio(r.speedup),
    `${r.metric} ${formatMs(r.denseMs)}`,
    `${r.metric} ${formatMs(r.skipMs)}`,
    `${r.attentionPerLayer.bound}/${r.linearPerLayer.bound}`,
  ];
}

function ffnText(m: ModelSpec): string {
  if (m.ffn.kind === 'dense') return `gated FFN ${m.ffn.intermediate}`;
  const shared = m.ffn.sharedIntermediate ? ` + shared ${m.ffn.sharedIntermediate}` : '';
  return `MoE ${m.ffn.activeExperts} of ${m.ffn.experts} experts x ${m.ffn.expertIntermediate}${shared}`;
}

function speedupInputText(k: KernelSpeedupInput): string {
  if (k.kind === 'given') return `given ${formatRatio(k.speedup)}`;
  if (k.kind === 'theory')
    return `theory bound 2/(2-s), s = ${formatPercent(k.sparsity, 0)} -> ${formatRatio(2 / (2 - k.sparsity))}`;
  return `measured, ${k.file} arm ${k.arm} (${k.implementation} kernel), nearest context on a log scale; ${k.points.length} cell(s)`;
}

/** The inputs, one line each, in words: everything a reader needs to redo the arithmetic. */
export function inputLines(p: ProjectionFile): string[] {
  const { model: m, gpu: g, tp, batch, efficiency: e } = p.inputs;
  const perGpuQ = m.numQueryHeads / tp;
  const perGpuKv = Math.max(1, m.numKvHeads / tp);
  const tflops = (x: number) => `${Number((x / 1e12).toFixed(1))} TFLOP/s`;
  const peaks = `${tflops(g.peakFlopsPerSec.bf16)} bf16${g.peakFlopsPerSec.fp8 ? `, ${tflops(g.peakFlopsPerSec.fp8)} fp8` : ''}`;
  const lines = [
    `model: ${m.name} — ${m.layers} layers, hidden ${m.hidden}, ${m.numQueryHeads} query / ${m.numKvHeads} KV heads, head_dim ${m.headDim}, ${ffnText(m)}, vocab ${m.vocab}, weights ${m.dtype}, KV cache ${m.kvDtype} (${m.source})`,
    `gpu: ${g.name} — ${g.label}: ${peaks} dense tensor, ${formatSi(g.memoryBytesPerSec, 'B/s')} HBM, ${formatSi(g.memoryBytes, 'B')} HBM, link ${formatSi(g.linkBytesPerSec, 'B/s')} both directions (${g.source})`,
    `split: tensor parallel ${tp} (${perGpuQ} query / ${perGpuKv} KV heads per GPU), batch ${batch} sequence(s) at each context`,
    `efficiency (fraction of peak): linear layers compute ${e.compute}, bandwidth ${e.bandwidth}; attention compute ${e.attentionCompute}, bandwidth ${e.attentionBandwidth}`,
    `all-reduce: ${tp === 1 ? 'none (tp 1)' : p.inputs.allReduce ? 'ring, two per layer, bandwidth term only' : 'left out'}`,
    `fixed overhead per pass: prefill ${formatMs(p.inputs.overheadMs.prefill)}, decode ${formatMs(p.inputs.overheadMs.decode)}`,
  ];
  for (const phase of p.inputs.phases)
    lines.push(`kernel speedup S, ${phase}: ${speedupInputText(p.inputs.kernelSpeedup[phase])}`);
  return lines;
}

function measuredLines(p: ProjectionFile): string[] {
  return p.rows
    .filter((r) => r.kernelSpeedup.source !== 'theory' || r.kernelSpeedup.label.includes('no measured'))
    .map((r) => `S at ${formatTokens(r.context)} ${r.phase}: ${r.kernelSpeedup.label}`);
}

function pad(cells: string[][]): string {
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells
    .map((row) =>
      row.map((cell, i) => (i < 2 || i === 6 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '),
    )
    .join('\n');
}

export function renderProjectionTable(p: ProjectionFile): string {
  const out = [PROJECTION_TITLE, '', pad([HEADER, ...p.rows.map(figures)]), '', 'Inputs:'];
  out.push(...inputLines(p).map((l) => `  ${l}`));
  const measured = measuredLines(p);
  if (measured.length) out.push('Kernel speedups used:', ...measured.map((l) => `  ${l}`));
  out.push('Assumptions:', ...p.assumptions.map((a) => `  - ${a}`));
  if (p.warnings.length) out.push('Warnings:', ...p.warnings.map((w) => `  ! ${w}`));
  return `${out.join('\n')}\n`;
}

function mdTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Markdown; `level` sets the heading depth so the section can sit inside another report. */
export function renderProjectionMarkdown(p: ProjectionFile, level = 2): string {
  const h = '#'.repeat(level);
  const { model, gpu, tp, batch } = p.inputs;
  const out = [
    `${h} Projected end-to-end speedup: ${model.name} on ${tp} x ${gpu.name}, batch ${batch}`,
    '',
    `> **Projected**, not measured: a roofline estimate of each layer's attention and non-attention time from datasheet peaks, and Amdahl's law for a kernel speedup S. Every input is listed below.`,
    '',
    mdTable(HEADER, p.rows.map(figures)),
    '',
    `${h}# Inputs`,
    '',
    ...inputLines(p).map((l) => `- ${l}`),
  ];
  const measured = measuredLines(p);
  if (measured.length) out.push('', `${h}# Kernel speedups used`, '', ...measured.map((l) => `- ${l}`));
  out.push('', `${h}# Assumptions`, '', ...p.assumptions.map((a) => `- ${a}`));
  if (p.warnings.length) out.push('', `${h}# Warnings`, '', ...p.warnings.map((w) => `- **${w}**`));
  return `${out.join('\n')}\n`;
}

export const projectionRenderers = {
  json: (p: ProjectionFile) => `${JSON.stringify(p, null, 2)}\n`,
  markdown: (p: ProjectionFile) => renderProjectionMarkdown(p),
  table: renderProjectionTable,
} satisfies Record<string, (p: ProjectionFile) => string>;

export type ProjectionRendererName = keyof typeof projectionRenderers;

export function renderProjection(name: string, p: ProjectionFile): string {
  if (!Object.hasOwn(projectionRenderers, name)) {
    throw invalid(ErrorCodes.CONFIG, 'format', Object.keys(projectionRenderers).join(' | '), name);
  }
  return projectionRenderers[name as ProjectionRendererName](p);
}
