import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../kernels/errors.js';
import { parseInteger, parseList, parseNumber, parseTokenCount } from '../../harness/units.js';

function thrown(fn: () => unknown): { code?: string; field?: string; received?: unknown } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; field?: string };
  }
  throw new Error('expected an error, nothing was thrown');
}

describe('parseTokenCount', () => {
  it.each([
    ['4096', 4096],
    ['4K', 4096],
    ['4k', 4096],
    ['128k', 131072],
    ['128K', 131072],
    ['1M', 1048576],
    ['1m', 1048576],
    [' 2k ', 2048],
    ['2 K', 2048],
    ['1.5K', 1536],
    ['0.5k', 512],
    ['1', 1],
  ])('%j -> %d', (text, tokens) => {
    expect(parseTokenCount('--contexts', text)).toBe(tokens);
  });

  it.each(['0', '0K', '-1', '1.1', '0.0001K', 'abc', '', ' ', '4KB', '4G', 'K', '1e3', '1,024'])(
    '%j -> SKB_CONFIG naming the field',
    (text) => {
      expect(thrown(() => parseTokenCount('--full-prefill-max', text))).toMatchObject({
        code: ErrorCodes.CONFIG,
        field: '--full-prefill-max',
        received: text,
      });
    },
  );
});

describe('parseList', () => {
  it('splits on commas, trims and drops empty items', () => {
    expect(parseList('--x', '1, 2,,3 ,', (_f, t) => Number(t))).toEqual([1, 2, 3]);
    expect(parseList('--x', 'a', (_f, t) => t)).toEqual(['a']);
  });

  it('passes the field to the item parser', () => {
    const fields: string[] = [];
    parseList('--phases', 'a,b', (f, t) => fields.push(f) && t);
    expect(fields).toEqual(['--phases', '--phases']);
  });

  it.each(['', ',', ' , '])('%j -> SKB_CONFIG', (text) => {
    expect(thrown(() => parseList('--x', text, (_f, t) => t))).toMatchObject({ code: ErrorCodes.CONFIG, field: '--x' });
  });

  it('an item error propagates', () => {
    expect(thrown(() => parseList('--contexts', '1K,zz', parseTokenCount))).toMatchObject({
      code: ErrorCodes.CONFIG,
      field: '--contexts',
      received: 'zz',
    });
  });
});

describe('parseNumber and parseInteger', () => {
  it('parses numbers within the range', () => {
    expect(parseNumber('--f', '2.5')).toBe(2.5);
    expect(parseNumber('--f', '1e3')).toBe(1000);
    expect(parseNumber('--f', '0')).toBe(0);
    expect(parseNumber('--f', '5', 5, 5)).toBe(5);
    expect(parseInteger('--n', '7', 1, 10)).toBe(7);
    expect(parseInteger('--n', '1e1', 1, 10)).toBe(10);
  });

  it.each([
    ['', 0, Number.POSITIVE_INFINITY],
    [' ', 0, Number.POSITIVE_INFINITY],
    ['abc', 0, Number.POSITIVE_INFINITY],
    ['Infinity', 0, Number.POSITIVE_INFINITY],
    ['NaN', 0, Number.POSITIVE_INFINITY],
    ['-1', 0, Number.POSITIVE_INFINITY],
    ['11', 0, 10],
  ])('parseNumber(%j) in [%d, %d] -> SKB_CONFIG', (text, min, max) => {
    expect(thrown(() => parseNumber('--f', text, min, max))).toMatchObject({ code: ErrorCodes.CONFIG, field: '--f' });
  });

  it.each(['1.5', '0', '11', 'x'])('parseInteger(%j) in [1, 10] -> SKB_CONFIG', (text) => {
    expect(thrown(() => parseInteger('--n', text, 1, 10))).toMatchObject({ code: ErrorCodes.CONFIG, field: '--n' });
  });
});
