export * from './schema.js';
export * from './stats.js';
export { comparisonRows, provenanceLabel, theoryBound, type ComparisonRow } from './comparison.js';
export { accuracyByHeadType, type HeadTypeAccuracy, needleAggregate } from './head-types.js';
export { renderMarkdown } from './markdown.js';
export { renderTable } from './table.js';
export { render, renderers, type RendererName } from './render.js';
