/**
 * Turns the body bytes of a streaming response into the token timeline of a request: SSE framing (sse.ts) ->
 * chunk meaning (chunks.ts) -> t_first, one (time, tokens) entry per token-bearing event, t_last, usage, timings.
 * It holds no clock: the caller passes the arrival time of each chunk, so the same code serves the live request and
 * tests with exact times. Every event completed by one chunk gets that chunk's arrival time, which is when the
 * client could first have seen it.
 */
import { interpretEvent, type ServerTimings, type Usage } from './chunks.js';
import type { FailureReason } from './record.js';
import { type SseEvent, SseParser } from './sse.js';

export class StreamAccumulator {
  private readonly parser = new SseParser();
  private readonly keepText: boolean;
  private textParts: string[] = [];
  private malformedData = 0;
  private lastMalformedData: string | undefined;

  tFirst: number | undefined;
  tLast: number | undefined;
  readonly tokenTimes: number[] = [];
  readonly tokenCounts: number[] = [];
  eventTokens = 0;
  /** The last usage seen (servers with continuous usage send one per chunk; the final one is the total). */
  usage: Usage | undefined;
  timings: ServerTimings | undefined;
  finishReason: string | undefined;
  sawDone = false;
  bytes = 0;
  /** The first error the server reported inside the stream. */
  streamError: string | undefined;

  constructor(options: { keepText?: boolean } = {}) {
    this.keepText = options.keepText ?? false;
  }

  /** Arrival time of the chunk being parsed, for onEvent. */
  private t = 0;
  /** Bound once: the parser hands events straight here, with no array per chunk (per-event allocations are what
   * drives the scavenges that stall the client's loop with 1000 streams). */
  private readonly onEvent = (event: SseEvent): void => this.take(event, this.t);

  /** One body chunk that arrived at time t. */
  push(chunk: Uint8Array, t: number): void {
    this.bytes += chunk.byteLength;
    this.t = t;
    this.parser.feed(chunk, this.onEvent);
  }

  /** The body ended at time t. */
  end(t: number): void {
    this.t = t;
    this.parser.finish(this.onEvent);
  }

  /** Malformed SSE lines plus data events that were not JSON objects. */
  get malformedCount(): number {
    return this.parser.malformedLines + this.malformedData;
  }

  /** The start of the last malformed line or data, for messages. */
  get malformedExcerpt(): string | undefined {
    return this.lastMalformedData ?? this.parser.lastMalformedLine;
  }

  get text(): string {
    return this.textParts.join('');
  }

  /** Why the stream, once ended, does not count as a success: an error event, or no token at all. */
  problem(): { reason: FailureReason; message: string } | undefined {
    if (this.streamError !== undefined) {
      return { reason: 'server_error', message: `error event in the stream: ${this.streamError}` };
    }
    if (this.tFirst !== undefined) return undefined;
    if (this.malformedCount > 0) {
      const message = `no token-bearing event; ${this.malformedCount} malformed, last: ${this.malformedExcerpt}`;
      return { reason: 'malformed', message };
    }
    const finish = this.finishReason ? ` (finish_reason ${this.finishReason})` : '';
    return { reason: 'no_tokens', message: `the stream ended without a token-bearing event${finish}` };
  }

  private take(event: SseEvent, t: number): void {
    // anything after [DONE] is not part of the answer
    if (this.sawDone) return;
    const info = interpretEvent(event);
    switch (info.kind) {
      case 'done':
        this.sawDone = true;
        return;
      case 'malformed':
        this.malformedData++;
        this.lastMalformedData = info.excerpt;
        return;
      case 'error':
        this.streamError ??= info.message;
        return;
      case 'chunk':
        if (info.usage) this.usage = info.usage;
        if (info.timings) this.timings = info.timings;
        if (info.finishReason !== undefined) this.finishReason ??= info.finishReason;
        if (!info.tokenBearing) return;
        this.tFirst ??= t;
        this.tLast = t;
        this.tokenTimes.push(t);
        this.tokenCounts.push(info.tokens);
        this.eventTokens += info.tokens;
        if (this.keepText) this.textParts.push(info.text);
    }
  }
}
