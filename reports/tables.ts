/**
 * The tables and facts every report shows, as plain strings (formatted, not escaped): reports/markdown.ts lays them
 * out as Markdown, reports/html/render.ts escapes them into HTML. One builder per table, so the two agree.
 */
import {
  BOOTSTRAP_DEFAULTS,
  type HeadlineInterval,
  headlineMedianCI,
  MIN_CI_SAMPLES,
  ratioMedianCI,
} from './bootstrap.js';
import {
  anchorArms,
  type ComparisonRow,
  comparisonFigures,
  comparisonRows,
  FIGURE_COLUMNS,
  provenanceLabel,
} from './comparison.js';
import { crossovers } from './crossover.js';
import { anchorTable, gpuFacts, referenceTable } from './gpu-tables.js';
import { headTypeTable } from './head-types.js';
import { measuredRoof, type Roof, ridgeOf } from './roof.js';
import { formatMs, formatPercent, formatSci, formatSi, formatTokens } from './format.js';
import type { Arm, Cell, KernelCell, ResultFile, ServerCell } from './schema.js';

export interface ReportTable {
  /** Stable id, e.g. `speedup`; the section's anchor. */
  id: string;
  title: string;
  /** Paragraphs before the table. */
  intro: string[];
  header: string[];
  rows: string[][];
  /** Bullet points after the table. */
  notes: string[];
}

/** The rate that matters for the phase's roof: dense-equivalent FLOP/s in prefill, bytes/s in decode. */
function rate(cell: Cell): string {
  if (cell.kind !== 'kernel') return '—';
  return cell.phase === 'prefill'
    ? formatSi(cell.work.denseEquivalentFlopsPerSec, 'FLOP/s')
    : formatSi(cell.work.achievedBytesPerSec, 'B/s');
}

export const FIGURE_DEFINITIONS = {
  denseSkipServer:
    'dense / skip: median TTFT of the prefill probe (max_tokens = 1) or median TPOT of the decode run, over the paired rounds; in brackets its 95% CI (see Confidence intervals).',
  denseSkipKernel:
    'dense / skip: median time of one full phase over the interleaved rounds; for sampled prefill, the sample time scaled to the whole phase by the ratio of dense causal work; in brackets its 95% CI (see Confidence intervals).',
  speedup:
    'speedup: median(dense) / median(skip); paired: median of the per-round ratios (same round, adjacent in time); paired 95% CI: seeded percentile bootstrap over rounds (2000 resamples); verdict: faster or slower when the CI excludes 1.0, else no difference.',
  theory:
    'theory 2/(2-s): the bound for the measured tile sparsity s when skipping saves half of the work per tile (exp + P·V in prefill, the V read in decode).',
  rate: 'rate: dense-equivalent FLOP/s (prefill) or bytes moved per second (decode).',
  how: 'how obtained: measured in full, or sampled (share of the dense work computed). Statistics: medians; percentiles interpolate linearly between order statistics. disturbed: other processes used more CPU than the run allows.',
};

const { level, resamples, seed } = BOOTSTRAP_DEFAULTS;
/** A share as a percentage without float noise: 0.025 -> "2.5". */
const percent = (x: number) => String(Number((x * 100).toFixed(6)));

/** How every arm's interval is obtained: stated once per report (Markdown and HTML). */
export const ARM_CI_METHOD = `Each arm's median time is followed by its ${percent(level)}% confidence interval in brackets, [low, high] in the median's unit: a percentile bootstrap of the median over the cell's samples (each successful kernel call's time; for servers, each successful non-warmup request's TTFT in prefill or TPOT in decode), ${resamples} resamples drawn with replacement by a seeded generator (mulberry32, seed ${seed}: the same results give the same interval), the bounds being the ${percent((1 - level) / 2)}th and ${percent((1 + level) / 2)}th percentiles of the resampled medians. Medians and percentiles interpolate linearly between order statistics. Sampled prefill: the bounds are scaled to the whole phase like the median. Fewer than ${MIN_CI_SAMPLES} samples: no interval, n/a (n<${MIN_CI_SAMPLES}).`;

/** The unit and decimals formatMs picks for a time, so that an interval's bounds read in the unit of its median. */
function msUnit(ms: number): { factor: number; digits: number; unit: string } {
  if (ms >= 1000) return { factor: 1 / 1000, digits: 2, unit: 's' };
  if (ms >= 10) return { factor: 1, digits: 1, unit: 'ms' };
  if (ms >= 1) return { factor: 1, digits: 2, unit: 'ms' };
  return { factor: 1000, digits: 0, unit: 'µs' };
}

/** `12.3 ms [11.9, 12.8]`: a median (ms) and its interval in the median's unit; `12.3 ms [n/a (n<3)]` without one. */
export function formatMedianCi(ms: number, ci: HeadlineInterval): string {
  if (!Number.isFinite(ms)) return formatMs(ms);
  if (ci.kind === 'too few') return `${formatMs(ms)} [n/a (n<${ci.minSamples})]`;
  const u = msUnit(ms);
  const bound = (x: number) => (Number.isFinite(x) ? (x * u.factor).toFixed(u.digits) : '—');
  return `${formatMs(ms)} [${bound(ci.low)}, ${bound(ci.high)}]`;
}

/** An arm's headline time with its interval; the dense cell recurs in every row of its (context, phase), so cache. */
function armFigure(cache: Map<Cell, string>, cell: Cell): string {
  let text = cache.get(cell);
  if (text === undefined) {
    text = formatMedianCi(cell.summary.estimatedFullMs, headlineMedianCI(cell));
    cache.set(cell, text);
  }
  return text;
}

/** comparisonFigures with each arm's median followed by its interval. */
function figuresWithCi(r: ComparisonRow, cache: Map<Cell, string>): string[] {
  const figures = comparisonFigures(r);
  figures[FIGURE_COLUMNS.indexOf('dense')] = armFigure(cache, r.dense);
  figures[FIGURE_COLUMNS.indexOf('skip')] = armFigure(cache, r.skip);
  return figures;
}

/** Bootstrap CI of the median paired ratio and its verdict (the CI excludes 1.0 or not). */
function pairedCi(r: ComparisonRow): [string, string] {
  const ratios = r.skip.speedup?.pairedRatios ?? [];
  if (ratios.length === 0) return ['—', '—'];
  const ci = ratioMedianCI(ratios);
  return [`${ci.low.toFixed(2)}–${ci.high.toFixed(2)}x`, ci.verdict];
}

function speedupTable(result: ResultFile): ReportTable {
  const cache = new Map<Cell, string>();
  const rows = comparisonRows(result).map((r) => [
    ...figuresWithCi(r, cache),
    ...pairedCi(r),
    rate(r.dense),
    rate(r.skip),
    provenanceLabel(r.skip) + (r.dense.disturbed || r.skip.disturbed ? ', disturbed' : ''),
  ]);
  const d = FIGURE_DEFINITIONS;
  return {
    id: 'speedup',
    title: 'Skip Softmax vs dense',
    intro: [],
    header: [
      ...FIGURE_COLUMNS.map(
        (c) =>
          ({
            dense: `dense [${percent(level)}% CI]`,
            skip: `skip [${percent(level)}% CI]`,
            theory: 'theory 2/(2-s)',
            'rel.err': 'rel. L2 err',
          })[c] ?? c,
      ),
      'paired 95% CI',
      'verdict',
      'dense rate',
      'skip rate',
      'how obtained',
    ],
    rows,
    notes: [
      result.target.kind === 'server' ? d.denseSkipServer : d.denseSkipKernel,
      d.speedup,
      d.theory,
      d.rate,
      d.how,
      ...crossovers(result).map((c) =>
        c.context === undefined
          ? `crossover, ${c.phase} ${c.arm}: skip does not win (paired CI above 1.0) at the longest measured context`
          : `crossover, ${c.phase} ${c.arm}: skip wins from ${formatTokens(c.context)} on (paired CI above 1.0 there and at every longer measured context)`,
      ),
    ],
  };
}

function latencyTable(result: ResultFile): ReportTable | undefined {
  const cells = result.cells.filter((c): c is ServerCell => c.kind === 'server');
  if (cells.length === 0) return undefined;
  const pair = (d: { p50: number; p99: number }) => `${formatMs(d.p50)} / ${formatMs(d.p99)}`;
  const rows = cells.map((c) => [
    formatTokens(c.context),
    c.phase,
    c.arm,
    pair(c.metrics.ttft),
    c.phase === 'decode' ? pair(c.metrics.tpot) : '—',
    c.phase === 'decode' ? pair(c.metrics.itl) : '—',
    formatMs(c.metrics.e2el.p50),
    `${c.metrics.completed} / ${c.metrics.failed}`,
    c.promptDrift ? `${c.promptDrift.mean.toFixed(1)} (max ${c.promptDrift.max})` : '—',
    formatPercent(c.cachedTokenShare) + (c.cacheFlagged ? ' (prefix cache hit: TTFT invalid)' : ''),
  ]);
  const positions = cells
    .filter((c) => c.itlByPosition?.length)
    .map(
      (c) =>
        `${formatTokens(c.context)} ${c.arm}: ${c.itlByPosition!.map((b) => `@${b.position} ${formatMs(b.medianMs)}`).join(', ')}`,
    );
  return {
    id: 'latency',
    title: 'Per-request latency',
    intro: [
      'TTFT = first token-bearing event - request written; TPOT = (E2EL - TTFT) / (output tokens - 1); ITL = gaps between token events. p50 / p99 over the successful non-warmup requests.',
    ],
    header: [
      'context',
      'phase',
      'arm',
      'TTFT p50 / p99',
      'TPOT p50 / p99',
      'ITL p50 / p99',
      'E2EL p50',
      'ok / failed',
      'prompt drift (tokens)',
      'prefix-cache share',
    ],
    rows,
    notes: positions.length
      ? ['Decode ITL by position (median per bucket; the KV length grows while decoding):', ...positions]
      : [],
  };
}

function accuracyTable(result: ResultFile): ReportTable | undefined {
  if (!result.accuracy?.length) return undefined;
  return {
    id: 'accuracy',
    title: 'Accuracy (needle retrieval)',
    intro: [`${result.accuracy[0].method}.`],
    header: ['context', 'arm', 'task', 'depth', 'n', 'exact (95% CI)', 'mean score', 'partial / wrong / empty / failed'],
    rows: result.accuracy.map((a) => [
      formatTokens(a.context),
      a.arm,
      a.task + (a.keys > 1 ? ` (${a.keys} keys)` : ''),
      a.depth.toFixed(2),
      String(a.n),
      `${formatPercent(a.exactRate, 0)} (${formatPercent(a.exactRateCi[0], 0)}–${formatPercent(a.exactRateCi[1], 0)})`,
      formatPercent(a.meanScore, 0),
      `${a.partial} / ${a.wrong} / ${a.empty} / ${a.failed}`,
    ]),
    notes: [],
  };
}

function capacityTable(result: ResultFile): ReportTable | undefined {
  if (!result.capacity?.length) return undefined;
  return {
    id: 'capacity',
    title: 'Prefill capacity',
    intro: [`${result.capacity[0].method}.`],
    header: ['context', 'arm', 'connections', 'requests/s', 'latency p50 / p90 / p99', 'ok / failed'],
    rows: result.capacity.map((r) => [
      formatTokens(r.context),
      r.arm,
      String(r.connections),
      r.requestsPerSecond.toFixed(2),
      `${formatMs(r.latencyMs.p50)} / ${formatMs(r.latencyMs.p90)} / ${formatMs(r.latencyMs.p99)}`,
      `${r.ok} / ${r.non2xx + r.errors}`,
    ]),
    notes: [],
  };
}

function headTable(result: ResultFile): ReportTable | undefined {
  // the longest context with a successful sample (a GPU phase that failed its reference check has none)
  const measured = result.cells.filter((c) => c.summary.n > 0);
  if (measured.length === 0) return undefined;
  const longest = Math.max(...measured.map((c) => c.context));
  const anchors = anchorArms(result);
  const cells = result.cells.filter(
    (c): c is KernelCell =>
      c.kind === 'kernel' && c.context === longest && c.arm !== result.arms[0]?.id && !anchors.has(c.arm),
  );
  if (cells.length === 0) return undefined;
  return {
    id: 'heads',
    title: `Per head at ${formatTokens(longest)}`,
    intro: ['Prefill decides per query head; decode per KV head (its whole GQA group decides together).'],
    header: ['phase', 'arm', 'head', 'pattern', 'sparsity', 'rel. L2 err', 'max abs err'],
    rows: cells.flatMap((c) =>
      c.heads.map((h) => [
        c.phase,
        c.arm,
        String(h.head),
        h.pattern ?? '',
        formatPercent(h.sparsity),
        formatSci(h.error?.relativeL2),
        formatSci(h.error?.maxAbs),
      ]),
    ),
    notes: [],
  };
}

function ceilingShare(cell: KernelCell, roof: Roof | undefined): string {
  if (!roof) return '—';
  return cell.work.bound === 'compute'
    ? formatPercent(cell.work.achievedFlopsPerSec / roof.flopsPerSec, 0)
    : formatPercent(cell.work.achievedBytesPerSec / roof.bytesPerSec, 0);
}

function rooflineTable(result: ResultFile): ReportTable | undefined {
  const ceilings = measuredRoof(result.environment);
  const cells = result.cells.filter((c): c is KernelCell => c.kind === 'kernel');
  if (cells.length === 0) return undefined;
  const ridge = ceilings ? ridgeOf(ceilings).toFixed(1) : '—';
  return {
    id: 'roofline',
    title: 'Cost and roofline',
    intro: [
      `Work actually done per call (the sample, when sampled): FLOPs (q·k always; exp and p·v only on computed tiles) and operand bytes (K tile per visited tile, V tile per computed tile, Q and O once). The bound is compute when the arithmetic intensity exceeds the ridge point of the measured ceilings (${ridge} FLOP/B); the last column is the achieved rate as a share of that roof.`,
    ],
    header: ['context', 'phase', 'arm', 'FLOPs', 'bytes', 'FLOP/B', 'bound', 'FLOP/s', 'B/s', 'of roof'],
    rows: cells.map((c) => [
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
    ]),
    notes: aboveBandwidthRoof(cells, ceilings)
      ? [
          'Above 100% of the bandwidth roof: more operand bytes per second than the measured memory ceiling delivers, so most of them were served from on-chip caches (L2, shared memory); the operand-byte count is what the kernel requests, not DRAM traffic, and that roof does not bound those rows.',
        ]
      : [],
  };
}

function aboveBandwidthRoof(cells: readonly KernelCell[], roof: Roof | undefined): boolean {
  if (roof === undefined) return false;
  return cells.some((c) => c.work.bound === 'bandwidth' && c.work.achievedBytesPerSec > roof.bytesPerSec);
}

/** Every table the result has data for, in the Markdown report's order. */
export function reportTables(result: ResultFile): ReportTable[] {
  return [
    speedupTable(result),
    latencyTable(result),
    accuracyTable(result),
    capacityTable(result),
    anchorTable(result),
    referenceTable(result),
    headTypeTable(result),
    headTable(result),
    rooflineTable(result),
  ].filter((t): t is ReportTable => t !== undefined);
}

function armLabel(arm: Arm): string {
  const parts: string[] = [];
  if (arm.anchor) parts.push(`anchor: torch SDPA, ${arm.anchor === 'sdpa-flash' ? 'flash' : 'cuDNN'} backend`);
  if (arm.thresholdScaleFactor) {
    parts.push(`prefill factor ${arm.thresholdScaleFactor.prefill}, decode factor ${arm.thresholdScaleFactor.decode}`);
  }
  if (arm.endpoint)
    parts.push(
      arm.endpoint.launch ? `${arm.endpoint.baseUrl}, launched by ${arm.endpoint.launch}` : arm.endpoint.baseUrl,
    );
  return parts.length ? `${arm.id} (${parts.join('; ')})` : arm.id;
}

/** The run, target and environment as labelled lines. */
export function summaryFacts(result: ResultFile): [label: string, value: string][] {
  const { run, environment, target: t } = result;
  const { host, runtime, ceilings } = environment;
  const facts: [string, string][] = [
    ['Run', `${run.id}, ${run.status}${run.reason ? ` (${run.reason})` : ''}`],
    ['Started', run.finishedAt ? `${run.startedAt}, finished ${run.finishedAt}` : run.startedAt],
  ];
  if (run.command.length) facts.push(['Command', `skipbench ${run.command.join(' ')}`]);
  if (t.kind === 'server') {
    facts.push(
      [
        'Server',
        `${t.server ?? 'unknown'}${t.model ? `, model ${t.model}` : ''}; endpoint /v1/${t.endpoint === 'chat' ? 'chat/completions' : 'completions'}; prompts tokenized with ${t.tokenizer}`,
      ],
      ['Load', t.load],
    );
  } else {
    facts.push(
      [
        'Kernel',
        `${t.implementation}, ${t.threads} thread(s); Hq=${t.shape.numQueryHeads}, Hkv=${t.shape.numKvHeads}, d=${t.shape.headDim}; prefill tiles ${t.tiles.prefill.blockM}x${t.tiles.prefill.blockN}, decode tile ${t.tiles.decode.blockN} keys, ${t.tiles.decode.partitions} split-KV partition(s)`,
      ],
      ['Workload', t.workload.description],
      ...gpuFacts(result),
    );
  }
  facts.push(
    ['Arms', result.arms.map(armLabel).join('; ')],
    [
      'Machine',
      `${host.cpuModel}, ${host.logicalCpus} logical CPUs, ${(host.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, ${host.platform}/${host.arch}`,
    ],
    ['Runtime', `Node ${runtime.node} (V8 ${runtime.v8}), skipbench ${environment.skipbench}`],
  );
  if (ceilings) {
    facts.push([
      'Measured ceilings',
      `${ceilings.cached ? 'cached from ' : ''}${ceilings.measuredAt}: stream read ${formatSi(ceilings.streamReadBytesPerSec, 'B/s')}, q·k tile ${formatSi(ceilings.scoreTileFlopsPerSec, 'FLOP/s')} — ${ceilings.method}`,
    ]);
  }
  return facts;
}
