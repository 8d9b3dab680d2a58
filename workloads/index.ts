/** Workloads: where attention inputs (Q/K/V) come from. */

export { capturedSource } from './captured.js';
export { encodeNpy, type NpyArray, readNpy } from './npy.js';
export { PATTERNS, type PatternComponents } from './patterns/constants.js';
export {
  DEFAULT_HEAD_MIX,
  formatHeadMix,
  PATTERN_KINDS,
  type PatternKind,
  parseHeadMix,
} from './patterns/mix.js';
export { type SyntheticSpec, syntheticDescription, syntheticSource } from './patterns/synthetic.js';
export { checkLength, checkRowRanges, type QkvSource } from './source.js';
export {
  type BuiltPrompt,
  buildNeedlePrompt,
  buildPrompt,
  type Grade,
  gradePasskey,
  type LengthSpec,
  lengthSampler,
  llama3Tokenizer,
  type PromptTokenizer,
  promptDrift,
} from './prompts/index.js';
