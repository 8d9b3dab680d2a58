/** Retry-After parsing and error classification. */
import { describe, expect, it } from 'vitest';
import { BoundedBody, classifyError, ERROR_BODY_LIMIT, parseRetryAfter } from '../../../harness/server/failures.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter(['5', '7'], now)).toBe(5000);
  });

  it('reads an HTTP-date relative to the wall clock, never negative', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', now)).toBe(0);
  });

  it('returns undefined for absent or unparseable values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('classifyError', () => {
  it("maps undici's timeouts to 'timeout' and everything else to 'connection'", () => {
    expect(classifyError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }))).toBe('timeout');
    expect(classifyError(Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }))).toBe('connection');
    expect(classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('connection');
    expect(classifyError('weird')).toBe('connection');
  });
});

describe('BoundedBody', () => {
  it('keeps the first bytes and counts the rest', () => {
    const body = new BoundedBody();
    body.push(Buffer.alloc(3000, 'a'));
    body.push(Buffer.alloc(3000, 'b'));
    expect(body.total).toBe(6000);
    expect(body.text()).toBe(`${'a'.repeat(3000)}${'b'.repeat(ERROR_BODY_LIMIT - 3000)}… (6000 bytes)`);
  });
});
