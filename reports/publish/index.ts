/** The static site of runs (`skipbench publish`): state, trend charts, index page, and the pure build of them all. */
export { type IndexOptions, INDEX_TITLE, renderSiteIndex, runHeadline } from './index-page.js';
export { buildSite, type SiteBuild, type SiteFile, type SiteOptions, serializeResult } from './site.js';
export { runFileName } from './slug.js';
export {
  type CellSummary,
  compareRuns,
  emptySiteState,
  mergeRuns,
  parseSiteState,
  publishProblems,
  type RunChange,
  type RunChangeAction,
  type RunSummary,
  runFiles,
  SITE_PATHS,
  SITE_SCHEMA,
  SITE_SCHEMA_VERSION,
  type SiteState,
  serializeSiteState,
  type SpeedupSummary,
  summarizeRun,
} from './state.js';
export {
  type TrendChart,
  type TrendChartSet,
  trendCharts,
  type TrendDatasetName,
  type TrendDatasets,
  trendDatasets,
  type TrendSpeedupRow,
  trendSpeedupSpec,
  type TrendSpecOptions,
  type TrendTimeRow,
  trendTimeSpec,
} from './trends.js';
