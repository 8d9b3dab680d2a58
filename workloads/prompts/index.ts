/** Prompt workloads for server targets: exact-length unique prompts, their corpus, tokenizer and length sampling. */
export { CORPUS_CHARS_PER_TOKEN, CorpusWriter, corpusText } from './corpus.js';
export {
  type BuildPromptOptions,
  type BuiltPrompt,
  buildPrompt,
  MAX_PROMPT_TOKENS,
  PROMPT_ENDPOINTS,
  type PromptEndpoint,
  promptPrefix,
} from './exact.js';
export {
  LENGTH_KINDS,
  type LengthKind,
  type LengthSampler,
  type LengthSpec,
  lengthSampler,
  MAX_SAMPLED_LENGTH,
} from './lengths.js';
export {
  isCleanSplit,
  LLAMA3_CHAT_TEMPLATE,
  llama3Tokenizer,
  type PromptDrift,
  type PromptTokenizer,
  promptDrift,
  renderLlama3Chat,
} from './tokenizer.js';
export { buildNeedlePrompt, type Grade, gradePasskey, type NeedleOptions, type NeedlePrompt } from './needle.js';
