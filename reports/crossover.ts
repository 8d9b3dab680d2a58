/**
 * Where skip starts to win: per (phase, skip arm; anchors are not skip arms), the shortest measured context from
 * which the paired speedup's
 * bootstrap CI lies above 1.0 at that context and at every longer one. Pure; derived from the result alone.
 */
import { ratioMedianCI } from './bootstrap.js';
import { skipComparisonRows } from './comparison.js';
import type { Phase, ResultFile } from './schema.js';

export interface Crossover {
  phase: Phase;
  arm: string;
  /** The shortest context from which skip wins everywhere measured; undefined when it never does. */
  context?: number;
  /** Contexts measured, ascending. */
  measured: number[];
}

export function crossovers(result: ResultFile): Crossover[] {
  const groups = new Map<string, { phase: Phase; arm: string; wins: [number, boolean][] }>();
  for (const row of skipComparisonRows(result)) {
    const key = `${row.phase}|${row.arm}`;
    const group = groups.get(key) ?? { phase: row.phase, arm: row.arm, wins: [] };
    const ratios = row.skip.speedup?.pairedRatios ?? [];
    group.wins.push([row.context, ratios.length > 0 && ratioMedianCI(ratios).verdict === 'faster']);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ phase, arm, wins }) => {
    wins.sort((a, b) => a[0] - b[0]);
    let context: number | undefined;
    for (let i = wins.length - 1; i >= 0 && wins[i][1]; i--) context = wins[i][0];
    return { phase, arm, context, measured: wins.map(([c]) => c) };
  });
}
