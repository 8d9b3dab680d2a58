/**
 * Sends one streaming completion/chat request and records its timeline. Built on undici's dispatch handler rather
 * than `undici.request()` so that every stamp is taken where the bytes are: t_send in onRequestStart, which undici
 * calls right before it writes the request on the socket (after any wait for a free connection in a Pool, so that
 * wait shows up as queue delay instead of hiding in TTFT, vLLM #54101); t_headers in onResponseStart; each chunk in
 * onResponseData, handed straight to the SSE parser with no stream buffering in between. The body is never
 * collected whole.
 *
 * The promise always resolves to a RequestRecord: a failed request is a data row, never an exception. It rejects
 * only for invalid arguments (SkipbenchError SKB_CONFIG), before anything is sent.
 */
import { Agent, type Dispatcher } from 'undici';
import { ErrorCodes, invalid } from '../../kernels/errors.js';
import { type PreparedRequest, type PrepareOptions, prepareRequest } from './body.js';
import { BoundedBody, classifyError, describeError, parseRetryAfter } from './failures.js';
import type { FailureReason, RequestFailed, RequestRecord, RequestRecordBase, RequestSpec } from './record.js';
import { StreamAccumulator } from './stream.js';

export interface RequestOptions extends PrepareOptions {
  /** A Client, Pool or Agent to send through; default one Agent shared by every request of this process. */
  dispatcher?: Dispatcher;
  /** Total budget (ms) from the call to the end of the body, waiting for a connection included. */
  timeoutMs?: number;
  /** Longest silence (ms) allowed at any point: before the headers, before the first byte (this covers prefill, so
   * set it above the longest expected TTFT) and between chunks. Any bytes count, so keep-alive comments keep a
   * request alive. */
  idleTimeoutMs?: number;
  /** Aborting it fails the request with reason 'aborted'. */
  signal?: AbortSignal;
  /** The clock for every stamp (ms, monotonic). Default performance.now. Timers always run on real time. */
  now?: () => number;
  /** Keep the generated text in the record. */
  collectText?: boolean;
}

const defaultNow = () => performance.now();

let sharedAgent: Agent | undefined;

/**
 * The project's own Agent rather than undici's process-wide global dispatcher: other libraries in the process may
 * install a different undici there (playwright-core does), whose handler API differs from the one used here.
 */
function defaultDispatcher(): Dispatcher {
  sharedAgent ??= new Agent();
  return sharedAgent;
}

/**
 * The calls listening on each caller signal. One signal usually serves every request of a run (1000 at once in
 * `client-overhead`), and EventTarget's addEventListener/removeEventListener walk the signal's whole listener list
 * (duplicate check), which made a burst of N concurrent starts O(N^2): several ms of the send burst at N = 1000.
 * So each signal gets one listener, and the calls sit in a Set (O(1) in and out); the listener is removed once the
 * set is empty. Aborting stops the calls in the order they started, as separate listeners did.
 */
const signalCalls = new WeakMap<AbortSignal, { calls: Set<StreamingCall>; onAbort: () => void }>();

function watchSignal(signal: AbortSignal, call: StreamingCall): void {
  let entry = signalCalls.get(signal);
  if (entry === undefined) {
    const calls = new Set<StreamingCall>();
    const onAbort = () => {
      signalCalls.delete(signal);
      for (const c of calls) c.abortedByCaller();
      calls.clear();
    };
    entry = { calls, onAbort };
    signalCalls.set(signal, entry);
    signal.addEventListener('abort', onAbort, { once: true });
  }
  entry.calls.add(call);
}

function unwatchSignal(signal: AbortSignal, call: StreamingCall): void {
  const entry = signalCalls.get(signal);
  if (entry === undefined || !entry.calls.delete(call) || entry.calls.size > 0) return;
  signalCalls.delete(signal);
  signal.removeEventListener('abort', entry.onAbort);
}

export async function sendStreamingRequest(spec: RequestSpec, options: RequestOptions): Promise<RequestRecord> {
  const now = options.now ?? defaultNow;
  const tSched = spec.tSched ?? now();
  for (const field of ['timeoutMs', 'idleTimeoutMs'] as const) {
    const value = options[field];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw invalid(ErrorCodes.CONFIG, field, 'a number of milliseconds > 0', value);
    }
  }
  const prepared = prepareRequest(spec, options);
  return new Promise((resolve) => new StreamingCall(spec, options, prepared, tSched, now, resolve).start());
}

/** One request in flight: the undici handler plus its timers and state. Settles exactly once. */
class StreamingCall implements Dispatcher.DispatchHandler {
  private readonly stream: StreamAccumulator;
  private controller: Dispatcher.DispatchController | undefined;
  private settled = false;
  /** Why we stopped a request that undici had not started yet; given to abort() when it starts. */
  private pendingAbort: Error | undefined;
  private tSend: number | undefined;
  private tHeaders: number | undefined;
  private tEnd: number | undefined;
  private httpStatus: number | undefined;
  private statusMessage = '';
  private retryAfterMs: number | undefined;
  /** Set for a non-2xx response: its body is an error message, not SSE. */
  private errorBody: BoundedBody | undefined;
  private totalTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Real time (performance.now) of the last bytes received, or of the start. Activity only stores this: the idle
   * timer, when it fires, re-arms itself for the time left instead of being refreshed on every chunk (a Timeout
   * refresh() per chunk is a libuv clock read plus a timer-list move, on the hottest path of the client). */
  private lastActivity = 0;
  private readonly checkIdle = (): void => {
    const limit = this.options.idleTimeoutMs as number;
    const left = limit - (performance.now() - this.lastActivity);
    // a timer may fire up to ~1 ms early against performance.now (libuv's cached loop time): never stop early
    if (left > 0) this.idleTimer = setTimeout(this.checkIdle, Math.max(1, left));
    else this.stop('timeout', `nothing received for ${limit} ms`);
  };

  constructor(
    private readonly spec: RequestSpec,
    private readonly options: RequestOptions,
    private readonly prepared: PreparedRequest,
    private readonly tSched: number,
    private readonly now: () => number,
    private readonly resolve: (record: RequestRecord) => void,
  ) {
    this.stream = new StreamAccumulator({ keepText: options.collectText });
  }

  start(): void {
    const { signal, timeoutMs, idleTimeoutMs } = this.options;
    if (signal?.aborted) {
      this.fail('aborted', 'aborted by the caller before sending');
      return;
    }
    if (signal) watchSignal(signal, this);
    if (timeoutMs !== undefined) {
      this.totalTimer = setTimeout(
        () => this.stop('timeout', `no complete response within ${timeoutMs} ms`),
        timeoutMs,
      );
    }
    if (idleTimeoutMs !== undefined) {
      this.lastActivity = performance.now();
      this.idleTimer = setTimeout(this.checkIdle, idleTimeoutMs);
    }
    const own = timeoutMs !== undefined || idleTimeoutMs !== undefined;
    const { origin, path, headers, body } = this.prepared;
    try {
      (this.options.dispatcher ?? defaultDispatcher()).dispatch(
        // with our own timers, undici's (300 s by default) must not cut a long prefill short
        { origin, path, method: 'POST', headers, body, ...(own ? { headersTimeout: 0, bodyTimeout: 0 } : {}) },
        this,
      );
    } catch (error) {
      this.fail(classifyError(error), describeError(error));
    }
  }

  // -- undici handler hooks --

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) {
      controller.abort(this.pendingAbort ?? new Error('request already settled'));
      return;
    }
    // called again if undici retries the write on a fresh connection: the last attempt is the one measured
    this.tSend = this.now();
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    if (this.settled || statusCode < 200) return; // 1xx: interim, the real response follows
    this.tHeaders = this.now();
    if (this.idleTimer) this.lastActivity = performance.now();
    this.httpStatus = statusCode;
    this.statusMessage = statusMessage ?? '';
    if (statusCode >= 300) {
      this.errorBody = new BoundedBody();
      this.retryAfterMs = parseRetryAfter(headers['retry-after']);
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    const t = this.now();
    if (this.idleTimer) this.lastActivity = performance.now();
    if (this.errorBody) {
      this.errorBody.push(chunk);
      return;
    }
    this.stream.push(chunk, t);
    if (this.stream.streamError !== undefined) {
      this.stop('server_error', `error event in the stream: ${this.stream.streamError}`);
    }
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.tEnd = this.now();
    if (this.errorBody) {
      const status = `HTTP ${this.httpStatus}${this.statusMessage ? ` ${this.statusMessage}` : ''}`;
      const text = this.errorBody.text();
      this.fail('http_status', text ? `${status}: ${text}` : status);
      return;
    }
    const s = this.stream;
    s.end(this.tEnd);
    const problem = s.problem();
    const { tSend, tHeaders, httpStatus } = this;
    if (problem) this.fail(problem.reason, problem.message);
    else if (s.tFirst === undefined || s.tLast === undefined) this.fail('no_tokens', 'no token-bearing event');
    else if (tSend === undefined || tHeaders === undefined || httpStatus === undefined) {
      this.fail('connection', 'response ended without request start or headers'); // undici never does this
    } else {
      this.finish({
        ...this.base(),
        status: 'ok',
        tSend,
        tHeaders,
        tFirst: s.tFirst,
        tLast: s.tLast,
        tEnd: this.tEnd,
        httpStatus,
      });
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.settled) return;
    this.fail(classifyError(error), describeError(error));
  }

  // -- settling --

  /** The caller's signal fired. */
  abortedByCaller(): void {
    this.stop('aborted', 'aborted by the caller');
  }

  /** Our decision to end the request (timeout, caller abort, stream error): record it, then cancel the I/O. */
  private stop(reason: FailureReason, message: string): void {
    if (this.settled) return;
    this.fail(reason, message);
    const error = new Error(message);
    if (this.controller) this.controller.abort(error);
    else this.pendingAbort = error; // still queued in the dispatcher: cancelled before it is written
  }

  private fail(reason: FailureReason, message: string): void {
    if (this.settled) return;
    this.tEnd ??= this.now();
    const record: RequestFailed = { ...this.base(), status: 'failed', reason, message };
    if (this.retryAfterMs !== undefined) record.retryAfterMs = this.retryAfterMs;
    this.finish(record);
  }

  private finish(record: RequestRecord): void {
    this.settled = true;
    clearTimeout(this.totalTimer);
    clearTimeout(this.idleTimer);
    if (this.options.signal) unwatchSignal(this.options.signal, this);
    this.resolve(dropUndefined(record));
  }

  /** The fields shared by ok and failed records, from whatever has been measured so far. */
  private base(): RequestRecordBase {
    const s = this.stream;
    const fromUsage = s.usage?.completionTokens;
    const promptFromUsage = s.usage?.promptTokens;
    return {
      id: this.spec.id,
      endpoint: this.spec.endpoint,
      tSched: this.tSched,
      tSend: this.tSend,
      tHeaders: this.tHeaders,
      tFirst: s.tFirst,
      tLast: s.tLast,
      tEnd: this.tEnd,
      tokenTimes: s.tokenTimes,
      tokenCounts: s.tokenCounts,
      eventTokens: s.eventTokens,
      nOut: fromUsage ?? s.eventTokens,
      nOutSource: fromUsage !== undefined ? 'usage' : 'events',
      nIn: promptFromUsage,
      nInSource: promptFromUsage !== undefined ? 'usage' : 'none',
      nInClient: this.spec.promptTokens,
      cachedTokens: s.usage?.cachedTokens,
      usage: s.usage,
      serverTimings: s.timings,
      finishReason: s.finishReason,
      malformedCount: s.malformedCount,
      sawDone: s.sawDone,
      httpStatus: this.httpStatus,
      bytesReceived: this.errorBody?.total ?? s.bytes,
      text: this.options.collectText ? s.text : undefined,
    };
  }
}

/** Records carry no `key: undefined` entries, so they compare and serialise cleanly. A copy of the defined entries
 * (same key order) rather than `delete`, which turns every record into a dictionary-mode object, slower to read and
 * to serialise for everything downstream; copies with the same fields share one shape. */
function dropUndefined<T extends object>(record: T): T {
  const out: Record<string, unknown> = {};
  const source = record as Record<string, unknown>;
  for (const key in source) {
    const value = source[key];
    if (value !== undefined) out[key] = value;
  }
  return out as T;
}
