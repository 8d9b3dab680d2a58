/**
 * Empirical CDFs of measured times, one panel per (panel, context): kernel sample times per phase, or server
 * TTFT / TPOT / ITL. The cumulative share is computed by the chart (window cume_dist), so the data stays raw.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CONTEXT_COLUMN, PANEL_ORDER, seriesColor, type SeriesColors, tip } from './common.js';

export interface CdfSpecOptions {
  /** Named dataset of SampleRow. */
  data: string;
  title: string;
  /** Fixed series colours (dense first); default: vega's scheme in data order. */
  colors?: SeriesColors;
  xTitle: string;
}

export function cdfSpec(o: CdfSpecOptions): TopLevelSpec {
  const color = seriesColor(o.colors);
  return {
    title: o.title,
    data: { name: o.data },
    transform: [
      {
        window: [{ op: 'cume_dist', as: 'share' }],
        sort: [{ field: 'ms', order: 'ascending' }],
        groupby: ['series', 'panel', 'context'],
      },
    ],
    facet: {
      row: { field: 'panel', type: 'nominal', title: null, sort: PANEL_ORDER },
      column: CONTEXT_COLUMN,
    },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 170,
      height: 120,
      mark: { type: 'line', interpolate: 'step-after', point: false },
      encoding: {
        x: { field: 'ms', type: 'quantitative', title: o.xTitle, scale: { zero: false } },
        y: { field: 'share', type: 'quantitative', title: 'share of samples', axis: { format: '%' } },
        color,
        tooltip: [tip('series', 'arm'), tip('ms', 'ms', '.4~f'), tip('share', 'share', '.0%')],
      },
    },
  };
}
