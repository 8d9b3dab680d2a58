/**
 * Pieces every chart spec shares: sizes, the context axis, the series colour, tooltips. Specs name their data
 * (`{ name: 'kernel_speedup' }`) and never hold it; the rows are added as top-level `datasets` when embedded.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ColorDef, Field, PositionFieldDef, StringFieldDef } from 'vega-lite/types_unstable/channeldef.js';

export type TooltipField = StringFieldDef<Field>;

export const PANEL_WIDTH = 260;
export const PANEL_HEIGHT = 190;

/** The order panels appear in, when present. */
export const PANEL_ORDER = ['prefill', 'decode', 'TTFT', 'TPOT', 'ITL'];

/** Token counts as the tables write them: multiples of 1024 as "128K", others as digits. */
export const TOKENS_LABEL_EXPR =
  "datum.value >= 1024 && datum.value % 1024 == 0 ? format(datum.value / 1024, 'd') + 'K' : format(datum.value, '~r')";

/** Context length on a log-2 axis (contexts are usually powers of two). */
export const CONTEXT_X: PositionFieldDef<Field> = {
  field: 'context',
  type: 'quantitative',
  title: 'context (tokens)',
  scale: { type: 'log', base: 2 },
  axis: { labelExpr: TOKENS_LABEL_EXPR, labelOverlap: 'greedy' },
};

/** Context length as facet columns, ascending, labelled like the axis. */
export const CONTEXT_COLUMN = {
  field: 'context',
  type: 'ordinal',
  title: 'context (tokens)',
  sort: 'ascending',
  header: { labelExpr: TOKENS_LABEL_EXPR },
} as const;

/** Series names and their colours, in legend order (the chart's only data-dependent setting; no rows). */
export interface SeriesColors {
  domain: string[];
  range: string[];
}

/**
 * Colour by series: the arm, prefixed by the run when several runs share a chart. Given `colors`, every arm keeps
 * one colour across charts (dense first), even where dense is absent (speedups). Run ids are long: so are labels.
 */
export function seriesColor(colors?: SeriesColors): ColorDef<Field> {
  return {
    field: 'series',
    type: 'nominal',
    title: 'arm',
    ...(colors ? { scale: { domain: colors.domain, range: colors.range } } : {}),
    legend: { labelLimit: 360 },
  };
}

/** A tooltip line: a field, its title, and a d3 format for numbers. */
export function tip(field: string, title?: string, format?: string): TooltipField {
  return {
    field,
    ...(format ? { type: 'quantitative', format } : {}),
    ...(title ? { title } : {}),
  };
}

/** Adds the rows each named dataset holds: the one step that joins a data-free spec and its data. */
export function withDatasets(spec: TopLevelSpec, datasets: Record<string, readonly object[]>): TopLevelSpec {
  return { ...spec, datasets: Object.fromEntries(Object.entries(datasets).map(([k, v]) => [k, [...v]])) };
}
