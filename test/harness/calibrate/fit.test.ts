/** Calibration arithmetic on synthetic margins and points with known answers. */
import { describe, expect, it } from 'vitest';
import {
  fitExponential,
  fitScaleFactor,
  lambdaForSparsity,
  sparsityAt,
  tileMargins,
} from '../../../harness/calibrate/fit.js';

describe('margins to sparsity', () => {
  // 10 visited tiles: 2 first tiles (never skipped) and margins -5..2 (ln units)
  const t = tileMargins(Float64Array.from([Infinity, Infinity, 2, 1, 0, -1, -2, -3, -4, -5]));

  it('counts margins strictly below ln(lambda) over every visited tile', () => {
    expect(t.visited).toBe(10);
    expect(sparsityAt(t, Math.exp(-4.5))).toBeCloseTo(0.1, 12);
    expect(sparsityAt(t, Math.exp(-4))).toBeCloseTo(0.1, 12); // -4 is not below -4
    expect(sparsityAt(t, Math.exp(0.5))).toBeCloseTo(0.6, 12);
    expect(sparsityAt(t, 1e9)).toBeCloseTo(0.8, 12); // the first tiles are never skipped
    expect(sparsityAt(t, 0)).toBe(0);
  });

  it('reads the lambda of a target from the sorted margins, midway between neighbours', () => {
    expect(Math.log(lambdaForSparsity(t, 0.3))).toBeCloseTo(-2.5, 12);
    expect(sparsityAt(t, lambdaForSparsity(t, 0.3))).toBeCloseTo(0.3, 12);
    expect(sparsityAt(t, lambdaForSparsity(t, 0.5))).toBeCloseTo(0.5, 12);
    // unreachable: at most 80% can be skipped
    expect(sparsityAt(t, lambdaForSparsity(t, 0.95))).toBeCloseTo(0.8, 12);
    expect(sparsityAt(t, lambdaForSparsity(t, 0.01))).toBe(0);
  });
});

describe('fits', () => {
  /** Margins of `tiles` visited tiles spread evenly in ln units over [lo, hi), none a first tile. */
  const uniformMargins = (tiles: number, lo: number, hi: number) =>
    tileMargins(Float64Array.from({ length: tiles }, (_, i) => lo + ((hi - lo) * (i + 0.5)) / tiles));

  it('lambda = a / L recovers a when every length reaches the target at a / L', () => {
    // margins uniform on [ln(1/L) - 5, ln(1/L) + 5): 50% are below ln(a / L) exactly when a = 1
    const contexts = [4096, 16384, 65536, 131072].map((L) => ({
      length: L,
      margins: uniformMargins(1000, Math.log(1 / L) - 5, Math.log(1 / L) + 5),
    }));
    const fit = fitScaleFactor(contexts, 0.5);
    expect(fit.maxDeviation).toBeLessThanOrEqual(0.001);
    expect(Math.log(fit.factor)).toBeCloseTo(0, 1);
    for (const { length, margins } of contexts) expect(sparsityAt(margins, fit.factor / length)).toBeCloseTo(0.5, 2);
  });

  it('splits a drift across lengths evenly: the worst miss is half the spread, not all of it', () => {
    // at a given a, the long context skips 10 points more than the short one (its margins sit 1 nat lower)
    const contexts = [
      { length: 1000, margins: uniformMargins(1000, Math.log(1 / 1000) - 5, Math.log(1 / 1000) + 5) },
      { length: 8000, margins: uniformMargins(1000, Math.log(1 / 8000) - 6, Math.log(1 / 8000) + 4) },
    ];
    const fit = fitScaleFactor(contexts, 0.5);
    const realized = contexts.map(({ length, margins }) => sparsityAt(margins, fit.factor / length));
    expect(realized[0]).toBeCloseTo(0.45, 2);
    expect(realized[1]).toBeCloseTo(0.55, 2);
    expect(fit.maxDeviation).toBeCloseTo(0.05, 2);
    // fitting either length alone would miss the other by the whole 10 points
    for (const one of contexts) {
      const alone = fitScaleFactor([one], 0.5);
      const other = contexts.find((c) => c !== one)!;
      expect(Math.abs(sparsityAt(other.margins, alone.factor / other.length) - 0.5)).toBeCloseTo(0.1, 2);
    }
  });

  it('factor = a exp(b s) recovers the published TensorRT-LLM prefill curve shape', () => {
    // tech blog 16 prefill factors at sparsity 0.5, 0.6, 0.7 (DESIGN.md)
    const fit = fitExponential([
      { sparsity: 0.5, factor: 587.18 },
      { sparsity: 0.6, factor: 1390.63 },
      { sparsity: 0.7, factor: 3293.04 },
    ]);
    expect(fit.b).toBeCloseTo(Math.log(3293.04 / 587.18) / 0.2, 1);
    expect(fit.a * Math.exp(fit.b * 0.6)).toBeCloseTo(1390.63, -1);
    const exact = fitExponential([
      { sparsity: 0.2, factor: 2 * Math.exp(3) },
      { sparsity: 0.4, factor: 2 * Math.exp(6) },
    ]);
    expect(exact.a).toBeCloseTo(2, 9);
    expect(exact.b).toBeCloseTo(15, 9);
  });
});
