/** `skipbench calibrate` end to end on a small synthetic workload: the fitted factor is measured, not just predicted. */
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sglangEnv, trtllmYaml } from '../../../harness/calibrate/emit.js';
import { type CalibrationResult, DECODE_SEQUENCES, runCalibration } from '../../../harness/calibrate/run.js';
import { parseCli } from '../../../harness/cli.js';
import { resolveKernelConfig } from '../../../harness/kernel/config.js';

let result: CalibrationResult;

beforeAll(async () => {
  const config = resolveKernelConfig({
    contexts: [4096, 8192, 16384],
    numQueryHeads: 4,
    numKvHeads: 1,
    headMix: 'sink:2,vertical,local',
    threads: 2,
    fullPrefillMax: 4096,
    prefillSampleFlops: 1e9,
  });
  result = await runCalibration(config, [0.3, 0.5, 0.7]);
});

describe('runCalibration', () => {
  it('fits one factor per (phase, target) and measures it at every context', () => {
    expect(result.phases.map((p) => p.phase)).toEqual(['prefill', 'decode']);
    const prefill = result.phases[0];
    expect(prefill.targets.map((t) => t.target)).toEqual([0.3, 0.5, 0.7]);
    for (const t of prefill.targets) {
      expect(t.factor).toBeGreaterThan(0);
      expect(t.points.map((x) => x.context)).toEqual([4096, 8192, 16384]);
      for (const x of t.points) {
        // the margins predict the kernel's own decisions exactly
        expect(x.measured).toBeCloseTo(x.predicted, 12);
        expect(x.relativeError).toBeGreaterThanOrEqual(0);
      }
    }
    // a higher target needs a higher factor, and skips more
    const factors = prefill.targets.map((t) => t.factor);
    expect(factors[0]).toBeLessThan(factors[1]);
    expect(factors[1]).toBeLessThan(factors[2]);
    expect(prefill.exponential?.b).toBeGreaterThan(0);
  });

  it('prefill lands near each target across contexts (lambda = a / L holds)', () => {
    for (const t of result.phases[0].targets) expect(t.maxDeviation).toBeLessThan(0.1);
  });

  it('pools the decode margins of several sequences, and measures the fitted factor on the same pool', () => {
    expect(result.sequences).toEqual({ prefill: 1, decode: DECODE_SEQUENCES });
    const decode = result.phases[1];
    for (const t of decode.targets) {
      for (const x of t.points) expect(x.measured).toBeCloseTo(x.predicted, 12);
    }
  });

  it('one decode sequence is one seed: its tiles are a fraction of the pool', async () => {
    const config = resolveKernelConfig({
      contexts: [4096],
      numQueryHeads: 4,
      numKvHeads: 1,
      headMix: 'sink:2,vertical,local',
      phases: ['decode'],
    });
    const lines: string[] = [];
    const one = await runCalibration(config, [0.5], { decodeSequences: 1, onProgress: (l) => lines.push(l) });
    const three = await runCalibration(config, [0.5], { decodeSequences: 3, onProgress: (l) => lines.push(l) });
    expect(one.sequences.decode).toBe(1);
    expect(lines[0]).toMatch(/^decode 4096: (\d+) tiles over 1 sequence\(s\)/);
    const tiles = (i: number) => Number(/: (\d+) tiles/.exec(lines[i])![1]);
    const threeAt = lines.findIndex((l) => / over 3 sequence/.test(l));
    expect(tiles(threeAt)).toBe(3 * tiles(0));
    // seed 1 alone and seeds 1-3 pooled disagree on the factor: the pool is not the first seed repeated
    expect(three.phases[0].targets[0].factor).not.toBeCloseTo(one.phases[0].targets[0].factor, 6);
  });

  it('warns past 60% sparsity', () => {
    expect(result.phases[0].warnings.some((w) => /target 0.7/.test(w))).toBe(true);
  });

  it('emits TensorRT-LLM YAML that parses back to the fitted factors, and SGLang variables', () => {
    const yaml = parse(trtllmYaml(result, 0.5));
    expect(yaml.sparse_attention_config.algorithm).toBe('skip_softmax');
    expect(yaml.sparse_attention_config.threshold_scale_factor.prefill).toBeCloseTo(result.phases[0].targets[1].factor, 6);
    expect(yaml.sparse_attention_config.threshold_scale_factor.decode).toBeCloseTo(result.phases[1].targets[1].factor, 6);
    const env = sglangEnv(result, 0.5);
    expect(env).toMatch(/^SGLANG_SKIP_SOFTMAX_PREFILL_THRESHOLD_SCALE_FACTOR=\d/m);
    expect(env).toMatch(/^SGLANG_SKIP_SOFTMAX_DECODE_THRESHOLD_SCALE_FACTOR=\d/m);
  });
});

describe('skipbench calibrate flags', () => {
  it('parses targets and phases', () => {
    const command = parseCli(['calibrate', '--target-sparsity', '0.5,0.3', '--phase', 'decode', '--contexts', '4K']);
    if (command?.name !== 'calibrate') throw new Error('not calibrate');
    expect(command.targets).toEqual([0.3, 0.5]);
    expect(command.config.phases).toEqual(['decode']);
  });

  it('parses --decode-sequences (default 8) and rejects 0', () => {
    const defaults = parseCli(['calibrate', '--target-sparsity', '0.5']);
    if (defaults?.name !== 'calibrate') throw new Error('not calibrate');
    expect(defaults.decodeSequences).toBe(DECODE_SEQUENCES);
    const two = parseCli(['calibrate', '--target-sparsity', '0.5', '--decode-sequences', '2']);
    if (two?.name !== 'calibrate') throw new Error('not calibrate');
    expect(two.decodeSequences).toBe(2);
    expect(() => parseCli(['calibrate', '--target-sparsity', '0.5', '--decode-sequences', '0'])).toThrow(
      expect.objectContaining({ code: 'SKB_CONFIG' }),
    );
  });

  it('rejects a target outside (0, 1)', () => {
    expect(() => parseCli(['calibrate', '--target-sparsity', '1.5'])).toThrow(expect.objectContaining({ code: 'SKB_CONFIG' }));
  });
});
