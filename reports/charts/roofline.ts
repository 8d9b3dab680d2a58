/**
 * Kernel roofline: arithmetic intensity (FLOP/byte of the work actually done) against the FLOP/s actually
 * executed, under the roof of the measured ceilings (stream read bandwidth, the kernel's own q·k tile rate).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Field, PositionFieldDef } from 'vega-lite/types_unstable/channeldef.js';
import { seriesColor, type SeriesColors, tip } from './common.js';

export interface RooflineSpecOptions {
  /** Named dataset of RooflinePointRow. */
  data: string;
  /** Named dataset of RoofRow; absent when no result holds measured ceilings. */
  roofs?: string;
  title: string;
  /** Fixed series colours (dense first); default: vega's scheme in data order. */
  colors?: SeriesColors;
}

export function rooflineSpec(o: RooflineSpecOptions): TopLevelSpec {
  const color = seriesColor(o.colors);
  const x: PositionFieldDef<Field> = {
    field: 'intensity',
    type: 'quantitative',
    title: 'arithmetic intensity (FLOP/byte)',
    scale: { type: 'log' },
  };
  const y: PositionFieldDef<Field> = {
    field: 'flopsPerSec',
    type: 'quantitative',
    title: 'achieved FLOP/s',
    scale: { type: 'log' },
    axis: { format: '~s' },
  };
  return {
    title: o.title,
    width: 420,
    height: 280,
    layer: [
      ...(o.roofs
        ? [
            {
              data: { name: o.roofs },
              mark: { type: 'line' as const, color: '#555', strokeWidth: 2 },
              encoding: {
                x,
                y,
                detail: { field: 'roof' },
                tooltip: [tip('roof'), tip('intensity', 'FLOP/byte', '.3~s'), tip('flopsPerSec', 'FLOP/s', '.3~s')],
              },
            },
          ]
        : []),
      {
        data: { name: o.data },
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x,
          y,
          color,
          shape: { field: 'phase', type: 'nominal', title: 'phase' },
          tooltip: [
            tip('series', 'arm'),
            tip('context', 'context', 'd'),
            tip('phase'),
            tip('intensity', 'FLOP/byte', '.3~s'),
            tip('flopsPerSec', 'FLOP/s', '.3~s'),
            tip('bytesPerSec', 'bytes/s', '.3~s'),
            tip('bound'),
          ],
        },
      },
    ],
  };
}
