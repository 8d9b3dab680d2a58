/**
 * The report tables and facts only GPU results have (reports/tables.ts lays them out with the others): dense
 * against the torch SDPA anchors, the reference checks, and the device. Plain strings, formatted, not escaped.
 */
import { ratioMedianCI } from './bootstrap.js';
import { comparisonRows } from './comparison.js';
import { formatMs, formatRatio, formatSci, formatSi, formatTokens } from './format.js';
import type { KernelCell, ResultFile } from './schema.js';
import type { ReportTable } from './tables.js';

/** median of anchor / dense times per round: dense's speed as a share of the anchor's, with its bootstrap CI. */
function denseSpeed(ratios: readonly number[]): string {
  const inverse = ratios.filter((r) => Number.isFinite(r) && r > 0).map((r) => 1 / r);
  if (inverse.length === 0) return '—';
  const ci = ratioMedianCI(inverse);
  return `${formatRatio(ci.estimate)} [${ci.low.toFixed(2)}, ${ci.high.toFixed(2)}]`;
}

/** Dense against each anchor: times, and dense's speed relative to the anchor. */
export function anchorTable(result: ResultFile): ReportTable | undefined {
  const rows = comparisonRows(result).filter((r) => r.anchor);
  if (rows.length === 0) return undefined;
  return {
    id: 'anchors',
    title: 'Dense vs torch SDPA',
    intro: [
      'The anchors are torch scaled_dot_product_attention (flash and cuDNN backends) on the same Q/K/V, timed in the same interleaved rounds as the kernel arms. They are no skip arm: no sparsity, no theory bound, no inactive check, not gated.',
    ],
    header: [
      'context',
      'phase',
      'anchor',
      'dense',
      'anchor time',
      'dense speed (anchor / dense)',
      'paired [95% CI]',
      'rel. L2 err vs dense',
    ],
    rows: rows.map((r) => [
      formatTokens(r.context),
      r.phase,
      r.arm,
      formatMs(r.dense.summary.estimatedFullMs),
      formatMs(r.skip.summary.estimatedFullMs),
      formatRatio(r.skip.speedup ? 1 / r.skip.speedup.ofMedians : undefined),
      denseSpeed(r.skip.speedup?.pairedRatios ?? []),
      formatSci(r.skip.kind === 'kernel' ? r.skip.error?.relativeL2 : undefined),
    ]),
    notes: [
      'dense speed: median(anchor time) / median(dense time); 1.00x = as fast as the anchor, below 1 = slower. paired: median over rounds of anchor / dense time in the same round, with its seeded percentile-bootstrap 95% CI.',
    ],
  };
}

/** Every arm's check against the float32 reference, and the phases whose check failed (their arms were not timed). */
export function referenceTable(result: ResultFile): ReportTable | undefined {
  const cells = result.cells.filter((c): c is KernelCell => c.kind === 'kernel');
  const checked = cells.filter((c) => c.referenceCheck);
  const failedPhases = new Map<string, { context: number; phase: string; error: { code: string; message: string } }>();
  for (const c of cells) {
    const failure = c.samples.find((s) => s.status === 'failed');
    if (c.summary.n > 0 || !failure || failure.status !== 'failed') continue;
    if (!c.referenceCheck && failure.error.code === 'SKB_GPU_CHECK_FAILED') {
      failedPhases.set(`${c.context}|${c.phase}`, { context: c.context, phase: c.phase, error: failure.error });
    }
  }
  if (checked.length === 0 && failedPhases.size === 0) return undefined;
  return {
    id: 'reference',
    title: 'Reference check',
    intro: [
      'Before timing, every arm ran once and its output was compared with a float32 reference on the rows named.',
    ],
    header: ['context', 'phase', 'arm', 'rel. L2 err', 'tolerance', 'passed', 'rows checked'],
    rows: [
      ...checked.map((c) => {
        const r = c.referenceCheck!;
        return [
          formatTokens(c.context),
          c.phase,
          c.arm,
          formatSci(r.relativeL2),
          formatSci(r.tolerance),
          r.passed ? 'yes' : 'NO',
          r.rows,
        ];
      }),
      ...[...failedPhases.values()].map((f) => [
        formatTokens(f.context),
        f.phase,
        'all arms',
        '—',
        '—',
        'NO',
        `${f.error.message} [${f.error.code}]: not timed`,
      ]),
    ],
    notes: [],
  };
}

/** The GPU, its software and ceilings, as labelled lines (none for CPU results). */
export function gpuFacts(result: ResultFile): [label: string, value: string][] {
  const t = result.target;
  if (t.kind !== 'kernel' || !t.device) return [];
  const d = t.device;
  const v = d.versions ?? {};
  // the runner writes null for what it could not find out (no nvidia-smi, an older torch)
  const size = (bytes: number, unit: number, name: string, digits: number) =>
    typeof bytes === 'number' && Number.isFinite(bytes)
      ? `${(bytes / unit).toFixed(digits)} ${name}`
      : `unknown ${name}`;
  const text = (x: unknown) => (x === null || x === undefined || x === '' ? 'unknown' : String(x));
  const facts: [string, string][] = [
    [
      'GPU',
      `${text(d.name)}, compute capability ${text(d.capability)}, ${text(d.multiprocessors)} SMs, ${size(d.memoryBytes, 2 ** 30, 'GiB', 1)}, L2 ${size(d.l2Bytes, 2 ** 20, 'MiB', 0)}; driver ${text(d.driver)}`,
    ],
    [
      'GPU software',
      `Python ${text(v.python)}, torch ${text(v.torch)}, triton ${text(v.triton)}, CUDA ${text(v.cuda)}, cuDNN ${text(v.cudnn)}`,
    ],
  ];
  if (t.batch !== undefined) facts.push(['Batch', `decode ${t.batch} sequence(s) per call, prefill 1`]);
  for (const phase of ['prefill', 'decode'] as const) {
    const launch = result.cells.flatMap((c) => (c.kind === 'kernel' && c.phase === phase && c.launch ? [c.launch] : []))[0];
    if (!launch) continue;
    const loop = launch.paired === undefined ? '' : launch.paired ? ', two KV tiles per iteration (predicated V loads)' : ', one KV tile per iteration (V loaded under the skip branch)';
    const kernel = launch.kernel?.startsWith('gluon') ? 'Gluon' : 'Triton';
    const issue =
      launch.kernel === 'gluon-ws'
        ? ' (warp-specialised: 1 TMA producer warp, 2 consumer warpgroups deciding their own 64-row tiles; the skip arms' +
          ' add a warp that loads V only for tiles kept or predicted kept)'
        : launch.kernel === 'gluon'
          ? ', wgmma issued and waited by hand'
          : '';
    facts.push([`${kernel} ${phase}`, `${launch.numWarps} warps, ${launch.numStages} pipeline stages${loop}${issue}`]);
  }
  const c = result.environment.gpuCeilings;
  if (c) {
    facts.push([
      'GPU ceilings',
      `device copy ${formatSi(c.copyBytesPerSec, 'B/s')}, bf16 GEMM ${formatSi(c.matmulFlopsPerSec, 'FLOP/s')} — ${c.method}`,
    ]);
  }
  return facts;
}
