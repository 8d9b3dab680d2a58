/** The server target's request layer: SSE parsing, chunk interpretation, one streaming request, its metrics. */
export { type PreparedRequest, type PrepareOptions, prepareRequest, requestBody } from './body.js';
export {
  type ChunkInfo,
  interpretChunk,
  interpretEvent,
  readUsage,
  type ServerTimings,
  type StreamChunk,
  type Usage,
} from './chunks.js';
export { classifyError, ERROR_BODY_LIMIT, parseRetryAfter } from './failures.js';
export { interTokenLatencies, type RequestMetrics, requestMetrics, type TimedRecord } from './metrics.js';
export type {
  ChatMessage,
  Endpoint,
  FailureReason,
  RequestFailed,
  RequestOk,
  RequestRecord,
  RequestRecordBase,
  RequestSpec,
} from './record.js';
export { type RequestOptions, sendStreamingRequest } from './request.js';
export { DEFAULT_MAX_LINE_LENGTH, type SseEvent, SseParser, type SseParserOptions } from './sse.js';
export { StreamAccumulator } from './stream.js';
