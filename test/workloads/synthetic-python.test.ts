/**
 * The GPU runner generates its workload with workloads/patterns/synthetic.py, a port of synthetic.ts. Run the port
 * on numpy (no GPU needed) and require the very same float32 values as the TypeScript generator, so that GPU and CPU
 * results describe one workload.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../harness/paths.js';
import { parseHeadMix, syntheticSource } from '../../workloads/index.js';
import { readNpy } from '../../workloads/npy.js';

const python = process.env.SKIPBENCH_PYTHON ?? 'python3';
const hasNumpy = spawnSync(python, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

const SCRIPT = `
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from workloads.patterns.synthetic import NumpyOps, SyntheticWorkload
seed, hkv, d, length, out = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[7]
patterns = sys.argv[6].split(',')
w = SyntheticWorkload(NumpyOps(), seed, patterns, hkv, d)
for g in range(hkv):
    k, v = w.keys_values(length, g)
    np.save(f'{out}/k{g}.npy', k)
    np.save(f'{out}/v{g}.npy', v)
for h in range(len(patterns)):
    np.save(f'{out}/q{h}.npy', w.queries(length, h, length // 3, length // 3 + 70))
`;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe.skipIf(!hasNumpy)(`synthetic.py (${python} with numpy) matches synthetic.ts`, () => {
  for (const [seed, mix, hq, hkv, d, length] of [
    [7, 'sink:2,local:2,vertical,slash,retrieval,random', 8, 2, 128, 3000],
    [123456789, 'retrieval,sink,slash,local', 4, 1, 64, 5000],
  ] as const) {
    it(`seed ${seed}, d=${d}, L=${length}: K, V and query rows agree element for element`, () => {
      const out = mkdtempSync(join(tmpdir(), 'skipbench-pyparity-'));
      const patterns = parseHeadMix(mix, hq);
      execFileSync(python, ['-c', SCRIPT, packageRoot(), `${seed}`, `${hkv}`, `${d}`, `${length}`, patterns.join(','), out]);
      const src = syntheticSource({ seed, shape: { numQueryHeads: hq, numKvHeads: hkv, headDim: d }, headPatterns: patterns });
      const { k, v } = src.keysValues(length);
      const start = Math.floor(length / 3);
      const q = src.queries(length, [[start, start + 70]]);
      const load = (name: string) => readNpy(readFileSync(join(out, `${name}.npy`))).data as Float32Array;
      const plane = length * d;
      for (let g = 0; g < hkv; g++) {
        expect(maxAbsDiff(load(`k${g}`), k.subarray(g * plane, (g + 1) * plane))).toBeLessThan(1e-5);
        expect(maxAbsDiff(load(`v${g}`), v.subarray(g * plane, (g + 1) * plane))).toBeLessThan(1e-5);
      }
      for (let h = 0; h < hq; h++) {
        expect(maxAbsDiff(load(`q${h}`), q.subarray(h * 70 * d, (h + 1) * 70 * d))).toBeLessThan(1e-5);
      }
    });
  }
});
