/**
 * Drives a stream of prepared requests against a server, closed or open loop, and collects one record per request.
 *
 * - Closed loop: `concurrency` lanes; each sends the next request as soon as its previous one finished, with
 *   t_sched = the moment the lane became free (so any wait for a connection inside the dispatcher is queue delay).
 * - Open loop: request i is due at t_sched = startedAt + offsets[i] (offsets from workloads/arrivals.ts). Every
 *   t_sched is computed from the start, never from the previous fire, so timer lateness does not accumulate. A request
 *   is handed to `send` at its t_sched or as soon as possible after it; when `maxConcurrency` requests are in flight
 *   it waits in a FIFO queue but keeps its t_sched, so t_send - t_sched shows the wait instead of hiding it (coordinated
 *   omission, DESIGN.md §2; vLLM #54101).
 *
 * Requests come from `next()`, an iterator the caller prepared before the clock starts (prompts built, bodies cheap
 * to hand over). In open loop the next spec is taken before sleeping until its t_sched, so the iterator's own cost
 * never delays a send.
 *
 * Warmup: the first `warmup` requests run first as a closed loop (`warmupConcurrency` lanes) and are recorded with
 * warmup: true; consumers leave them out of statistics. The measured phase, and with it `startedAt`, the open-loop
 * schedule and the duration limit, begins once the last warmup request has finished.
 *
 * Stopping. `stop.count`: measured requests (warmup not included). `stop.durationMs`: no request starts at or after
 * startedAt + durationMs; in-flight requests finish. In open loop an arrival due before that deadline but still waiting
 * for a slot when the deadline passes is recorded as failed (reason 'aborted', notSent: 'duration'), never silently
 * dropped (guidellm #444): an overloaded server shows up as failures rather than as a shorter run. The iterator
 * running dry ends the run too.
 *
 * Interrupting. `signal` aborted: no new request starts; requests in flight finish and are recorded; queued open-loop
 * arrivals are recorded as failed (notSent: 'interrupted'); the result says interrupted: true. `cancelSignal` aborted
 * (e.g. a second Ctrl-C): the same, and it is the signal handed to `send`, so in-flight requests are cancelled too
 * (sendStreamingRequest records them as reason 'aborted').
 *
 * `send` should resolve to a record whatever happens (sendStreamingRequest does); if it throws or rejects anyway, the
 * error becomes a failed record (reason 'connection') so the request is still counted. An exception from `next` or
 * `onRecord` is a bug in the caller: no new request starts, in-flight ones finish, then runLoad rejects with it.
 *
 * Timers run on real time (setTimeout/setImmediate); `now` must advance with them (vi.useFakeTimers fakes both).
 */
import { ErrorCodes, invalid } from '../../kernels/errors.js';
import type { RequestFailed, RequestRecord, RequestSpec } from './record.js';

export type NotSentReason = 'duration' | 'interrupted';

/** A request's record plus its place in the run. */
export type LoadRecord = RequestRecord & {
  /** Order in which the request was taken from `next()`: warmup requests are 0..warmup-1. */
  index: number;
  warmup: boolean;
  /** Set on an open-loop arrival that was due but never handed to `send`. */
  notSent?: NotSentReason;
};

export type LoadMode =
  | { kind: 'closed'; concurrency: number }
  | { kind: 'open'; offsets: Float64Array; maxConcurrency?: number };

export interface SendContext {
  /** Aborted when in-flight requests must be cancelled (LoadOptions.cancelSignal). */
  signal?: AbortSignal;
}

export interface LoadOptions {
  next: () => RequestSpec | undefined;
  mode: LoadMode;
  /** Requests sent first and flagged warmup: an integer >= 0; default 0. */
  warmup?: number;
  /** Lanes for the warmup phase; default: closed loop its concurrency, open loop maxConcurrency ?? 1. */
  warmupConcurrency?: number;
  stop?: { count?: number; durationMs?: number };
  /** Sends one request; bind sendStreamingRequest's options here, passing context.signal on as its signal. */
  send: (spec: RequestSpec, context: SendContext) => Promise<RequestRecord>;
  /** Clock in ms; default performance.now. */
  now?: () => number;
  /** Stop starting requests; in-flight ones finish. */
  signal?: AbortSignal;
  /** Stop starting requests and cancel in-flight ones (passed to `send`). */
  cancelSignal?: AbortSignal;
  /** Called as each record arrives (completion order). */
  onRecord?: (record: LoadRecord, info: { index: number; warmup: boolean }) => void;
}

export interface LoadResult {
  /** Every record, sorted by index. */
  records: LoadRecord[];
  /** Start of the measured phase (after warmup), ms: the open-loop schedule's origin. */
  startedAt: number;
  /** When the last request finished, ms. */
  endedAt: number;
  /** `signal` or `cancelSignal` fired before the run ended by itself. */
  interrupted: boolean;
  /** Most requests in flight at once. */
  maxInFlight: number;
}

interface Arrival {
  spec: RequestSpec;
  index: number;
  tSched: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  validate(options);
  return new LoadRun(options).run();
}

class LoadRun {
  private readonly records: LoadRecord[] = [];
  private readonly now: () => number;
  private taken = 0;
  private inFlight = 0;
  private maxInFlight = 0;
  private exhausted = false;
  private interrupted = false;
  private fault: { error: unknown } | undefined;
  /** Wakes sleepers and flushes the open-loop queue when the run halts. */
  private readonly haltHooks = new Set<() => void>();
  private readonly onAbort = () => this.halt();

  constructor(private readonly options: LoadOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  private get halted(): boolean {
    return this.interrupted || this.fault !== undefined;
  }

  async run(): Promise<LoadResult> {
    const { signal, cancelSignal, mode, warmup = 0 } = this.options;
    signal?.addEventListener('abort', this.onAbort, { once: true });
    cancelSignal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted || cancelSignal?.aborted) this.halt();
    try {
      if (warmup > 0) {
        const lanes =
          this.options.warmupConcurrency ?? (mode.kind === 'closed' ? mode.concurrency : (mode.maxConcurrency ?? 1));
        await this.closedLoop(lanes, warmup, Number.POSITIVE_INFINITY, true);
      }
      const startedAt = this.now();
      const count = this.options.stop?.count ?? Number.POSITIVE_INFINITY;
      const durationMs = this.options.stop?.durationMs ?? Number.POSITIVE_INFINITY;
      if (mode.kind === 'closed') await this.closedLoop(mode.concurrency, count, startedAt + durationMs, false);
      else await this.openLoop(mode.offsets, mode.maxConcurrency, count, durationMs, startedAt);
      const endedAt = this.now();
      if (this.fault) throw this.fault.error;
      this.records.sort((a, b) => a.index - b.index);
      return {
        records: this.records,
        startedAt,
        endedAt,
        interrupted: this.interrupted,
        maxInFlight: this.maxInFlight,
      };
    } finally {
      signal?.removeEventListener('abort', this.onAbort);
      cancelSignal?.removeEventListener('abort', this.onAbort);
    }
  }

  private halt(error?: { error: unknown }): void {
    if (error) this.fault ??= error;
    else this.interrupted = true;
    for (const hook of [...this.haltHooks]) hook();
  }

  /** `lanes` lanes, each starting the next request when its last one ends, until `limit` requests or `deadline`. */
  private async closedLoop(lanes: number, limit: number, deadline: number, warmup: boolean): Promise<void> {
    let started = 0;
    const lane = async (): Promise<void> => {
      while (!this.halted && started < limit) {
        const tSched = this.now();
        if (tSched >= deadline) return;
        const spec = this.take();
        if (spec === undefined) return;
        started++;
        await this.dispatch({ spec, index: this.taken++, tSched }, warmup);
      }
    };
    await Promise.all(Array.from({ length: Math.min(lanes, limit) }, lane));
  }

  private async openLoop(
    offsets: Float64Array,
    maxConcurrency = Number.POSITIVE_INFINITY,
    count: number,
    durationMs: number,
    startedAt: number,
  ): Promise<void> {
    const deadline = startedAt + durationMs;
    const queue: (Arrival | undefined)[] = [];
    let head = 0;
    let wakeIdle: (() => void) | undefined;
    const flush = (reason: NotSentReason) => {
      while (head < queue.length) {
        const arrival = queue[head] as Arrival;
        queue[head++] = undefined;
        this.addRecord({
          ...notSentRecord(arrival, this.now(), reason),
          index: arrival.index,
          warmup: false,
          notSent: reason,
        });
      }
    };
    const pump = () => {
      if (this.halted) return flush('interrupted');
      if (head < queue.length && this.now() >= deadline) return flush('duration');
      while (head < queue.length && this.inFlight < maxConcurrency) {
        const arrival = queue[head] as Arrival;
        queue[head++] = undefined;
        void this.dispatch(arrival, false).then(() => {
          pump();
          wakeIdle?.();
        });
      }
    };
    const onHalt = () => flush('interrupted');
    this.haltHooks.add(onHalt);
    try {
      const total = Math.min(offsets.length, count);
      for (let i = 0; i < total && !this.halted && offsets[i] < durationMs; i++) {
        const spec = this.take();
        if (spec === undefined) break;
        const tSched = startedAt + offsets[i];
        await this.sleepUntil(tSched);
        if (this.halted) break; // interrupted before it was due: it never arrived
        queue.push({ spec, index: this.taken++, tSched });
        pump();
      }
      while (this.inFlight > 0 || head < queue.length) {
        await new Promise<void>((resolve) => {
          wakeIdle = resolve;
        });
      }
    } finally {
      this.haltHooks.delete(onHalt);
    }
  }

  private take(): RequestSpec | undefined {
    if (this.exhausted) return undefined;
    try {
      const spec = this.options.next();
      if (spec === undefined) this.exhausted = true;
      return spec;
    } catch (error) {
      this.exhausted = true;
      this.halt({ error });
      return undefined;
    }
  }

  /** Hands one request to `send` and records the outcome; never rejects. */
  private async dispatch(arrival: Arrival, warmup: boolean): Promise<void> {
    const { spec, index, tSched } = arrival;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let record: RequestRecord;
    try {
      record = await this.options.send({ ...spec, tSched }, { signal: this.options.cancelSignal });
      if (record === null || typeof record !== 'object') throw new Error(`send resolved to ${String(record)}`);
    } catch (error) {
      const message = `send threw: ${error instanceof Error ? error.message : String(error)}`;
      record = { ...emptyRecord(spec, tSched, this.now()), status: 'failed', reason: 'connection', message };
    }
    this.inFlight--;
    this.addRecord({ ...record, index, warmup });
  }

  private addRecord(record: LoadRecord): void {
    this.records.push(record);
    try {
      this.options.onRecord?.(record, { index: record.index, warmup: record.warmup });
    } catch (error) {
      this.halt({ error });
    }
  }

  /**
   * Resolves once now() >= t (or the run halts). Each wait is computed from the absolute target, so lateness never
   * accumulates. setTimeout can fire up to ~1 ms early against performance.now (libuv's cached loop time), so the last
   * fraction of a millisecond is waited out with setImmediate, which keeps serving I/O; if the clock did not move
   * across one (a fake or coarse clock), it falls back to a 1 ms timer.
   */
  private sleepUntil(t: number): Promise<void> {
    if (this.halted || this.now() >= t) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let immediate: NodeJS.Immediate | undefined;
      let last = Number.NaN;
      const wake = () => {
        clearTimeout(timer);
        if (immediate) clearImmediate(immediate);
        this.haltHooks.delete(wake);
        resolve();
      };
      const check = () => {
        const now = this.now();
        const remaining = t - now;
        if (this.halted || remaining <= 0) return wake();
        if (remaining >= 1 || now === last) timer = setTimeout(check, Math.max(1, remaining));
        else immediate = setImmediate(check);
        last = now;
      };
      this.haltHooks.add(wake);
      check();
    });
  }
}

/** The fields of a record for a request that produced no response at all. */
function emptyRecord(spec: RequestSpec, tSched: number, tEnd: number) {
  const base = {
    ...(spec.id !== undefined ? { id: spec.id } : {}),
    endpoint: spec.endpoint,
    tSched,
    tEnd,
    tokenTimes: [],
    tokenCounts: [],
    eventTokens: 0,
    nOut: 0,
    nOutSource: 'events' as const,
    nInSource: 'none' as const,
    malformedCount: 0,
    sawDone: false,
    bytesReceived: 0,
  };
  return spec.promptTokens !== undefined ? { ...base, nInClient: spec.promptTokens } : base;
}

function notSentRecord(arrival: Arrival, tEnd: number, reason: NotSentReason): RequestFailed {
  const why = reason === 'duration' ? 'the run duration ended' : 'the run was interrupted';
  return {
    ...emptyRecord(arrival.spec, arrival.tSched, tEnd),
    status: 'failed',
    reason: 'aborted',
    message: `not sent: ${why} while it waited for a free slot`,
  };
}

function validate(options: LoadOptions): void {
  const { mode, warmup, warmupConcurrency, stop } = options;
  if (typeof options.next !== 'function') throw invalid(ErrorCodes.CONFIG, 'next', 'a function', options.next);
  if (typeof options.send !== 'function') throw invalid(ErrorCodes.CONFIG, 'send', 'a function', options.send);
  if (mode?.kind === 'closed') {
    checkInteger('concurrency', mode.concurrency, 1);
  } else if (mode?.kind === 'open') {
    const { offsets, maxConcurrency } = mode;
    if (!(offsets instanceof Float64Array)) throw invalid(ErrorCodes.CONFIG, 'offsets', 'a Float64Array', offsets);
    for (let i = 0; i < offsets.length; i++) {
      if (!(Number.isFinite(offsets[i]) && offsets[i] >= 0 && (i === 0 || offsets[i] >= offsets[i - 1]))) {
        throw invalid(ErrorCodes.CONFIG, 'offsets', 'finite, >= 0 and ascending', `offsets[${i}] = ${offsets[i]}`);
      }
    }
    if (maxConcurrency !== undefined) checkInteger('maxConcurrency', maxConcurrency, 1);
  } else {
    throw invalid(ErrorCodes.CONFIG, 'mode', "{ kind: 'closed' | 'open', ... }", mode);
  }
  if (warmup !== undefined) checkInteger('warmup', warmup, 0);
  if (warmupConcurrency !== undefined) checkInteger('warmupConcurrency', warmupConcurrency, 1);
  if (stop?.count !== undefined) checkInteger('count', stop.count, 0);
  if (stop?.durationMs !== undefined && !(Number.isFinite(stop.durationMs) && stop.durationMs > 0)) {
    throw invalid(ErrorCodes.CONFIG, 'durationMs', 'a number of milliseconds > 0', stop.durationMs);
  }
}

function checkInteger(field: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(ErrorCodes.CONFIG, field, `an integer >= ${min}`, value);
  }
}
