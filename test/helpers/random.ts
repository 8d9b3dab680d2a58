/** Seeded randomness for tests: mulberry32 (public domain, Tommy Ettinger) and Box-Muller gaussians. */

export type Rng = () => number;

/** A uniform [0, 1) generator from a 32-bit seed. Same seed, same sequence, on every platform. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One standard normal sample (Box-Muller; 1 - u keeps log away from 0). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Fills `out` with N(0, std^2) samples and returns it. */
export function fillGaussian(out: Float32Array, rng: Rng, std = 1): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = std * gaussian(rng);
  return out;
}

/** A new Float32Array of `length` N(0, std^2) samples. */
export function gaussianArray(length: number, rng: Rng, std = 1): Float32Array {
  return fillGaussian(new Float32Array(length), rng, std);
}
