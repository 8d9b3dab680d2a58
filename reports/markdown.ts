/** The Markdown summary: fit for a pull-request comment or a CI step summary. */
import { ratioMedianCI } from './bootstrap.js';
import { crossovers } from './crossover.js';
import { latencyTable } from './html/tables.js';
import { type ComparisonRow, comparisonFigures, comparisonRows, FIGURE_COLUMNS, provenanceLabel } from './comparison.js';
import { formatMs, formatPercent, formatSci, formatSi, formatTokens } from './format.js';
import { detectInactive, inactiveBanner } from './inactive.js';
import type { Cell, KernelCell, ResultFile } from './schema.js';

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The rate that matters for the phase's roof: dense-equivalent FLOP/s in prefill, bytes/s in decode. */
function rate(cell: Cell): string {
  if (cell.kind !== 'kernel') return '—';
  return cell.phase === 'prefill'
    ? formatSi(cell.work.denseEquivalentFlopsPerSec, 'FLOP/s')
    : formatSi(cell.work.achievedBytesPerSec, 'B/s');
}

/** Bootstrap CI of the median paired ratio and its verdict (the CI excludes 1.0 or not). */
function pairedCi(r: ComparisonRow): [string, string] {
  const ratios = r.skip.speedup?.pairedRatios ?? [];
  if (ratios.length === 0) return ['—', '—'];
  const ci = ratioMedianCI(ratios);
  return [`${ci.low.toFixed(2)}–${ci.high.toFixed(2)}x`, ci.verdict];
}

function speedupSection(result: ResultFile): string {
  const rows = comparisonRows(result).map((r) => [
    ...comparisonFigures(r),
    ...pairedCi(r),
    rate(r.dense),
    rate(r.skip),
    provenanceLabel(r.skip) + (r.dense.disturbed || r.skip.disturbed ? ', disturbed' : ''),
  ]);
  return table(
    [
      ...FIGURE_COLUMNS.map((c) => ({ theory: 'theory 2/(2-s)', 'rel.err': 'rel. L2 err' })[c] ?? c),
      'paired 95% CI',
      'verdict',
      'dense rate',
      'skip rate',
      'how obtained',
    ],
    rows,
  );
}

function crossoverLines(result: ResultFile): string[] {
  return crossovers(result).map((c) =>
    c.context === undefined
      ? `- **crossover**, ${c.phase} ${c.arm}: skip does not win (CI above 1.0) at the longest measured context`
      : `- **crossover**, ${c.phase} ${c.arm}: skip wins from ${formatTokens(c.context)} on (paired CI above 1.0 there and at every longer measured context)`,
  );
}

function headSection(result: ResultFile): string {
  const longest = Math.max(...result.cells.map((c) => c.context));
  const cells = result.cells.filter(
    (c): c is KernelCell => c.kind === 'kernel' && c.context === longest && c.arm !== result.arms[0]?.id,
  );
  if (cells.length === 0) return '';
  const rows = cells.flatMap((c) =>
    c.heads.map((h) => [
      c.phase,
      c.arm,
      String(h.head),
      h.pattern ?? '',
      formatPercent(h.sparsity),
      formatSci(h.error?.relativeL2),
      formatSci(h.error?.maxAbs),
    ]),
  );
  return [
    `### Per head at ${formatTokens(longest)}`,
    '',
    'Prefill decides per query head; decode per KV head (its whole GQA group decides together).',
    '',
    table(['phase', 'arm', 'head', 'pattern', 'sparsity', 'rel. L2 err', 'max abs err'], rows),
  ].join('\n');
}

function ceilingShare(cell: KernelCell, ceilings: ResultFile['environment']['ceilings']): string {
  if (!ceilings) return '—';
  return cell.work.bound === 'compute'
    ? formatPercent(cell.work.achievedFlopsPerSec / ceilings.scoreTileFlopsPerSec, 0)
    : formatPercent(cell.work.achievedBytesPerSec / ceilings.streamReadBytesPerSec, 0);
}

function rooflineSection(result: ResultFile): string {
  const ceilings = result.environment.ceilings;
  const cells = result.cells.filter((c): c is KernelCell => c.kind === 'kernel');
  if (cells.length === 0) return '';
  const rows = cells.map((c) => [
    formatTokens(c.context),
    c.phase,
    c.arm,
    formatSi(c.work.flops, 'FLOP'),
    formatSi(c.work.bytes, 'B'),
    c.work.arithmeticIntensity.toFixed(1),
    c.work.bound,
    formatSi(c.work.achievedFlopsPerSec, 'FLOP/s'),
    formatSi(c.work.achievedBytesPerSec, 'B/s'),
    ceilingShare(c, ceilings),
  ]);
  const ridge = ceilings ? (ceilings.scoreTileFlopsPerSec / ceilings.streamReadBytesPerSec).toFixed(1) : '—';
  return [
    '### Cost and roofline',
    '',
    `Work actually done per call (the sample, when sampled): FLOPs (q·k always; exp and p·v only on computed tiles) and operand bytes (K tile per visited tile, V tile per computed tile, Q and O once). The bound is compute when the arithmetic intensity exceeds the ridge point of the measured ceilings (${ridge} FLOP/B); the last column is the achieved rate as a share of that roof.`,
    '',
    table(['context', 'phase', 'arm', 'FLOPs', 'bytes', 'FLOP/B', 'bound', 'FLOP/s', 'B/s', 'of roof'], rows),
  ].join('\n');
}

function targetLines(result: ResultFile): string[] {
  const t = result.target;
  if (t.kind === 'server') {
    return [
      `- Server: ${t.server ?? 'unknown'}${t.model ? `, model ${t.model}` : ''}; endpoint /v1/${t.endpoint === 'chat' ? 'chat/completions' : 'completions'}; prompts tokenized with ${t.tokenizer}`,
      `- Load: ${t.load}`,
    ];
  }
  return [
    `- Kernel: ${t.implementation}, ${t.threads} thread(s); Hq=${t.shape.numQueryHeads}, Hkv=${t.shape.numKvHeads}, d=${t.shape.headDim}; prefill tiles ${t.tiles.prefill.blockM}x${t.tiles.prefill.blockN}, decode tile ${t.tiles.decode.blockN} keys, ${t.tiles.decode.partitions} split-KV partition(s)`,
    `- Workload: ${t.workload.description}`,
  ];
}

function armLabel(arm: ResultFile['arms'][number]): string {
  const parts: string[] = [];
  if (arm.thresholdScaleFactor) {
    parts.push(`prefill factor ${arm.thresholdScaleFactor.prefill}, decode factor ${arm.thresholdScaleFactor.decode}`);
  }
  if (arm.endpoint) parts.push(arm.endpoint.launch ? `${arm.endpoint.baseUrl}, launched by \`${arm.endpoint.launch}\`` : arm.endpoint.baseUrl);
  return parts.length ? `${arm.id} (${parts.join('; ')})` : arm.id;
}

function latencySection(result: ResultFile): string {
  const t = latencyTable(result);
  if (!t) return '';
  const [lead, ...positions] = t.notes;
  return [
    `### ${t.title}`,
    '',
    ...t.intro,
    '',
    table(t.header, t.rows),
    ...(lead ? ['', lead, '', ...positions.map((p) => `- ${p}`)] : []),
  ].join('\n');
}

function accuracySection(result: ResultFile): string {
  if (!result.accuracy?.length) return '';
  const rows = result.accuracy.map((a) => [
    formatTokens(a.context),
    a.arm,
    a.task + (a.keys > 1 ? ` (${a.keys} keys)` : ''),
    a.depth.toFixed(2),
    String(a.n),
    `${formatPercent(a.exactRate, 0)} (${formatPercent(a.exactRateCi[0], 0)}–${formatPercent(a.exactRateCi[1], 0)})`,
    formatPercent(a.meanScore, 0),
    `${a.partial} / ${a.wrong} / ${a.empty} / ${a.failed}`,
  ]);
  return [
    '### Accuracy (needle retrieval)',
    '',
    `${result.accuracy[0].method}.`,
    '',
    table(['context', 'arm', 'task', 'depth', 'n', 'exact (95% CI)', 'mean score', 'partial / wrong / empty / failed'], rows),
  ].join('\n');
}

function capacitySection(result: ResultFile): string {
  if (!result.capacity?.length) return '';
  const rows = result.capacity.map((r) => [
    formatTokens(r.context),
    r.arm,
    String(r.connections),
    r.requestsPerSecond.toFixed(2),
    `${formatMs(r.latencyMs.p50)} / ${formatMs(r.latencyMs.p90)} / ${formatMs(r.latencyMs.p99)}`,
    `${r.ok} / ${r.non2xx + r.errors}`,
  ]);
  return [
    '### Prefill capacity',
    '',
    `${result.capacity[0].method}.`,
    '',
    table(['context', 'arm', 'connections', 'requests/s', 'latency p50 / p90 / p99', 'ok / failed'], rows),
  ].join('\n');
}

function environmentSection(result: ResultFile): string {
  const { host, runtime, ceilings } = result.environment;
  const lines = [
    `- Machine: ${host.cpuModel}, ${host.logicalCpus} logical CPUs, ${(host.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, ${host.platform}/${host.arch}`,
    `- Runtime: Node ${runtime.node} (V8 ${runtime.v8}), skipbench ${result.environment.skipbench}`,
    ...targetLines(result),
    `- Arms: ${result.arms.map(armLabel).join('; ')}`,
  ];
  if (ceilings) {
    lines.push(
      `- Measured ceilings (${ceilings.cached ? 'cached from ' : ''}${ceilings.measuredAt}): stream read ${formatSi(ceilings.streamReadBytesPerSec, 'B/s')}, q·k tile ${formatSi(ceilings.scoreTileFlopsPerSec, 'FLOP/s')} — ${ceilings.method}`,
    );
  }
  return lines.join('\n');
}

export function renderMarkdown(result: ResultFile): string {
  const status = result.run.status === 'completed' ? '' : ` (run ${result.run.status}${result.run.reason ? `: ${result.run.reason}` : ''})`;
  const banner = inactiveBanner(detectInactive(result));
  return [
    `## skipbench: Skip Softmax vs dense${status}`,
    '',
    ...(banner ? [`> **${banner}**`, ''] : []),
    `Run \`${result.run.id}\`, started ${result.run.startedAt}.`,
    '',
    speedupSection(result),
    '',
    ...crossoverLines(result),
    result.target.kind === 'server'
      ? '- **dense / skip**: median TTFT of the prefill probe (max_tokens = 1) or median TPOT of the decode run, over the paired rounds.'
      : '- **dense / skip**: median time of one full phase over the interleaved rounds; for sampled prefill, the sample time scaled to the whole phase by the ratio of dense causal work.',
    '- **speedup**: median(dense) / median(skip); **paired**: median of the per-round ratios (same round, adjacent in time); **paired 95% CI**: seeded percentile bootstrap over rounds (2000 resamples); **verdict**: faster or slower when the CI excludes 1.0, else no difference.',
    '- **theory 2/(2-s)**: the bound for the measured tile sparsity s when skipping saves half of the work per tile (exp + P·V in prefill, the V read in decode).',
    '- **rate**: dense-equivalent FLOP/s (prefill) or bytes moved per second (decode).',
    '- **how obtained**: measured in full, or sampled (share of the dense work computed). Statistics: medians; percentiles interpolate linearly between order statistics. *disturbed*: other processes used more CPU than the run allows.',
    '',
    latencySection(result),
    '',
    accuracySection(result),
    '',
    capacitySection(result),
    '',
    headSection(result),
    '',
    rooflineSection(result),
    '',
    '### Environment',
    '',
    environmentSection(result),
    '',
  ].join('\n');
}
