/** Decode inter-token latency against decode position (the KV length grows while decoding), one panel per context. */
import type { TopLevelSpec } from 'vega-lite';
import { CONTEXT_COLUMN, PANEL_HEIGHT, PANEL_WIDTH, seriesColor, type SeriesColors, tip } from './common.js';

export interface PositionSpecOptions {
  /** Named dataset of PositionRow. */
  data: string;
  title: string;
  /** Fixed series colours (dense first); default: vega's scheme in data order. */
  colors?: SeriesColors;
}

export function positionSpec(o: PositionSpecOptions): TopLevelSpec {
  const color = seriesColor(o.colors);
  return {
    title: o.title,
    data: { name: o.data },
    facet: { column: CONTEXT_COLUMN },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'position', type: 'quantitative', title: 'decode position (token)' },
        y: { field: 'ms', type: 'quantitative', title: 'median ITL (ms)', scale: { zero: false } },
        color,
        tooltip: [
          tip('series', 'arm'),
          tip('position', 'position', 'd'),
          tip('ms', 'median ITL (ms)', '.4~f'),
          tip('n', 'gaps', 'd'),
        ],
      },
    },
  };
}
