/**
 * The attention-mass shares quoted in workloads/patterns/constants.ts: for each head pattern, the softmax mass (float64)
 * its structure holds, averaged over 8 query rows in the last quarter of the sequence and seeds 1-5, at 4K, 16K and
 * 64K. A one-off diagnostic, not part of the harness: `npm run build`, then `node docs/experiments/mass-shares.mjs`.
 *   sink: keys 0-3; local: the last 256 keys; vertical: the stripe keys; slash: keys within period/32 of a multiple
 *   of the period; retrieval: the needle key; random: the head's largest single key.
 */
import { SINK_KEY_WEIGHTS, SLASH } from '../../dist/workloads/patterns/constants.js';
import { parseHeadMix } from '../../dist/workloads/patterns/mix.js';
import { needlePosition, stripeWeight } from '../../dist/workloads/patterns/structure.js';
import { syntheticSource } from '../../dist/workloads/patterns/synthetic.js';

const d = 128;
const kinds = parseHeadMix('sink,local,vertical,slash,retrieval,random', 6);
const seeds = [1, 2, 3, 4, 5];

/** Share of a softmax row (unnormalised weights p, sum `sum`) on the keys `keep` selects. */
const share = (p, sum, keep) => p.reduce((a, x, j) => a + (keep(j) ? x : 0), 0) / sum;

for (const L of [4096, 16384, 65536]) {
  const totals = Object.fromEntries(kinds.map((k) => [k, 0]));
  const rows = Array.from({ length: 8 }, (_, i) => L - 1 - Math.floor((i * L) / 32));
  for (const seed of seeds) {
    const source = syntheticSource({ seed, shape: { numQueryHeads: 6, numKvHeads: 1, headDim: d }, headPatterns: kinds });
    const { k } = source.keysValues(L);
    const q = source.queries(L, rows.map((r) => [r, r + 1]));
    const needle = needlePosition(seed, L);
    for (const [r, row] of rows.entries()) {
      for (const [h, kind] of kinds.entries()) {
        const p = new Float64Array(row + 1);
        for (let j = 0; j <= row; j++) {
          let s = 0;
          for (let c = 0; c < d; c++) s += q[(h * rows.length + r) * d + c] * k[j * d + c];
          p[j] = s / Math.sqrt(d);
        }
        const max = p.reduce((a, x) => Math.max(a, x), Number.NEGATIVE_INFINITY);
        let sum = 0;
        for (let j = 0; j <= row; j++) sum += p[j] = Math.exp(p[j] - max);
        const nearSlash = (j) => {
          const m = (row - j) % SLASH.period;
          return Math.min(m, SLASH.period - m) <= SLASH.period / 32;
        };
        totals[kind] += {
          sink: () => share(p, sum, (j) => j < SINK_KEY_WEIGHTS.length),
          local: () => share(p, sum, (j) => row - j < 256),
          vertical: () => share(p, sum, (j) => stripeWeight(seed, j) > 0),
          slash: () => share(p, sum, nearSlash),
          retrieval: () => share(p, sum, (j) => j === needle),
          random: () => p.reduce((a, x) => Math.max(a, x), 0) / sum,
        }[kind]();
      }
    }
  }
  const n = seeds.length * rows.length;
  console.log(`${L / 1024}K  ${kinds.map((kind) => `${kind} ${(totals[kind] / n).toFixed(2)}`).join('  ')}`);
}
