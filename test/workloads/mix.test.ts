import { describe, expect, it } from 'vitest';
import { SkipbenchError } from '../../kernels/errors.js';
import { DEFAULT_HEAD_MIX, formatHeadMix, PATTERN_KINDS, parseHeadMix } from '../../workloads/index.js';

function errorOf(fn: () => unknown): SkipbenchError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SkipbenchError);
    return error as SkipbenchError;
  }
  throw new Error('expected an error');
}

describe('parseHeadMix', () => {
  it('expands counts in the listed order, count defaulting to 1', () => {
    expect(parseHeadMix('sink:2,local:2,vertical,slash,retrieval,random', 8)).toEqual([
      'sink',
      'sink',
      'local',
      'local',
      'vertical',
      'slash',
      'retrieval',
      'random',
    ]);
    expect(parseHeadMix(' local , sink : 3 ', 4)).toEqual(['local', 'sink', 'sink', 'sink']);
    expect(parseHeadMix('random:32', 32)).toHaveLength(32);
    expect(parseHeadMix('sink,local,sink', 3)).toEqual(['sink', 'local', 'sink']);
  });

  it('the default mix fits the default shape (Hq=8) and round-trips through formatHeadMix', () => {
    const heads = parseHeadMix(DEFAULT_HEAD_MIX, 8);
    expect(heads).toHaveLength(8);
    expect(parseHeadMix(formatHeadMix(heads), 8)).toEqual(heads);
    expect(formatHeadMix(['sink', 'sink', 'local', 'vertical'])).toBe('sink:2,local,vertical');
  });

  it('rejects counts that do not sum to numQueryHeads', () => {
    for (const [text, heads] of [
      ['sink:2,local', 4],
      ['sink:5', 4],
    ] as const) {
      const error = errorOf(() => parseHeadMix(text, heads));
      expect(error.code).toBe('SKB_CONFIG');
      expect(error.field).toBe('headMix');
      expect(error.allowed).toContain(String(heads));
    }
  });

  it('rejects unknown kinds, listing the valid ones', () => {
    const error = errorOf(() => parseHeadMix('sink:2,diagonal:2', 4));
    expect(error.code).toBe('SKB_CONFIG');
    expect(error.field).toBe('headMix');
    for (const kind of PATTERN_KINDS) expect(error.allowed).toContain(kind);
    expect(error.message).toContain('diagonal');
  });

  it('rejects malformed entries and zero counts', () => {
    for (const text of ['', 'sink:', 'sink:0,local:4', 'sink:-1', 'sink:1.5', 'sink,,local', 'sink:2:3']) {
      const error = errorOf(() => parseHeadMix(text, 4));
      expect(error.code).toBe('SKB_CONFIG');
      expect(error.field).toBe('headMix');
    }
  });
});
