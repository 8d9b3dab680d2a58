/**
 * Small pure helpers for failed requests: which FailureReason an undici error means, how long a Retry-After header
 * asks to wait, and a bounded excerpt of an HTTP error body.
 */
import type { FailureReason } from './record.js';

/** undici's own timeouts (headersTimeout, bodyTimeout, connect timeout) are timeouts like ours. */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** How much of an HTTP error body goes into the message. llama.cpp's errors are ~250 bytes. */
export const ERROR_BODY_LIMIT = 4096;

/** Maps an error from undici (or the socket below it) to a reason: its timeouts -> 'timeout', the rest
 * (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET "other side closed", UND_ERR_CLOSED, ...) -> 'connection'. */
export function classifyError(error: unknown): FailureReason {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TIMEOUT_CODES.has(code) ? 'timeout' : 'connection';
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
}

/**
 * Retry-After (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date. Returns milliseconds to wait (>= 0), or
 * undefined when the header is absent or unparseable. `epochNowMs` is the wall clock an HTTP-date is measured from.
 */
export function parseRetryAfter(value: string | string[] | undefined, epochNowMs = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (text === undefined || text.length === 0) return undefined;
  // the RFC says a non-negative integer; some servers send fractions, which are harmless to accept
  if (/^[0-9]+(\.[0-9]+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // an HTTP-date always names a weekday or month, which keeps Date.parse from reading bare numbers as years
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - epochNowMs);
}

/** Collects the first ERROR_BODY_LIMIT bytes of a body and counts the rest without keeping it. */
export class BoundedBody {
  private readonly parts: Uint8Array[] = [];
  private kept = 0;
  total = 0;

  push(chunk: Uint8Array): void {
    this.total += chunk.byteLength;
    const room = ERROR_BODY_LIMIT - this.kept;
    if (room <= 0) return;
    // a copy: the chunk may be a view into a buffer the HTTP parser reuses
    const part = Uint8Array.prototype.slice.call(chunk, 0, Math.min(room, chunk.byteLength));
    this.parts.push(part);
    this.kept += part.byteLength;
  }

  /** The kept bytes as text (a character cut at the limit becomes U+FFFD), whitespace-trimmed. */
  text(): string {
    const joined = Buffer.concat(this.parts).toString('utf8').trim();
    return this.total > this.kept ? `${joined}… (${this.total} bytes)` : joined;
  }
}
