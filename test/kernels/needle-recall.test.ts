/**
 * Needle recall on hand-built cases with known answers: d = 1, scale 1, so each key's score is q * k_j.
 * Keys (tiles of 2): [0, 0 | 3, 0 | 1, 0], the needle is key 2 (tile 1) with score 3 for q = 1.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../kernels/errors.js';
import {
  NEEDLE_MAX_ROWS,
  type NeedleKeys,
  needleRecall,
  needleRowMass,
  spreadIndices,
  summarizeNeedle,
} from '../../kernels/needle-recall.js';
import { TileDecision } from '../../kernels/types.js';

const { COMPUTED: C, SKIPPED: S, NOT_VISITED: N } = TileDecision;
const KEYS: NeedleKeys = { k: Float32Array.of(0, 0, 3, 0, 1, 0), headDim: 1, needle: 2, blockN: 2, scale: 1 };
const q = Float32Array.of(1);
const e = Math.E;

describe('needleRowMass', () => {
  it('dense: exp(s_n) over the row sum of every causal key', () => {
    const m = needleRowMass(KEYS, { q, position: 5 });
    expect(m.denseMass).toBeCloseTo(e ** 3 / (4 + e ** 3 + e), 14);
    expect(m.skipMass).toBe(m.denseMass);
    expect(m.lost).toBe(false);
  });

  it('needle tile kept, another skipped: the computed tiles renormalise, skip mass >= dense mass', () => {
    const m = needleRowMass(KEYS, { q, position: 5, decisions: Uint8Array.of(C, C, S) });
    // tile 2 (keys 4, 5: exp 1 and exp 0) leaves the row sum
    expect(m.skipMass).toBeCloseTo(e ** 3 / (3 + e ** 3), 14);
    expect(m.denseMass).toBeCloseTo(e ** 3 / (4 + e ** 3 + e), 14);
    expect(m.skipMass).toBeGreaterThanOrEqual(m.denseMass);
    expect(m.lost).toBe(false);
  });

  it('needle tile skipped: mass 0 and the row counts as lost', () => {
    const m = needleRowMass(KEYS, { q, position: 5, decisions: Uint8Array.of(C, S, C) });
    expect(m.skipMass).toBe(0);
    expect(m.lost).toBe(true);
    expect(m.denseMass).toBeGreaterThan(0);
  });

  it('is causal: a row sees keys up to its own position only, a later tile it never visits does not matter', () => {
    const m = needleRowMass(KEYS, { q, position: 3, decisions: Uint8Array.of(C, C, N) });
    expect(m.denseMass).toBeCloseTo(e ** 3 / (3 + e ** 3), 14);
    expect(m.skipMass).toBe(m.denseMass);
  });

  it('works in the score scale: scale 0.5 halves every score', () => {
    const m = needleRowMass({ ...KEYS, scale: 0.5 }, { q, position: 5, decisions: Uint8Array.of(C, C, S) });
    expect(m.skipMass).toBeCloseTo(e ** 1.5 / (3 + e ** 1.5), 14);
  });

  it('refuses a row at or before the needle, or beyond the keys (SKB_LENGTH)', () => {
    expect(() => needleRowMass(KEYS, { q, position: 2 })).toThrow(expect.objectContaining({ code: ErrorCodes.LENGTH }));
    expect(() => needleRowMass(KEYS, { q, position: 6 })).toThrow(expect.objectContaining({ code: ErrorCodes.LENGTH }));
  });
});

describe('needleRecall', () => {
  it('dense decisions (all computed, or none given): recall 1, nothing lost', () => {
    for (const decisions of [undefined, Uint8Array.of(C, C, C)]) {
      const r = needleRecall(KEYS, [
        { q, position: 3, decisions },
        { q, position: 5, decisions },
      ]);
      expect(r).toMatchObject({ rows: 2, recall: 1, lostRows: 0 });
      expect(r.skipMass).toBe(r.denseMass);
    }
  });

  it('mean skip mass / mean dense mass over the rows, lost rows counted', () => {
    const rows = [
      { q, position: 5, decisions: Uint8Array.of(C, S, C) }, // lost
      { q, position: 5, decisions: Uint8Array.of(C, C, S) }, // kept, renormalised
      { q: Float32Array.of(2), position: 4, decisions: Uint8Array.of(C, C, C) },
    ];
    const dense5 = e ** 3 / (4 + e ** 3 + e);
    const dense4 = e ** 6 / (3 + e ** 6 + e ** 2);
    const skipKept = e ** 3 / (3 + e ** 3);
    const r = needleRecall(KEYS, rows);
    expect(r.rows).toBe(3);
    expect(r.lostRows).toBe(1);
    expect(r.denseMass).toBeCloseTo((2 * dense5 + dense4) / 3, 14);
    expect(r.skipMass).toBeCloseTo((0 + skipKept + dense4) / 3, 14);
    expect(r.recall).toBeCloseTo((skipKept + dense4) / (2 * dense5 + dense4), 14);
  });

  it('every row lost: recall 0; no rows: NaN', () => {
    expect(needleRecall(KEYS, [{ q, position: 5, decisions: Uint8Array.of(C, S, S) }]).recall).toBe(0);
    expect(summarizeNeedle([])).toMatchObject({ rows: 0, lostRows: 0 });
    expect(summarizeNeedle([]).recall).toBeNaN();
  });
});

describe('spreadIndices', () => {
  it('takes every index when there are few, the centre of each equal share when there are many', () => {
    expect(spreadIndices(3)).toEqual([0, 1, 2]);
    expect(spreadIndices(0)).toEqual([]);
    expect(spreadIndices(100, 4)).toEqual([12, 37, 62, 87]);
    const many = spreadIndices(1000);
    expect(many).toHaveLength(NEEDLE_MAX_ROWS);
    expect(new Set(many).size).toBe(NEEDLE_MAX_ROWS);
    expect(many[0]).toBeGreaterThanOrEqual(0);
    expect(many.at(-1)).toBeLessThan(1000);
  });
});
