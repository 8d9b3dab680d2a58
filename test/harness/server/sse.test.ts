/**
 * The SSE parser gives the same events however the bytes are cut, handles every line ending and split UTF-8, and
 * counts (does not throw on) lines that break the framing.
 */
import { describe, expect, it } from 'vitest';
import { type SseEvent, SseParser } from '../../../harness/server/sse.js';
import { mulberry32 } from '../../helpers/random.js';
import { readFixture } from './loopback.js';

const enc = new TextEncoder();

/** Feeds `bytes` cut at the given offsets, then ends the stream. */
function parseCuts(bytes: Uint8Array, cuts: number[], parser = new SseParser()): SseEvent[] {
  const events: SseEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...parser.push(bytes.subarray(from, cut)));
    from = cut;
  }
  events.push(...parser.end());
  return events;
}

const whole = (bytes: Uint8Array) => parseCuts(bytes, []);
const byteByByte = (bytes: Uint8Array) =>
  parseCuts(
    bytes,
    Array.from({ length: bytes.length }, (_, i) => i),
  );
const parseText = (text: string, parser?: SseParser) => parseCuts(enc.encode(text), [], parser);

function randomCuts(length: number, seed: number): number[] {
  const rng = mulberry32(seed);
  const cuts: number[] = [];
  for (let at = 0; at < length; ) {
    at += 1 + Math.floor(rng() * 97);
    if (at < length) cuts.push(at);
  }
  return cuts;
}

describe('SseParser on the captured llama.cpp streams', () => {
  for (const [name, count] of [
    ['completions-stream.sse', 10],
    ['chat-stream.sse', 12],
  ] as const) {
    it(`${name}: byte-by-byte and random chunkings give the same ${count} events`, () => {
      const bytes = readFixture(name);
      const reference = whole(bytes);
      expect(reference).toHaveLength(count);
      expect(reference.at(-1)).toMatchObject({ data: '[DONE]', done: true, event: 'message' });
      expect(reference.slice(0, -1).every((e) => !e.done && e.data.startsWith('{'))).toBe(true);
      expect(byteByByte(bytes)).toEqual(reference);
      for (let seed = 1; seed <= 20; seed++)
        expect(parseCuts(bytes, randomCuts(bytes.length, seed))).toEqual(reference);
    });
  }

  it('keeps the multi-byte Cyrillic text of the completions stream intact byte by byte', () => {
    const events = byteByByte(readFixture('completions-stream.sse'));
    expect(JSON.parse(events[6].data).choices[0].text).toBe(' вместе');
  });
});

describe('SseParser framing', () => {
  it('accepts LF, CRLF and CR line endings alike', () => {
    const expected = [
      { event: 'message', data: 'a', id: '', done: false },
      { event: 'message', data: 'b', id: '', done: false },
    ];
    expect(parseText('data: a\n\ndata: b\n\n')).toEqual(expected);
    expect(parseText('data: a\r\n\r\ndata: b\r\n\r\n')).toEqual(expected);
    expect(parseText('data: a\r\rdata: b\r\r')).toEqual(expected);
  });

  it('treats a CRLF split across two chunks as one line ending', () => {
    const bytes = enc.encode('data: a\r\n\r\ndata: b\r\n\r\n');
    // cut between every CR and its LF
    const cuts = [...bytes.keys()].filter((i) => bytes[i - 1] === 0x0d);
    expect(parseCuts(bytes, cuts)).toHaveLength(2);
    expect(byteByByte(bytes).map((e) => e.data)).toEqual(['a', 'b']);
  });

  it('joins multi-line data with newlines and strips only one leading space', () => {
    expect(parseText('data: {"a":\ndata:  1}\ndata\n\n')[0].data).toBe('{"a":\n 1}\n');
  });

  it('reads event and id fields; the id persists and the event type resets', () => {
    const events = parseText('event: error\nid: 7\ndata: x\n\ndata: y\n\n');
    expect(events).toEqual([
      { event: 'error', data: 'x', id: '7', done: false },
      { event: 'message', data: 'y', id: '7', done: false },
    ]);
  });

  it('ignores comments (keep-alives) and events without data', () => {
    const parser = new SseParser();
    expect(parseText(': ping\n\n:\n\nevent: foo\n\ndata: z\n\n', parser)).toEqual([
      { event: 'message', data: 'z', id: '', done: false },
    ]);
    expect(parser.malformedLines).toBe(0);
  });

  it('recognises [DONE]', () => {
    expect(parseText('data: [DONE]\n\n')[0].done).toBe(true);
    expect(parseText('data: [DONE]x\n\n')[0].done).toBe(false);
  });

  it('decodes a UTF-8 character split at every possible byte boundary', () => {
    const text = 'data: café 😀 ok\n\n';
    const bytes = enc.encode(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(parseCuts(bytes, [cut])[0].data, `cut at byte ${cut}`).toBe('café 😀 ok');
    }
    expect(byteByByte(bytes)[0].data).toBe('café 😀 ok');
  });

  it('drops a leading byte-order mark', () => {
    expect(parseCuts(new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode('data: a\n\n')]), [1, 2])[0].data).toBe('a');
  });

  it('counts malformed lines without stopping', () => {
    const parser = new SseParser();
    const events = parseText('data: a\n\nthis is not sse\nerror: {"x":1}\nretry: soon\nretry: 10\ndata: b\n\n', parser);
    expect(events.map((e) => e.data)).toEqual(['a', 'b']);
    expect(parser.malformedLines).toBe(3);
    expect(parser.lastMalformedLine).toBe('retry: soon');
  });

  it('dispatches an event left unterminated when the stream ends', () => {
    expect(parseText('data: a\n\ndata: last').map((e) => e.data)).toEqual(['a', 'last']);
    expect(parseText('data: a\n\ndata: last\n').map((e) => e.data)).toEqual(['a', 'last']);
  });

  it('drops a line longer than the limit and counts it once, keeping later events', () => {
    const parser = new SseParser({ maxLineLength: 16 });
    const events = parseCuts(enc.encode(`data: ${'x'.repeat(40)}\n\ndata: fine\n\n`), [10, 20, 30], parser);
    expect(events.map((e) => e.data)).toEqual(['fine']);
    expect(parser.malformedLines).toBe(1);
  });
});

describe('SseParser on Buffer chunks (the ASCII fast path bypasses the decoder)', () => {
  /** The same cuts fed as Buffers, which is what undici hands over. */
  const asBuffers = (bytes: Uint8Array, cuts: number[], parser = new SseParser()) =>
    parseCuts(Buffer.from(bytes), cuts, parser);

  it('gives the same events as Uint8Array chunks for the captured streams, however cut', () => {
    for (const name of ['completions-stream.sse', 'chat-stream.sse']) {
      const bytes = readFixture(name);
      const reference = whole(new Uint8Array(bytes));
      expect(asBuffers(bytes, [])).toEqual(reference);
      for (let seed = 1; seed <= 20; seed++) expect(asBuffers(bytes, randomCuts(bytes.length, seed))).toEqual(reference);
    }
  });

  it('decodes a UTF-8 character split at every byte boundary, with ASCII chunks around it', () => {
    const bytes = enc.encode('data: ab\n\ndata: café 😀 ok\n\ndata: z\n\n');
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(asBuffers(bytes, [cut]).map((e) => e.data), `cut at byte ${cut}`).toEqual(['ab', 'café 😀 ok', 'z']);
    }
  });

  it('an ASCII chunk after a chunk that ended mid-character still ends that character as U+FFFD', () => {
    // 0xc3 opens a 2-byte character that never completes; the decoder, not the fast path, must see the next chunk
    const parser = new SseParser();
    const events = [
      ...parser.push(Buffer.from([...enc.encode('data: a'), 0xc3])),
      ...parser.push(Buffer.from('b\n\n', 'latin1')),
      ...parser.end(),
    ];
    expect(events.map((e) => e.data)).toEqual(['a\ufffdb']);
  });

  it('drops a leading byte-order mark, split or not, but keeps a U+FEFF later in the stream', () => {
    const bom = [0xef, 0xbb, 0xbf];
    const bytes = new Uint8Array([...bom, ...enc.encode('data: a\n\ndata: '), ...bom, ...enc.encode('b\n\n')]);
    for (const cuts of [[], [1], [2], [3], [1, 2], [12]]) {
      expect(asBuffers(bytes, cuts).map((e) => e.data)).toEqual(['a', '\ufeffb']);
    }
    // an ASCII start means a later BOM-looking sequence is content
    expect(asBuffers(new Uint8Array([...enc.encode('data: x'), ...bom, ...enc.encode('\n\n')]), [7])[0].data).toBe(
      'x\ufeff',
    );
  });

  it('flushes a character left incomplete at the end of the stream as U+FFFD', () => {
    expect(asBuffers(new Uint8Array([...enc.encode('data: a'), 0xe2, 0x82]), [])[0].data).toBe('a\ufffd');
  });
});
