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

const LF = 0x0a;
const CR = 0x0d;

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
  /** Streaming decoder: a UTF-8 character split across two chunks is held back until its last byte arrives. It also
   * drops a leading byte-order mark, as the spec requires. Invalid bytes become U+FFFD rather than failing. */
  private readonly decoder = new TextDecoder('utf-8');
  private readonly maxLineLength: number;
  /** The current line, not yet terminated. */
  private line = '';
  /** The current line grew past maxLineLength: ignore it up to its terminator. */
  private discarding = false;
  /** The previous chunk ended with CR: an LF opening the next chunk ends that same line (CRLF split in two). */
  private afterCR = false;
  private dataLines: string[] = [];
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

  /** Feeds one chunk of the body; returns the events it completed (often none, sometimes several). */
  push(chunk: Uint8Array): SseEvent[] {
    const out: SseEvent[] = [];
    this.scan(this.decoder.decode(chunk, { stream: true }), out);
    return out;
  }

  /** The body ended: flushes the decoder, the last unterminated line and an unterminated event. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    this.scan(this.decoder.decode(), out);
    if (this.line.length > 0 || this.discarding) this.takeLine(out);
    this.dispatch(out);
    this.afterCR = false;
    return out;
  }

  /** Splits decoded text at CRLF, LF or CR; only the unterminated tail is kept. */
  private scan(text: string, out: SseEvent[]): void {
    let start = 0;
    // decode() may return '' (half a character): keep afterCR until real text shows whether an LF follows.
    if (this.afterCR && text.length > 0) {
      if (text.charCodeAt(0) === LF) start = 1;
      this.afterCR = false;
    }
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      this.append(text, start, i);
      this.takeLine(out);
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

  private takeLine(out: SseEvent[]): void {
    const line = this.line;
    this.line = '';
    if (this.discarding) {
      this.discarding = false; // already counted when it overflowed
      return;
    }
    this.processLine(line, out);
  }

  private processLine(line: string, out: SseEvent[]): void {
    if (line.length === 0) {
      this.dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === 0x3a /* ':' */) return; // comment, e.g. a keep-alive ": ping"
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20 /* ' ' */) value = value.slice(1);
    switch (field) {
      case 'data':
        this.dataLines.push(value);
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

  private dispatch(out: SseEvent[]): void {
    if (this.dataLines.length > 0) {
      const data = this.dataLines.join('\n');
      out.push({ event: this.eventType || 'message', data, id: this.lastEventId, done: data.trim() === '[DONE]' });
    }
    // the spec resets the event type even when there was no data to dispatch
    this.dataLines = [];
    this.eventType = '';
  }

  private noteMalformed(line: string): void {
    this.malformed++;
    this.lastMalformed = line.slice(0, EXCERPT_LENGTH);
  }
}
