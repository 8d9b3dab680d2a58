/** Sparsity against output error per head: what skipping costs in accuracy, by attention pattern. */
import type { TopLevelSpec } from 'vega-lite';
import { PANEL_HEIGHT, tip } from './common.js';

export interface AccuracySpecOptions {
  /** Named dataset of HeadRow. */
  data: string;
  title: string;
}

export function accuracySpec(o: AccuracySpecOptions): TopLevelSpec {
  return {
    title: o.title,
    data: { name: o.data },
    // a log axis cannot place an exact zero (nothing skipped): those heads are left out of the chart, not the tables
    transform: [{ filter: 'datum.relativeL2 > 0' }],
    width: 420,
    height: PANEL_HEIGHT + 60,
    mark: { type: 'point', filled: true, opacity: 0.75, size: 60 },
    encoding: {
      x: {
        field: 'sparsity',
        type: 'quantitative',
        title: 'tile sparsity',
        axis: { format: '%' },
        scale: { domain: [0, 1] },
      },
      y: { field: 'relativeL2', type: 'quantitative', title: 'relative L2 error vs dense', scale: { type: 'log' } },
      color: { field: 'pattern', type: 'nominal', title: 'head pattern' },
      shape: { field: 'phase', type: 'nominal', title: 'phase' },
      tooltip: [
        tip('series', 'arm'),
        tip('context', 'context', 'd'),
        tip('phase'),
        tip('head', 'head', 'd'),
        tip('pattern'),
        tip('sparsity', 'sparsity', '.1%'),
        tip('relativeL2', 'relative L2', '.2e'),
        tip('maxAbs', 'max abs', '.2e'),
      ],
    },
  };
}
