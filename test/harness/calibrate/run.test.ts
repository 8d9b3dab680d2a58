/** `skipbench calibrate` end to end on a small synthetic workload: the fitted factor is measured, not just predicted. */
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderCalibration, sglangEnv, trtllmYaml } from '../../../harness/calibrate/emit.js';
import {
  type CalibrationResult,
  DECODE_SEQUENCES,
  decisionUnits,
  decodeSequenceCounts,
  driftWarning,
  runCalibration,
  TARGET_TOLERANCE,
} from '../../../harness/calibrate/run.js';
import { parseCli } from '../../../harness/cli.js';
import { CALIBRATION_PREFILL_SAMPLE_FLOPS } from '../../../harness/commands/calibrate.js';
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
  result = await runCalibration(config, [0.3, 0.5, 0.7], { decodeSequences: 4 });
});

/** A small decode-only calibration config (one GQA group of four heads). */
function decodeConfig(contexts: number[]) {
  return resolveKernelConfig({
    contexts,
    numQueryHeads: 4,
    numKvHeads: 1,
    headMix: 'sink:2,vertical,local',
    phases: ['decode'],
  });
}

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
    expect(result.sequences).toEqual({ prefill: [1, 1, 1], decode: [16, 8, 4] });
    const decode = result.phases[1];
    for (const t of decode.targets) {
      for (const x of t.points) expect(x.measured).toBeCloseTo(x.predicted, 12);
    }
  });

  it('one decode sequence is one seed: its tiles are a fraction of the pool', async () => {
    const config = decodeConfig([4096]);
    const lines: string[] = [];
    const one = await runCalibration(config, [0.5], { decodeSequences: 1, onProgress: (l) => lines.push(l) });
    const three = await runCalibration(config, [0.5], { decodeSequences: 3, onProgress: (l) => lines.push(l) });
    expect(one.sequences.decode).toEqual([1]);
    expect(lines[0]).toMatch(/^decode 4096: (\d+) tiles over 1 sequence\(s\)/);
    const tiles = (i: number) => Number(/: (\d+) tiles/.exec(lines[i])![1]);
    const threeAt = lines.findIndex((l) => / over 3 sequence/.test(l));
    expect(tiles(threeAt)).toBe(3 * tiles(0));
    // seed 1 alone and seeds 1-3 pooled disagree on the factor: the pool is not the first seed repeated
    expect(three.phases[0].targets[0].factor).not.toBeCloseTo(one.phases[0].targets[0].factor, 6);
  });

  it('pools more decode sequences at shorter contexts, so that every context pools as many tiles', async () => {
    expect(decodeSequenceCounts([4096, 16384, 65536, 131072], 8)).toEqual([256, 64, 16, 8]);
    expect(decodeSequenceCounts([3000, 128000], 2)).toEqual([86, 2]); // rounded up
    expect(decodeSequenceCounts([8192], 5)).toEqual([5]);
    const config = decodeConfig([1024, 4096]);
    const lines: string[] = [];
    const pooled = await runCalibration(config, [0.5], { decodeSequences: 2, onProgress: (l) => lines.push(l) });
    expect(pooled.sequences.decode).toEqual([8, 2]);
    const progress = /^decode (\d+): (\d+) tiles over (\d+) sequence/;
    const tiles = lines.flatMap((l) => progress.exec(l)?.slice(1).map(Number) ?? []);
    expect(tiles).toEqual([1024, 8 * 16, 8, 4096, 2 * 64, 2]);
    expect(renderCalibration(pooled)).toContain('sequences pooled at 1K/4K: prefill 1/1, decode 8/2');
    const byDefault = await runCalibration(config, [0.5]);
    expect(byDefault.sequences.decode).toEqual([4 * DECODE_SEQUENCES, DECODE_SEQUENCES]);
  });

  it('breaks the measured sparsity down by decision unit: query heads in prefill, GQA groups in decode', () => {
    const [prefill, decode] = result.phases;
    expect(prefill.units).toEqual(['head 0 (sink)', 'head 1 (sink)', 'head 2 (vertical)', 'head 3 (local)']);
    expect(decode.units).toEqual(['KV head 0 (sink, sink, vertical, local)']);
    for (const p of result.phases) {
      for (const x of p.targets.flatMap((t) => t.points)) {
        expect(x.byUnit).toHaveLength(p.units.length);
        // every unit visits the same tiles, so the phase's sparsity is the units' mean
        const mean = x.byUnit.reduce((a, b) => a + b, 0) / x.byUnit.length;
        expect(mean).toBeCloseTo(x.measured, 12);
      }
    }
    // heads differ: the sink heads skip more than the local one at every target
    for (const x of prefill.targets.flatMap((t) => t.points)) expect(x.byUnit[0]).toBeGreaterThan(x.byUnit[3]);
    const text = renderCalibration(result);
    expect(text).toMatch(/by decision unit \(4K \/ 8K \/ 16K\):\n +head 0 \(sink\) +[\d.]+% +[\d.]+% +[\d.]+%/);
  });

  it('warns for every target one factor misses by more than 3 points, and only those', () => {
    for (const p of result.phases) {
      for (const t of p.targets) {
        const warned = p.warnings.some((w) => w.startsWith(`${p.phase} target ${t.target}: one factor misses it`));
        expect(warned).toBe(t.maxDeviation > TARGET_TOLERANCE);
      }
    }
  });

  it('names the unit whose sparsity moves most in a drift warning', () => {
    const points = [
      { context: 4096, measured: 0.4, byUnit: [0.15, 0.65] },
      { context: 131072, measured: 0.63, byUnit: [0.66, 0.6] },
    ];
    const text = driftWarning('decode', 0.5, points, ['KV head 0 (sink, local)', 'KV head 1 (slash)']);
    expect(text).toBe(
      'decode target 0.5: one factor misses it by up to 13.0 points (40.0% at 4K, 63.0% at 128K); lambda = factor / L ' +
        'does not hold the sparsity across these contexts on this workload. Moving most: KV head 0 (sink, local) ' +
        '(15.0% at 4K, 66.0% at 128K)',
    );
  });

  it('names units without patterns for captured Q/K/V', () => {
    expect(decisionUnits('decode', 8, 2)).toEqual(['KV head 0', 'KV head 1']);
    expect(decisionUnits('prefill', 2, 1, ['sink', 'local'])).toEqual(['head 0 (sink)', 'head 1 (local)']);
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

  it('parses --decode-sequences (default DECODE_SEQUENCES) and rejects 0', () => {
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

  it('samples 4x the prefill FLOPs of a timed run unless --prefill-sample-flops says otherwise; kernel keeps its own', () => {
    const calibrate = parseCli(['calibrate', '--target-sparsity', '0.5']);
    const kernel = parseCli(['kernel']);
    const given = parseCli(['calibrate', '--target-sparsity', '0.5', '--prefill-sample-flops', '2e9']);
    if (calibrate?.name !== 'calibrate' || given?.name !== 'calibrate' || kernel?.name !== 'kernel') {
      throw new Error('wrong commands');
    }
    expect(calibrate.config.prefillSampleFlops).toBe(CALIBRATION_PREFILL_SAMPLE_FLOPS);
    expect(kernel.config.prefillSampleFlops).toBe(CALIBRATION_PREFILL_SAMPLE_FLOPS / 4);
    expect(given.config.prefillSampleFlops).toBe(2e9);
  });

  it('rejects a target outside (0, 1)', () => {
    expect(() => parseCli(['calibrate', '--target-sparsity', '1.5'])).toThrow(expect.objectContaining({ code: 'SKB_CONFIG' }));
  });
});
