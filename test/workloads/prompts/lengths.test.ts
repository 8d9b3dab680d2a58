import { describe, expect, it } from 'vitest';
import { SkipbenchError } from '../../../kernels/errors.js';
import { type LengthSpec, lengthSampler } from '../../../workloads/prompts/index.js';

function errorOf(fn: () => unknown): SkipbenchError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SkipbenchError);
    return error as SkipbenchError;
  }
  throw new Error('expected an error');
}

const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const stdOf = (xs: number[]) => Math.sqrt(meanOf(xs.map((x) => (x - meanOf(xs)) ** 2)));

describe('lengthSampler', () => {
  it('fixed: always the mean', () => {
    expect(lengthSampler({ kind: 'fixed', mean: 4096 }).take(100)).toEqual(Array(100).fill(4096));
  });

  it('uniform: integers within [min, max], every value reached, mean in the middle', () => {
    const xs = lengthSampler({ kind: 'uniform', min: 100, max: 119, seed: 3 }).take(2000);
    expect(xs.every((x) => Number.isInteger(x) && x >= 100 && x <= 119)).toBe(true);
    expect(new Set(xs).size).toBe(20);
    expect(meanOf(xs)).toBeGreaterThan(108.5);
    expect(meanOf(xs)).toBeLessThan(110.5);
  });

  it('normal: mean and std roughly right over 2000 draws, clamped to [min, max]', () => {
    const xs = lengthSampler({ kind: 'normal', mean: 8000, std: 1000, seed: 1 }).take(2000);
    expect(xs.every(Number.isInteger)).toBe(true);
    expect(Math.abs(meanOf(xs) - 8000)).toBeLessThan(100); // standard error ~22
    expect(Math.abs(stdOf(xs) - 1000)).toBeLessThan(60);
    const clamped = lengthSampler({ kind: 'normal', mean: 8000, std: 1000, min: 7500, max: 8500 }).take(2000);
    expect(Math.min(...clamped)).toBe(7500);
    expect(Math.max(...clamped)).toBe(8500);
    expect(lengthSampler({ kind: 'normal', mean: 50, std: 0, min: 1, max: 100 }).take(5)).toEqual([50, 50, 50, 50, 50]);
  });

  it('is deterministic per seed, and at(i) does not depend on what was drawn before', () => {
    const spec: LengthSpec = { kind: 'normal', mean: 2000, std: 500, min: 1, max: 4000, seed: 11 };
    const xs = lengthSampler(spec).take(300);
    expect(lengthSampler(spec).take(300)).toEqual(xs);
    expect(lengthSampler(spec).at(250)).toBe(xs[250]);
    expect(lengthSampler({ ...spec, seed: 12 }).take(300)).not.toEqual(xs);
    expect(lengthSampler({ kind: 'uniform', min: 1, max: 1e6, seed: 5 }).take(50)).toEqual(
      lengthSampler({ kind: 'uniform', min: 1, max: 1e6, seed: 5 }).take(50),
    );
  });

  it('rejects bad parameters with SKB_CONFIG naming the field', () => {
    const cases: Array<[LengthSpec, string]> = [
      [{ kind: 'zipf' as never, mean: 10 }, 'kind'],
      [{ kind: 'fixed' }, 'mean'],
      [{ kind: 'fixed', mean: 0 }, 'mean'],
      [{ kind: 'fixed', mean: 10.5 }, 'mean'],
      [{ kind: 'fixed', mean: 50, min: 60, max: 100 }, 'mean'],
      [{ kind: 'uniform', max: 10 }, 'min'],
      [{ kind: 'uniform', min: 10 }, 'max'],
      [{ kind: 'uniform', min: 0, max: 10 }, 'min'],
      [{ kind: 'uniform', min: 20, max: 10 }, 'max'],
      [{ kind: 'uniform', min: 1, max: 3e6 }, 'max'],
      [{ kind: 'normal', std: 10 }, 'mean'],
      [{ kind: 'normal', mean: 100 }, 'std'],
      [{ kind: 'normal', mean: 100, std: -1 }, 'std'],
      [{ kind: 'normal', mean: Number.NaN, std: 1 }, 'mean'],
      [{ kind: 'fixed', mean: 10, seed: -1 }, 'seed'],
    ];
    for (const [spec, field] of cases) {
      expect(
        errorOf(() => lengthSampler(spec)),
        JSON.stringify(spec),
      ).toMatchObject({ code: 'SKB_CONFIG', field });
    }
    const sampler = lengthSampler({ kind: 'fixed', mean: 10 });
    expect(errorOf(() => sampler.at(-1)).field).toBe('index');
    expect(errorOf(() => sampler.take(1.5)).field).toBe('count');
  });
});
