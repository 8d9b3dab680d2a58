/** The reference server: an OpenAI-compatible streaming server backed by skipbench's own attention kernel. */
export {
  type AttentionEngine,
  createEngine,
  createReferenceEngine,
  createWasmEngine,
  type PhaseStats,
  type RequestKernel,
} from './engine.js';
export { METRIC_PREFIX, parseMetrics, type QueueGauges, type ServeCounters, ServeMetrics } from './metrics.js';
export {
  type GenerationRequest,
  type GenerationResult,
  OUTPUT_WORDS,
  outputToken,
  type PhaseTotals,
  promptHash,
  ReferenceModel,
} from './model.js';
export {
  headMixText,
  headPatternsFor,
  kernelBytesAt,
  MAX_KERNEL_BYTES,
  MAX_SERVE_CONTEXT,
  resolvedPartitions,
  resolveServeOptions,
  SERVE_DEFAULTS,
  SERVE_IMPLEMENTATIONS,
  type ServeImplementation,
  type ServeOptions,
  type ServeUserOptions,
} from './options.js';
export {
  contextFailure,
  DEFAULT_MAX_TOKENS,
  type ErrorBody,
  type GenerationCall,
  LLAMA3_VOCAB_SIZE,
  parseChatRequest,
  parseCompletionRequest,
  renderLlama3Conversation,
  type ServeEndpoint,
} from './protocol.js';
export { FifoQueue } from './queue.js';
export { type EngineFacts, timingsOf, usageOf } from './responses.js';
export { maxBodyBytes, type ReferenceServer, startReferenceServer } from './server.js';
