/** Speedup (dense / skip) against context length, one panel per phase: paired median, a band, parity, theory. */
import type { TopLevelSpec } from 'vega-lite';
import type { Field, PositionFieldDef } from 'vega-lite/types_unstable/channeldef.js';
import { CONTEXT_X, PANEL_HEIGHT, PANEL_ORDER, PANEL_WIDTH, seriesColor, type SeriesColors, tip } from './common.js';

export interface SpeedupSpecOptions {
  /** Named dataset of SpeedupRow. */
  data: string;
  title: string;
  /** Fixed series colours (dense first); default: vega's scheme in data order. */
  colors?: SeriesColors;
  /** Draw the 2 / (2 - s) bound (kernel results, where sparsity is measured). */
  theory: boolean;
}

export function speedupSpec(o: SpeedupSpecOptions): TopLevelSpec {
  const color = seriesColor(o.colors);
  const y = (field: string): PositionFieldDef<Field> => ({
    field,
    type: 'quantitative',
    title: 'speedup (x)',
    scale: { zero: false },
  });
  const tooltip = [
    tip('series', 'arm'),
    tip('context', 'context', 'd'),
    tip('phase'),
    tip('paired', 'paired median', '.3f'),
    tip('ofMedians', 'ratio of medians', '.3f'),
    tip('lo', 'band low', '.3f'),
    tip('hi', 'band high', '.3f'),
    tip('band'),
    tip('rounds', 'rounds', 'd'),
    ...(o.theory ? [tip('theory', 'theory 2/(2-s)', '.3f'), tip('sparsity', 'sparsity', '.1%')] : []),
  ];
  return {
    title: o.title,
    data: { name: o.data },
    facet: { column: { field: 'phase', type: 'nominal', title: null, sort: PANEL_ORDER } },
    spec: {
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
      layer: [
        { mark: { type: 'rule', color: '#999', strokeDash: [2, 2] }, encoding: { y: { datum: 1 } } },
        {
          mark: { type: 'area', opacity: 0.2 },
          encoding: { x: CONTEXT_X, y: y('lo'), y2: { field: 'hi' }, color },
        },
        { mark: { type: 'line', point: true }, encoding: { x: CONTEXT_X, y: y('paired'), color, tooltip } },
        ...(o.theory
          ? [
              {
                mark: { type: 'line' as const, strokeDash: [6, 3], opacity: 0.8 },
                encoding: { x: CONTEXT_X, y: y('theory'), color },
              },
            ]
          : []),
      ],
    },
  };
}
