/**
 * A static site of benchmark runs, as a pure function: the previous state (runs.json) and new results in, the
 * files to write out. Only the CLI (harness/commands/publish.ts) reads and writes them.
 *
 *   runs.json            the state: versioned run summaries, sorted by start time then id (reports/publish/state.ts)
 *   runs/<name>.html     each run's own HTML report (renderHtml), <name> = runFileName(run.id)
 *   runs/<name>.json     each run's result, as skipbench writes results (two-space JSON, final newline)
 *   index.html           a table of the runs and the trend charts (reports/publish/index-page.ts)
 *
 * Deterministic: the same state and results give the same bytes (no clock, stable order, stable JSON), and a run
 * whose id is already published is replaced, so publishing the same files again changes nothing.
 */
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import type { VegaAssets } from '../html/assets.js';
import { renderHtml } from '../html/render.js';
import type { ResultFile } from '../schema.js';
import { renderSiteIndex } from './index-page.js';
import {
  emptySiteState,
  mergeRuns,
  type RunChange,
  SITE_PATHS,
  type SiteState,
  serializeSiteState,
  summarizeRun,
} from './state.js';

export interface SiteFile {
  /** Relative to the site folder, `/`-separated. */
  path: string;
  contents: string;
}

export interface SiteBuild {
  state: SiteState;
  /** Every file to write, in a safe order: each run's result and report, then runs.json, then index.html last. */
  files: SiteFile[];
  /** One per distinct run given, in the order given. */
  changes: RunChange[];
}

export interface SiteOptions {
  /** The inlined bundles of every page; default: read from node_modules once per process. */
  assets?: VegaAssets;
  /** A run's report page; default renderHtml. */
  renderReport?: (result: ResultFile, assets: VegaAssets | undefined) => string;
}

/** A result as skipbench writes it (harness/result-writer.ts writeJsonAtomic). */
export function serializeResult(result: ResultFile): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

/**
 * The same run id given twice: once is kept when both copies are identical; different contents are refused
 * (which one is meant is not for the site to guess).
 */
function distinctRuns(results: readonly ResultFile[]): { result: ResultFile; json: string }[] {
  const seen = new Map<string, { result: ResultFile; json: string }>();
  for (const result of results) {
    const json = serializeResult(result);
    const before = seen.get(result.run.id);
    if (before && before.json !== json) {
      throw new SkipbenchError(
        ErrorCodes.RESULT,
        `run ${JSON.stringify(result.run.id)} is given twice with different contents`,
        { field: result.run.id },
      );
    }
    if (!before) seen.set(result.run.id, { result, json });
  }
  return [...seen.values()];
}

/** Adds (or replaces) the results' runs in the site: the new state and every file that changes with it. */
export function buildSite(
  previous: SiteState | undefined,
  results: readonly ResultFile[],
  options: SiteOptions = {},
): SiteBuild {
  const runs = distinctRuns(results);
  const summaries = runs.map(({ result }) => summarizeRun(result));
  const { state, changes } = mergeRuns(previous ?? emptySiteState(), summaries);
  const render = options.renderReport ?? ((r: ResultFile, assets) => renderHtml(r, assets ? { assets } : {}));
  const files: SiteFile[] = [];
  runs.forEach(({ result, json }, i) => {
    files.push({ path: summaries[i].files.result, contents: json });
    files.push({ path: summaries[i].files.report, contents: render(result, options.assets) });
  });
  files.push({ path: SITE_PATHS.state, contents: serializeSiteState(state) });
  files.push({
    path: SITE_PATHS.index,
    contents: renderSiteIndex(state, options.assets ? { assets: options.assets } : {}),
  });
  return { state, files, changes };
}
