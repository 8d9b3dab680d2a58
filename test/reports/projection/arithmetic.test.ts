/** FLOPs, bytes, roofline and Amdahl against hand-computed cases (tiny model: h 64, Hq 4, Hkv 2, d 16, FFN 128). */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../kernels/errors.js';
import { theoryBound } from '../../../reports/comparison.js';
import {
  allReduceBytes,
  allReduceMs,
  amdahl,
  attentionWork,
  expertsTouched,
  headsPerGpu,
  layerWeights,
  linearWork,
  lmHeadWork,
  memoryPerGpu,
  requiredKernelSpeedup,
  roofline,
} from '../../../reports/projection/model.js';
import { FULL_EFFICIENCY, ROUND_GPU, TINY, TINY_MOE } from './fixtures.js';

describe('attention FLOPs and bytes', () => {
  it('prefill, causal: 2·Hq·L²·d FLOPs; Q, K, V read and O written once', () => {
    // 2 · 4 · 8² · 16 = 8192; (2·4 + 2·2) · 8 · 16 · 2 bytes = 3072
    expect(attentionWork(TINY, 'prefill', 8, 1, 1)).toEqual({ flops: 8192, bytes: 3072 });
    // batch 3 scales both
    expect(attentionWork(TINY, 'prefill', 8, 3, 1)).toEqual({ flops: 3 * 8192, bytes: 3 * 3072 });
  });

  it('decode at KV length L: 4·Hq·L·d FLOPs; K and V read: 2·L·Hkv·d·b bytes', () => {
    // 4 · 4 · 8 · 16 = 2048; 2 · 8 · 2 · 16 · 2 = 1024
    expect(attentionWork(TINY, 'decode', 8, 1, 1)).toEqual({ flops: 2048, bytes: 1024 });
    // fp8 KV halves the bytes
    expect(attentionWork({ ...TINY, kvDtype: 'fp8' }, 'decode', 8, 1, 1).bytes).toBe(512);
  });

  it('tensor parallel: heads split, KV heads replicated past Hkv', () => {
    expect(headsPerGpu(TINY, 2)).toEqual({ query: 2, kv: 1 });
    expect(headsPerGpu(TINY, 4)).toEqual({ query: 1, kv: 1 });
    // tp 2: 2 · 2 · 64 · 16 = 4096 FLOPs; (2·2 + 2·1) · 8 · 16 · 2 = 1536 bytes
    expect(attentionWork(TINY, 'prefill', 8, 1, 2)).toEqual({ flops: 4096, bytes: 1536 });
    // tp 4: one KV head per GPU (replicated): decode reads 2 · 8 · 1 · 16 · 2 = 512
    expect(attentionWork(TINY, 'decode', 8, 1, 4).bytes).toBe(512);
  });

  it('rejects a tp that does not split the heads, naming tp', () => {
    expect(() => headsPerGpu(TINY, 3)).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG, field: 'tp' }));
    expect(() => headsPerGpu({ ...TINY, numQueryHeads: 12, numKvHeads: 4 }, 6)).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG, field: 'tp' }),
    );
  });
});

describe('linear layers, LM head, all-reduce', () => {
  it('dense: projections 4·64·64 = 12288 weights (q, o 64x64; k, v 64x32), FFN 3·64·128 = 24576', () => {
    expect(layerWeights(TINY, 1)).toEqual({ attentionProjections: 12288, ffnAlwaysOn: 24576, expert: 0 });
    // prefill, 8 tokens: 2 · 36864 · 8 = 589824 FLOPs; weights read once: 36864 · 2 = 73728 bytes
    expect(linearWork(TINY, 'prefill', 8, 1, 1)).toEqual({ flops: 589824, bytes: 73728 });
    // decode, one token: 2 · 36864 = 73728 FLOPs, same weight bytes
    expect(linearWork(TINY, 'decode', 8, 1, 1)).toEqual({ flops: 73728, bytes: 73728 });
    // tp 2: q, o 64x32 each, k, v 64x16 each -> 6144; FFN 12288
    expect(layerWeights(TINY, 2)).toEqual({ attentionProjections: 6144, ffnAlwaysOn: 12288, expert: 0 });
  });

  it('MoE: k experts of compute per token, the experts touched read once', () => {
    // router 64 · 8 = 512; expert 3 · 64 · 32 = 6144
    expect(layerWeights(TINY_MOE, 1)).toEqual({ attentionProjections: 12288, ffnAlwaysOn: 512, expert: 6144 });
    expect(expertsTouched(8, 2, 1)).toBeCloseTo(2, 12);
    expect(expertsTouched(8, 2, 2)).toBeCloseTo(8 * (1 - 0.75 ** 2), 12); // 3.5
    expect(expertsTouched(8, 2, 10_000)).toBeCloseTo(8, 9);
    // decode, batch 1: active = 12288 + 512 + 2 · 6144 = 25088 -> 50176 FLOPs and bytes
    expect(linearWork(TINY_MOE, 'decode', 8, 1, 1)).toEqual({ flops: 50176, bytes: 50176 });
    // decode, batch 2: FLOPs double, bytes cover 3.5 experts
    const two = linearWork(TINY_MOE, 'decode', 8, 2, 1);
    expect(two.flops).toBe(100352);
    expect(two.bytes).toBeCloseTo((12288 + 512 + 3.5 * 6144) * 2, 6);
  });

  it('LM head: 2·h·V/tp FLOPs per sequence, h·V/tp weights read once', () => {
    expect(lmHeadWork(TINY, 1, 1)).toEqual({ flops: 12800, bytes: 12800 });
    expect(lmHeadWork(TINY, 2, 2)).toEqual({ flops: 12800, bytes: 6400 });
  });

  it('all-reduce: two per layer, ring moves 2(t-1)/t of tokens·h·b', () => {
    expect(allReduceBytes(TINY, 'prefill', 8, 1, 1)).toBe(0);
    // tp 2, 8 tokens: payload 8 · 64 · 2 = 1024; 2 · (2·1/2) · 1024 = 2048
    expect(allReduceBytes(TINY, 'prefill', 8, 1, 2)).toBe(2048);
    // tp 4, decode batch 1: payload 128; 2 · 1.5 · 128 = 384
    expect(allReduceBytes(TINY, 'decode', 8, 1, 4)).toBe(384);
    // 2048 bytes over 10 GB/s (one direction of 20) = 2.048e-7 s
    expect(allReduceMs(2048, ROUND_GPU, FULL_EFFICIENCY)).toBeCloseTo(2.048e-4, 12);
  });

  it('memory per GPU: weights (layers + untied embeddings) and the KV cache', () => {
    // weights: 2 · 36864 + 2 · 64 · 100 = 86528 elements · 2 bytes; KV: 2 layers · 2 · 8 · 2 · 16 · 2 = 2048
    expect(memoryPerGpu(TINY, 8, 1, 1)).toEqual({ weightsBytes: 173056, kvBytes: 2048 });
    expect(memoryPerGpu({ ...TINY, tieWordEmbeddings: true }, 8, 1, 1).weightsBytes).toBe(173056 - 12800);
  });
});

describe('roofline', () => {
  it('takes the slower of compute and memory, scaled by the efficiency', () => {
    // 1e9 FLOPs at 1 TFLOP/s = 1 ms; 1e9 bytes at 100 GB/s = 10 ms
    const t = roofline({ flops: 1e9, bytes: 1e9 }, 1e12, 1e11, 1, 1);
    expect(t).toMatchObject({ computeMs: 1, memoryMs: 10, ms: 10, bound: 'bandwidth' });
    // at half the compute efficiency and 100 GFLOPs: 200 ms compute-bound
    const c = roofline({ flops: 1e11, bytes: 1e9 }, 1e12, 1e11, 0.5, 1);
    expect(c).toMatchObject({ computeMs: 200, ms: 200, bound: 'compute' });
  });
});

describe("Amdahl's law and the theory bound", () => {
  it('f = 0 -> 1, S = 1 -> 1, f = 1 -> S', () => {
    expect(amdahl(0, 1.7)).toBe(1);
    expect(amdahl(0.6, 1)).toBe(1);
    expect(amdahl(1, 1.7)).toBeCloseTo(1.7, 12);
  });

  it('f = 0.5, S = 2 -> 4/3; f = 0.9, S = 2 -> 1/0.55', () => {
    expect(amdahl(0.5, 2)).toBeCloseTo(4 / 3, 12);
    expect(amdahl(0.9, 2)).toBeCloseTo(1 / 0.55, 12);
  });

  it('required kernel speedup inverts Amdahl, Infinity past 1/(1-f)', () => {
    expect(requiredKernelSpeedup(0.5, 4 / 3)).toBeCloseTo(2, 12);
    expect(amdahl(0.8, requiredKernelSpeedup(0.8, 1.36))).toBeCloseTo(1.36, 12);
    expect(requiredKernelSpeedup(0.5, 2)).toBe(Number.POSITIVE_INFINITY);
  });

  it('theory bound 2/(2-s): 1 at s = 0, 4/3 at 0.5, 2/1.1 at 0.9', () => {
    expect(theoryBound(0)).toBe(1);
    expect(theoryBound(0.5)).toBeCloseTo(4 / 3, 12);
    expect(theoryBound(0.9)).toBeCloseTo(2 / 1.1, 12);
  });
});
