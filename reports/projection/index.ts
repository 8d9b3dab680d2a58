/** Projections: what a measured or theoretical kernel speedup means end to end for a model on a GPU. */
export { DEFAULT_EFFICIENCY, GPU_PRESETS, MODEL_PRESETS } from './presets.js';
export {
  allReduceBytes,
  allReduceMs,
  amdahl,
  attentionWork,
  expertsTouched,
  headsPerGpu,
  layerWeights,
  linearWork,
  lmHeadWork,
  memoryPerGpu,
  requiredKernelSpeedup,
  roofline,
  type RooflineTime,
  type Work,
} from './model.js';
export {
  baseAssumptions,
  project,
  projectRow,
  PROJECTION_SCHEMA,
  PROJECTION_SCHEMA_VERSION,
  type ProjectionConfig,
  type ProjectionFile,
  type ProjectionRow,
} from './project.js';
export {
  inputLines,
  PROJECTION_TITLE,
  projectionRenderers,
  renderProjection,
  renderProjectionMarkdown,
  renderProjectionTable,
} from './render.js';
export { gpuFromJson, gpuPreset, looksLikeFile, modelFromJson, modelPreset } from './specs.js';
export {
  CPU_STAND_IN_ASSUMPTION,
  type KernelSpeedupInput,
  type MeasuredPoint,
  measuredPoints,
  nearestPoint,
  type ResolvedSpeedup,
  resolveSpeedup,
} from './speedup.js';
export * from './types.js';
