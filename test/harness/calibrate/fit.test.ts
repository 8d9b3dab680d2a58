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
  it('lambda = a / L through the origin recovers a exactly from exact points', () => {
    const a = 587.18;
    const points = [4096, 16384, 65536, 131072].map((L) => ({ length: L, lambda: a / L }));
    expect(fitScaleFactor(points)).toBeCloseTo(a, 9);
  });

  it('weights by x = 1/L as least squares through the origin prescribes', () => {
    // x = 1/1, 1/2; y = 1, 1: a = (1 + 0.5) / (1 + 0.25) = 1.2
    expect(fitScaleFactor([{ length: 1, lambda: 1 }, { length: 2, lambda: 1 }])).toBeCloseTo(1.2, 12);
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
    const exact = fitExponential([{ sparsity: 0.2, factor: 2 * Math.exp(3) }, { sparsity: 0.4, factor: 2 * Math.exp(6) }]);
    expect(exact.a).toBeCloseTo(2, 9);
    expect(exact.b).toBeCloseTo(15, 9);
  });
});
