/**
 * Why decode sparsity at a fixed a/L drifts with the context on the synthetic default mix (README, "Calibrating the
 * threshold"). A one-off diagnostic, not part of the harness: `npm run build`, then
 *
 *   node docs/experiments/decode-sink-ripple.mjs            # the workload as shipped
 *   node docs/experiments/decode-sink-ripple.mjs --patch    # the four sink keys without their band components
 *
 * It scores one decode query (position L-1) per head against all L keys for 8 sequences (seeds 1-8), 8 query heads
 * in 2 GQA groups, d = 128, 64-key tiles, and applies the Skip Softmax rule (DESIGN §1) per GQA group. For each target
 * it finds the factor that gives the target at 16K and prints the sparsity that factor gives at every length: overall,
 * per group, and for the two local heads scored alone.
 *
 * The sink keys carry the positional band components (cos/sin of every rotary frequency) like every other key, so a
 * decode query sees them through the band's value at distance L-1, a different ripple at each L. The local heads' sink
 * is weak (offset -2), so that ripple moves their running max, and their sparsity, with L. --patch zeroes the band
 * components of keys 0-3, as content already is for them.
 */
import { layoutFor } from '../../dist/workloads/patterns/layout.js';
import { DEFAULT_HEAD_MIX, parseHeadMix } from '../../dist/workloads/patterns/mix.js';
import { SINK_KEY_WEIGHTS } from '../../dist/workloads/patterns/constants.js';
import { syntheticSource } from '../../dist/workloads/patterns/synthetic.js';

const patch = process.argv.includes('--patch');
const [hq, hkv, d, tile] = [8, 2, 128, 64];
const group = hq / hkv;
const lengths = [4096, 8192, 16384, 32768, 65536, 131072];
const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
const kinds = parseHeadMix(DEFAULT_HEAD_MIX, hq);
const lay = layoutFor(d);
const bandEnd = lay.pairStart + 2 * (lay.slashPairs + lay.localPairs);

/** Per length: tile margins (local max - running max) per GQA group, and of the local heads alone. */
const margins = lengths.map((L) => {
  const groups = Array.from({ length: hkv }, () => []);
  const local = [];
  for (const seed of seeds) {
    const shape = { numQueryHeads: hq, numKvHeads: hkv, headDim: d };
    const source = syntheticSource({ seed, shape, headPatterns: kinds });
    const { k } = source.keysValues(L);
    if (patch) {
      for (let g = 0; g < hkv; g++) {
        for (let j = 0; j < SINK_KEY_WEIGHTS.length; j++) {
          const row = (g * L + j) * d;
          k.fill(0, row + lay.pairStart, row + bandEnd);
        }
      }
    }
    const q = source.decodeQuery(L);
    const tiles = L / tile;
    const perHead = kinds.map((kind, h) => {
      const g = Math.floor(h / group);
      const out = new Float64Array(tiles);
      let running = Number.NEGATIVE_INFINITY;
      for (let t = 0; t < tiles; t++) {
        let localMax = Number.NEGATIVE_INFINITY;
        for (let j = t * tile; j < (t + 1) * tile; j++) {
          let s = 0;
          for (let c = 0; c < d; c++) s += q[h * d + c] * k[(g * L + j) * d + c];
          localMax = Math.max(localMax, s / Math.sqrt(d));
        }
        out[t] = t === 0 ? Number.POSITIVE_INFINITY : localMax - running; // the first tile is never skipped
        running = Math.max(running, localMax);
      }
      if (kind === 'local') for (let t = 1; t < tiles; t++) local.push(out[t]);
      return out;
    });
    for (let g = 0; g < hkv; g++) {
      for (let t = 1; t < tiles; t++) {
        groups[g].push(Math.max(...perHead.slice(g * group, (g + 1) * group).map((m) => m[t])));
      }
    }
  }
  return { groups, local };
});

const skipped = (list, factor, L) => list.filter((m) => m < Math.log(factor / L)).length / list.length;
const overall = (i, factor) => margins[i].groups.reduce((a, g) => a + skipped(g, factor, lengths[i]), 0) / hkv;
const at16K = lengths.indexOf(16384);
const pct = (x) => `${(100 * x).toFixed(1)}%`;
console.log(`decode, default mix, seeds 1-8, ${patch ? 'sink keys without band components' : 'workload as shipped'}`);
for (const target of [0.3, 0.5, 0.7]) {
  let [lo, hi] = [1e-3, 1e7];
  for (let i = 0; i < 100; i++) {
    const mid = Math.sqrt(lo * hi);
    if (overall(at16K, mid) < target) lo = mid;
    else hi = mid;
  }
  console.log(`target ${pct(target)}: factor ${lo.toFixed(1)} (the target at 16K)`);
  for (const [i, L] of lengths.entries()) {
    const groups = margins[i].groups.map((g) => pct(skipped(g, lo, L))).join(' / ');
    const local = pct(skipped(margins[i].local, lo, L));
    const context = `${String(L / 1024).padStart(3)}K`;
    console.log(`  ${context}  ${pct(overall(i, lo)).padStart(6)}  groups ${groups}  local heads alone ${local}`);
  }
}
