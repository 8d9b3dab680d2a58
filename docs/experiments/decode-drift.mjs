/**
 * What holds decode sparsity at a fixed a/L within ~3 points from 4K to 128K on the synthetic default mix (README,
 * "Calibrating the threshold"): an ablation that puts back, one at a time, what generator version 1 did. A one-off
 * diagnostic, not part of the harness: `npm run build`, then
 *
 *   node docs/experiments/decode-drift.mjs                     # the workload as shipped (version 2)
 *   node docs/experiments/decode-drift.mjs --v1-sink-keys      # the four sink keys with band components again
 *   node docs/experiments/decode-drift.mjs --v1-band           # the local band's strength growing with ln L again
 *   node docs/experiments/decode-drift.mjs --v1-local-sink     # the local heads' sink 1 nat weaker again
 *   node docs/experiments/decode-drift.mjs --v1-pooling        # 8 sequences at every context, as calibrate pooled
 *
 * It scores one decode query (position L-1) per head against all L keys, 8 query heads in 2 GQA groups, d = 128,
 * 64-key tiles, one partition, and applies the Skip Softmax rule (DESIGN §1) per GQA group, as `skipbench calibrate`
 * does. It pools 8 sequences (seeds 1-8) at 128K and proportionally more at shorter contexts (--sequences N sets the
 * 8). For each target it picks the factor whose worst miss over 4K, 16K, 64K and 128K is smallest and prints the
 * sparsity at each context: overall, per GQA group, and per head pattern scored alone.
 */
import { HEAD_OFFSET_JITTER, LOCAL, PATTERNS, SINK_KEY_WEIGHTS } from '../../dist/workloads/patterns/constants.js';
import { layoutFor } from '../../dist/workloads/patterns/layout.js';
import { DEFAULT_HEAD_MIX, parseHeadMix } from '../../dist/workloads/patterns/mix.js';
import { hashKey, unitFromHash } from '../../dist/workloads/patterns/random.js';
import { Stream } from '../../dist/workloads/patterns/structure.js';
import { syntheticSource } from '../../dist/workloads/patterns/synthetic.js';

const flag = (name) => process.argv.includes(`--${name}`);
const at = process.argv.indexOf('--sequences');
const sequencesAtLongest = at > 0 ? Number(process.argv[at + 1]) : 8;
const [hq, hkv, d, tile] = [8, 2, 128, 64];
const group = hq / hkv;
const lengths = [4096, 16384, 65536, 131072];
const kinds = parseHeadMix(DEFAULT_HEAD_MIX, hq);
const lay = layoutFor(d);
const slashEnd = lay.pairStart + 2 * lay.slashPairs;
const bandEnd = slashEnd + 2 * lay.localPairs;
const keyAmplitude = (L) => Math.sqrt(Math.max(1, Math.log(L)) * Math.sqrt(d));
const jitter = (seed, h) => HEAD_OFFSET_JITTER * (2 * unitFromHash(hashKey(seed, Stream.headJitter, h)) - 1);

/** Puts back into version-2 K and q what the chosen --v1-* flags name. */
function restoreV1(seed, L, k, q) {
  const kAmp = keyAmplitude(L);
  if (flag('v1-sink-keys')) {
    for (let g = 0; g < hkv; g++) {
      for (let j = 0; j < SINK_KEY_WEIGHTS.length; j++) {
        for (let f = 0; f < lay.omegas.length; f++) {
          const amp = kAmp * Math.sqrt(f < lay.slashPairs ? 1 / lay.slashPairs : 1 / lay.localPairs);
          const row = (g * L + j) * d + lay.pairStart + 2 * f;
          k[row] = amp * Math.cos(lay.omegas[f] * j);
          k[row + 1] = amp * Math.sin(lay.omegas[f] * j);
        }
      }
    }
  }
  const unit = Math.sqrt(d) / kAmp; // one nat of a structured score, in query units
  for (const [h, kind] of kinds.entries()) {
    if (kind !== 'local') continue;
    const offset = PATTERNS.local.local + jitter(seed, h);
    if (flag('v1-band')) {
      const scale = (Math.log(L) + offset) / (Math.log(LOCAL.strengthLength) + offset);
      for (let c = slashEnd; c < bandEnd; c++) q[h * d + c] *= scale;
    }
    if (flag('v1-local-sink')) q[h * d + lay.sinkDim] -= unit;
  }
}

/** Per context: every tile's margin (local max - running max), as the max over a GQA group's heads and per head
 * pattern alone; the first tile, never skipped, counts as visited (+Infinity), as in calibrate. */
const margins = lengths.map((L) => {
  const groups = Array.from({ length: hkv }, () => []);
  const byKind = {};
  const count = flag('v1-pooling') ? sequencesAtLongest : Math.ceil((sequencesAtLongest * lengths.at(-1)) / L);
  for (let seed = 1; seed <= count; seed++) {
    const shape = { numQueryHeads: hq, numKvHeads: hkv, headDim: d };
    const source = syntheticSource({ seed, shape, headPatterns: kinds });
    const { k } = source.keysValues(L);
    const q = source.decodeQuery(L);
    restoreV1(seed, L, k, q);
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
        out[t] = t === 0 ? Number.POSITIVE_INFINITY : localMax - running;
        running = Math.max(running, localMax);
      }
      byKind[kind] ??= [];
      byKind[kind].push(out);
      return out;
    });
    for (let g = 0; g < hkv; g++) {
      const heads = perHead.slice(g * group, (g + 1) * group);
      for (let t = 0; t < tiles; t++) groups[g].push(Math.max(...heads.map((m) => m[t])));
    }
  }
  return { count, groups, byKind };
});

const skipped = (lists, factor, L) => {
  const threshold = Math.log(factor / L);
  let [n, all] = [0, 0];
  for (const list of lists) {
    for (const m of list) n += m < threshold ? 1 : 0;
    all += list.length;
  }
  return n / all;
};
const overall = (i, factor) => margins[i].groups.reduce((a, g) => a + skipped([g], factor, lengths[i]), 0) / hkv;
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const flags = process.argv.slice(2).join(' ');
const counts = margins.map((m) => m.count).join('/');
console.log(`decode, default mix, ${flags || 'workload as shipped'}; sequences ${counts}`);
for (const target of [0.3, 0.5, 0.7]) {
  let best;
  for (let e = 0; e <= 6; e += 0.002) {
    const factor = 10 ** e;
    const miss = Math.max(...lengths.map((_, i) => Math.abs(overall(i, factor) - target)));
    if (!best || miss < best.miss) best = { factor, miss };
  }
  const worst = (100 * best.miss).toFixed(1);
  console.log(`target ${pct(target)}: factor ${best.factor.toFixed(1)}, worst miss ${worst} points`);
  for (const [i, L] of lengths.entries()) {
    const groups = margins[i].groups.map((g) => pct(skipped([g], best.factor, L))).join(' / ');
    const alone = Object.entries(margins[i].byKind)
      .map(([kind, lists]) => `${kind} ${pct(skipped(lists, best.factor, L))}`)
      .join(', ');
    const context = `${L / 1024}K`.padStart(4);
    console.log(`  ${context}  ${pct(overall(i, best.factor)).padStart(6)}  groups ${groups}  alone: ${alone}`);
  }
}
