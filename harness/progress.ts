/** Progress lines for the terminal (stderr), one per measured phase, formatted from runner events. */
import { formatMs, formatPercent, formatRatio, formatSci, formatSi, formatTokens } from '../reports/format.js';
import { needleAggregate } from '../reports/head-types.js';
import type { KernelProgress } from './kernel/runner.js';

export function progressPrinter(stream: { write(s: string): unknown }): (event: KernelProgress) => void {
  return (event) => {
    if (event.type === 'ceilings') {
      stream.write(
        `machine ceilings${event.cached ? ' (cached)' : ''}: stream read ${formatSi(event.streamReadBytesPerSec, 'B/s')}, ` +
          `q·k tile ${formatSi(event.scoreTileFlopsPerSec, 'FLOP/s')}\n`,
      );
    } else if (event.type === 'gpu') {
      stream.write(
        `GPU ${event.device}: device copy ${formatSi(event.copyBytesPerSec, 'B/s')}, ` +
          `bf16 GEMM ${formatSi(event.matmulFlopsPerSec, 'FLOP/s')}\n`,
      );
    } else if (event.type === 'phase-start') {
      const how = event.provenance.kind === 'sampled'
        ? `sampled: ${event.provenance.sampledTiles} of ${event.provenance.totalTiles} query tiles`
        : 'in full';
      stream.write(`[${String(event.index).padStart(2)}/${event.total}] ${formatTokens(event.context)} ${event.phase} (${how}) ...\n`);
    } else if (event.type === 'phase-done') {
      const failed = event.cells.flatMap((c) => c.samples).find((s) => s.status === 'failed');
      if (failed?.status === 'failed' && event.cells.every((c) => c.summary.n === 0)) {
        stream.write(`        failed: ${failed.error.message} [${failed.error.code}]\n`);
        return;
      }
      const [dense, ...skips] = event.cells;
      for (const s of skips) {
        const needle = needleAggregate(s.heads);
        const recall = needle
          ? `  needle recall ${needle.meanRecall.toFixed(3)} (lost ${needle.lostRows}/${needle.rows} rows)`
          : '';
        stream.write(
          `        dense ${formatMs(dense.summary.medianMs)}  ${s.arm} ${formatMs(s.summary.medianMs)}  ` +
            `${formatRatio(s.speedup?.ofMedians)}  sparsity ${formatPercent(s.work.sparsity)}  ` +
            `rel.err ${formatSci(s.error?.relativeL2)}${recall}${s.disturbed || dense.disturbed ? '  (disturbed)' : ''}\n`,
        );
      }
    }
  };
}
