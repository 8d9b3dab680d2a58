/**
 * Counter-based randomness: every value is a pure function of (seed, stream, indices), never the next draw of a
 * sequential generator. That is what makes rows reproducible on their own: query row i of head h is the same whether
 * rows 0..L or just i..i+64 are generated.
 */

/** 32-bit integer hash with full avalanche (Chris Wellons' "lowbias32"). Bijective on uint32. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

const GOLDEN = 0x9e3779b9;

/** Hash of a short list of integers (seed, stream id, head, ...). Not for hot loops. */
export function hashKey(...parts: number[]): number {
  let h = 0x2545f491;
  for (const part of parts) {
    // Fold both 32-bit halves so seeds and positions above 2^32 still differ.
    const lo = part >>> 0;
    const hi = Math.floor(part / 4294967296) >>> 0;
    h = mix32((h ^ lo) + GOLDEN);
    h = mix32((h ^ hi) + GOLDEN);
  }
  return h;
}

/** The hash of element `index` of a stream keyed by `key` (hot loops: one multiply-add and one mix32). */
export function elementHash(key: number, index: number): number {
  return mix32((key + Math.imul(index, GOLDEN)) >>> 0);
}

/** A uniform number in (0, 1) from a 32-bit hash. */
export function unitFromHash(h: number): number {
  return (h + 0.5) / 4294967296;
}

// Standard normal by inverse CDF: 2^14 equal-probability bins, linear interpolation inside a bin with the low 18 bits.
// One table read per sample instead of log/sqrt/cos (Box-Muller), which keeps 67M samples well under a second.
const BIN_BITS = 14;
const BINS = 1 << BIN_BITS;
const FRAC_BITS = 32 - BIN_BITS;
const FRAC_SCALE = 1 / (1 << FRAC_BITS);
const FRAC_MASK = (1 << FRAC_BITS) - 1;
const NORMAL_TABLE = buildNormalTable();

/** A standard normal sample (tails cut at ~3.9 sigma, variance exactly 1) from a 32-bit hash. */
export function gaussianFromHash(h: number): number {
  const bin = h >>> FRAC_BITS;
  const a = NORMAL_TABLE[bin];
  return a + (NORMAL_TABLE[bin + 1] - a) * ((h & FRAC_MASK) * FRAC_SCALE);
}

function buildNormalTable(): Float64Array {
  const table = new Float64Array(BINS + 1);
  for (let k = 0; k <= BINS; k++) table[k] = inverseNormalCdf((k + 1) / (BINS + 2));
  // Exact second moment of the piecewise-linear distribution (each bin equally likely, uniform inside): rescale to 1.
  let m2 = 0;
  for (let k = 0; k < BINS; k++) {
    const a = table[k];
    const b = table[k + 1];
    m2 += (a * a + a * b + b * b) / 3;
  }
  const scale = 1 / Math.sqrt(m2 / BINS);
  for (let k = 0; k <= BINS; k++) table[k] *= scale;
  return table;
}

/** Peter Acklam's rational approximation of the normal quantile (relative error < 1.2e-9). */
export function inverseNormalCdf(p: number): number {
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - low) return -inverseNormalCdf(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}
