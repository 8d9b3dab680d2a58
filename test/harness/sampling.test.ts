import { describe, expect, it } from 'vitest';
import { choosePrefillSample, SAMPLING_METHOD, tileRowRanges } from '../../harness/kernel/sampling.js';

/** Causal (row, key) pairs of tile t: rows r0..r1-1 each see keys 0..r, i.e. r + 1 of them (closed form). */
function tileWork(t: number, blockM: number, seqLen: number): number {
  const r0 = t * blockM;
  const r1 = Math.min(seqLen, r0 + blockM);
  return (r1 * (r1 + 1)) / 2 - (r0 * (r0 + 1)) / 2;
}

/** The FLOP budget that buys exactly `strata` tiles of average dense causal work (4·d FLOPs per element). */
function budgetFor(strata: number, seqLen: number, blockM: number, headDim: number): number {
  const tiles = Math.ceil(seqLen / blockM);
  const meanTileFlops = (4 * headDim * (seqLen * (seqLen + 1))) / 2 / tiles;
  return strata * meanTileFlops * 1.0001;
}

describe('choosePrefillSample', () => {
  it('measures in full up to fullMax', () => {
    for (const seqLen of [1, 63, 64, 1000, 4096]) {
      const s = choosePrefillSample(seqLen, 64, 128, 4096, 1, 1);
      expect(s.tiles).toBeUndefined();
      expect(s.totalTiles).toBe(Math.ceil(seqLen / 64));
      expect(s.totalWork).toBe((seqLen * (seqLen + 1)) / 2);
      expect(s.sampledWork).toBe(s.totalWork);
    }
  });

  it("the total work is the sum of every tile's causal work", () => {
    const s = choosePrefillSample(1000, 64, 128, 100, 1e9, 1);
    let sum = 0;
    for (let t = 0; t < s.totalTiles; t++) sum += tileWork(t, 64, 1000);
    expect(s.totalWork).toBe(sum);
  });

  it('draws one tile per stratum, within range, ascending, with the sampled work of exactly those tiles', () => {
    const seqLen = 8192;
    const blockM = 64;
    const s = choosePrefillSample(seqLen, blockM, 128, 4096, budgetFor(16, seqLen, blockM, 128), 5);
    expect(s.totalTiles).toBe(128);
    expect(s.tiles).toHaveLength(16);
    s.tiles!.forEach((t, i) => {
      expect(Number.isInteger(t)).toBe(true);
      expect(t).toBeGreaterThanOrEqual(i * 8);
      expect(t).toBeLessThan((i + 1) * 8);
    });
    expect(s.sampledWork).toBe(s.tiles!.reduce((n, t) => n + tileWork(t, blockM, seqLen), 0));
    expect(s.sampledWork).toBeLessThan(s.totalWork);
  });

  it('uneven strata (totalTiles not a multiple of the strata) still cover every tile range once', () => {
    // 1000 tokens, 64-row tiles: 16 tiles, the last one 40 rows
    const s = choosePrefillSample(1000, 64, 64, 512, budgetFor(5, 1000, 64, 64), 3);
    expect(s.tiles).toHaveLength(5);
    const bounds = [0, 3, 6, 9, 12, 16]; // floor(s * 16 / 5)
    s.tiles!.forEach((t, i) => {
      expect(t).toBeGreaterThanOrEqual(bounds[i]);
      expect(t).toBeLessThan(bounds[i + 1]);
    });
    expect(s.sampledWork).toBe(s.tiles!.reduce((n, t) => n + tileWork(t, 64, 1000), 0));
  });

  it('is deterministic for a seed and varies with the seed', () => {
    const args = [16384, 64, 128, 4096, 4e9] as const;
    const a = choosePrefillSample(...args, 1);
    expect(choosePrefillSample(...args, 1)).toEqual(a);
    const others = [2, 3, 4, 5].map((seed) => choosePrefillSample(...args, seed).tiles);
    expect(others.some((tiles) => JSON.stringify(tiles) !== JSON.stringify(a.tiles))).toBe(true);
  });

  it('takes at least 4 tiles however small the budget', () => {
    const s = choosePrefillSample(8192, 64, 128, 1024, 1, 1);
    expect(s.tiles).toHaveLength(4);
    expect(s.tiles!.every((t, i) => t >= i * 32 && t < (i + 1) * 32)).toBe(true);
  });

  it('computes everything when the budget covers every tile', () => {
    const s = choosePrefillSample(8192, 64, 128, 1024, 1e15, 1);
    expect(s.tiles).toBeUndefined();
    expect(s.sampledWork).toBe(s.totalWork);
    // fewer tiles than the minimum of 4 strata: also in full
    const tiny = choosePrefillSample(200, 64, 128, 100, 1, 1);
    expect(tiny.totalTiles).toBe(4);
    expect(tiny.tiles).toBeUndefined();
  });

  it('the work ratio is the estimator the method describes', () => {
    expect(SAMPLING_METHOD).toMatch(/stratified/);
    const s = choosePrefillSample(32768, 64, 128, 4096, 6e9, 1);
    const scale = s.totalWork / s.sampledWork;
    expect(scale).toBeGreaterThan(1);
    // later tiles hold more work: the sample's share of the work is not its share of the tiles
    expect(s.sampledWork / s.totalWork).not.toBeCloseTo(s.tiles!.length / s.totalTiles, 6);
  });
});

describe('tileRowRanges', () => {
  it('gives [start, end) rows per tile, the last one short', () => {
    expect(tileRowRanges([0, 3, 15], 64, 1000)).toEqual([
      [0, 64],
      [192, 256],
      [960, 1000],
    ]);
    expect(tileRowRanges([], 64, 1000)).toEqual([]);
    expect(tileRowRanges([9], 32, 301)).toEqual([[288, 301]]);
  });
});
