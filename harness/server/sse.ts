/**
 * An incremental Server-Sent Events parser, written to the WHATWG HTML "event stream interpretation" rules
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation), fed with byte chunks
 * as they arrive from the socket. It holds only the current incomplete line and the current event's fields, never the
 * whole body, so a 100K-token stream costs no more memory than a short one.
 *
 * Deviations from the spec, both on purpose:
 * - lines the spec silently ignores (unknown field names, a non-numeric `retry`, an `id` containing NUL) are counted
 *   as malformed, because for an LLM server they mean something went wrong (llama.cpp writes `error: {...}` lines);
 * - `end()` dispatches an event that the server did not terminate with a blank line before closing, instead of
 *   dropping it: a final usage chunk must not be lost because the server skipped the trailing newline.
 */

import { isAscii } from 'node:buffer';

const LF = 0x0a;
const CR = 0x0d;
/** Reused for every streaming decode: an options literal per call would be one more allocation per chunk. */
const STREAM = { stream: true } as const;

/** Lines longer than this are dropped (and counted malformed) so a server that never sends a newline cannot make the
 * parser buffer the whole body. 1 Mi characters is far above any real chunk (a chunk with full logprobs is ~10 KB). */
export const DEFAULT_MAX_LINE_LENGTH = 1 << 20;

/** How much of a malformed line is kept for error messages. */
const EXCERPT_LENGTH = 200;

export interface SseEvent {
  /** The `event:` field; 'message' when the event had none. */
  event: string;
  /** The event's `data:` lines joined with '\n'. */
  data: string;
  /** The last event ID seen on the stream (spec semantics: it persists across events until a new `id:` line). */
  id: string;
  /** `data` is OpenAI's end-of-stream sentinel `[DONE]`. */
  done: boolean;
}

export interface SseParserOptions {
  /** Longest line kept, in UTF-16 code units; default DEFAULT_MAX_LINE_LENGTH. */
  maxLineLength?: number;
}

export class SseParser {
  /** Streaming decoder: a UTF-8 character split across two chunks is held back until its last byte arrives. Invalid
   * bytes become U+FFFD rather than failing. It keeps a leading byte-order mark (ignoreBOM): scan() drops it, so
   * that the ASCII fast path in decode() and the decoder agree on where the stream starts. Created on the first
   * non-ASCII chunk only: most streams never need it, and it is a native object per request. */
  private decoder: InstanceType<typeof TextDecoder> | undefined;
  /** The decoder holds no partial character (the last chunk it saw ended with an ASCII byte, or it saw none): an
   * all-ASCII chunk may then bypass it, with the same result. */
  private decoderClean = true;
  /** Some text has been scanned: a U+FEFF from now on is content, not a byte-order mark. */
  private started = false;
  private readonly maxLineLength: number;
  /** The current line, not yet terminated. */
  private line = '';
  /** The current line grew past maxLineLength: ignore it up to its terminator. */
  private discarding = false;
  /** The previous chunk ended with CR: an LF opening the next chunk ends that same line (CRLF split in two). */
  private afterCR = false;
  /** The current event's data lines joined with '\n' so far; undefined before its first data line. A string rather
   * than an array of lines: one allocation less per event in the common one-line case. */
  private data: string | undefined;
  private eventType = '';
  private lastEventId = '';
  private malformed = 0;
  private lastMalformed: string | undefined;

  constructor(options: SseParserOptions = {}) {
    this.maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  }

  /** Lines that broke the framing (see the module comment). */
  get malformedLines(): number {
    return this.malformed;
  }

  /** The start of the most recent malformed line, for error messages. */
  get lastMalformedLine(): string | undefined {
    return this.lastMalformed;
  }

  /** Where completed events go during feed()/finish(). */
  private sink: ((event: SseEvent) => void) | undefined;

  /** Feeds one chunk of the body; returns the events it completed (often none, sometimes several). */
  push(chunk: Uint8Array): SseEvent[] {
    const out: SseEvent[] = [];
    this.feed(chunk, (event) => out.push(event));
    return out;
  }

  /** The body ended: flushes the decoder, the last unterminated line and an unterminated event. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    this.finish((event) => out.push(event));
    return out;
  }

  /** push() without the array: each completed event is handed to `onEvent` as it completes. The per-chunk path of
   * a live request uses this with one pre-bound callback, so a chunk allocates no result array. */
  feed(chunk: Uint8Array, onEvent: (event: SseEvent) => void): void {
    this.sink = onEvent;
    this.scan(this.decode(chunk));
  }

  /** end() without the array. */
  finish(onEvent: (event: SseEvent) => void): void {
    this.sink = onEvent;
    this.scan(this.decodeRest());
    if (this.line.length > 0 || this.discarding) this.takeLine();
    this.dispatch();
    this.afterCR = false;
  }

  /**
   * Decodes one chunk. SSE from an LLM server is nearly always ASCII (JSON escapes most non-ASCII text), and for an
   * ASCII chunk, when no partial character is pending, latin1 gives exactly what UTF-8 decoding gives at a fraction of
   * TextDecoder's per-call cost. Anything else goes through the streaming decoder.
   */
  private decode(chunk: Uint8Array): string {
    const n = chunk.byteLength;
    if (n === 0) return '';
    if (this.decoderClean && Buffer.isBuffer(chunk) && isAscii(chunk)) return chunk.toString('latin1');
    this.decoder ??= new TextDecoder('utf-8', { ignoreBOM: true });
    const text = this.decoder.decode(chunk, STREAM);
    this.decoderClean = chunk[n - 1] < 0x80;
    return text;
  }

  private decodeRest(): string {
    if (this.decoderClean || this.decoder === undefined) return '';
    this.decoderClean = true;
    return this.decoder.decode();
  }

  /** Splits decoded text at CRLF, LF or CR; only the unterminated tail is kept. */
  private scan(text: string): void {
    let start = 0;
    // the spec drops one byte-order mark at the very start of the stream
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) start = 1;
    }
    // decode() may return '' (half a character): keep afterCR until real text shows whether an LF follows.
    if (this.afterCR && text.length > start) {
      if (text.charCodeAt(start) === LF) start += 1;
      this.afterCR = false;
    }
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      this.append(text, start, i);
      this.takeLine();
      if (c === CR) {
        if (i + 1 === text.length) this.afterCR = true;
        else if (text.charCodeAt(i + 1) === LF) i++;
      }
      start = i + 1;
    }
    this.append(text, start, text.length);
  }

  private append(text: string, from: number, to: number): void {
    if (from >= to || this.discarding) return;
    if (this.line.length + (to - from) > this.maxLineLength) {
      this.noteMalformed(this.line + text.slice(from, Math.min(to, from + EXCERPT_LENGTH)));
      this.line = '';
      this.discarding = true;
      return;
    }
    this.line += text.slice(from, to);
  }

  private takeLine(): void {
    const line = this.line;
    this.line = '';
    if (this.discarding) {
      this.discarding = false; // already counted when it overflowed
      return;
    }
    this.processLine(line);
  }

  private processLine(line: string): void {
    if (line.length === 0) {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 0x3a /* ':' */) return; // comment, e.g. a keep-alive ": ping"
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20 /* ' ' */) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data = this.data === undefined ? value : `${this.data}\n${value}`;
        return;
      case 'event':
        this.eventType = value;
        return;
      case 'id':
        if (value.includes('\0')) this.noteMalformed(line);
        else this.lastEventId = value;
        return;
      case 'retry':
        // the reconnection delay means nothing to a one-shot benchmark request; only its syntax is checked
        if (!/^[0-9]+$/.test(value)) this.noteMalformed(line);
        return;
      default:
        this.noteMalformed(line);
    }
  }

  private dispatch(): void {
    const data = this.data;
    // the spec resets the data and the event type even when there was no data to dispatch
    this.data = undefined;
    const event = this.eventType || 'message';
    this.eventType = '';
    if (data !== undefined) {
      this.sink?.({ event, data, id: this.lastEventId, done: data.trim() === '[DONE]' });
    }
  }

  private noteMalformed(line: string): void {
    this.malformed++;
    this.lastMalformed = line.slice(0, EXCERPT_LENGTH);
  }
}
