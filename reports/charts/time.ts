/**
 * A time against context length per arm, one panel per phase (kernel) or latency (server TTFT, TPOT): the median
 * as a line, the band the rows name (the bootstrap CI of that median) as an area, drawn like the speedup chart's.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Field, PositionFieldDef } from 'vega-lite/types_unstable/channeldef.js';
import { CONTEXT_X, PANEL_HEIGHT, PANEL_ORDER, PANEL_WIDTH, seriesColor, type SeriesColors, tip } from './common.js';

export interface TimeSpecOptions {
  /** Named dataset of TimeRow. */
  data: string;
  title: string;
  /** Fixed series colours (dense first); default: vega's scheme in data order. */
  colors?: SeriesColors;
  /** Axis title of the median, e.g. "time per phase (ms)". */
  yTitle: string;
}

export function timeSpec(o: TimeSpecOptions): TopLevelSpec {
  const color = seriesColor(o.colors);
  const y = (field: string): PositionFieldDef<Field> => ({
    field,
    type: 'quantitative',
    title: o.yTitle,
    scale: { type: 'log' },
  });
  return {
    title: o.title,
    data: { name: o.data },
    facet: { column: { field: 'panel', type: 'nominal', title: null, sort: PANEL_ORDER } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
      layer: [
        { mark: { type: 'area', opacity: 0.2 }, encoding: { x: CONTEXT_X, y: y('lo'), y2: { field: 'hi' }, color } },
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: CONTEXT_X,
            y: y('ms'),
            color,
            tooltip: [
              tip('series', 'arm'),
              tip('panel'),
              tip('context', 'context', 'd'),
              tip('ms', 'median (ms)', '.4~f'),
              tip('lo', 'CI low (ms)', '.4~f'),
              tip('hi', 'CI high (ms)', '.4~f'),
              tip('band'),
              tip('n', 'n', 'd'),
            ],
          },
        },
      ],
    },
  };
}
