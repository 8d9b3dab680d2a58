/**
 * `skipbench project`: flags become options (errors name the flag), files are read when it runs, and it prints and
 * writes the projection. Also `report --project`. Parsed through a bare commander program with registerProject,
 * exactly as harness/cli.ts registers it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  type ProjectCommand,
  parseEfficiency,
  parsePhaseValues,
  parseProjectSpec,
  projectionSectionFor,
  registerProject,
  resolveProjectConfig,
  runProject,
} from '../../../harness/commands/project.js';
import { ErrorCodes } from '../../../kernels/errors.js';
import { PROJECTION_SCHEMA } from '../../../reports/projection/project.js';
import { sampleResult } from './fixtures.js';

function parse(args: string[]): ProjectCommand | undefined {
  let parsed: ProjectCommand | undefined;
  const program = new Command('skipbench');
  registerProject(program, (c) => {
    parsed = c;
  });
  for (const c of [program, ...program.commands]) {
    c.exitOverride();
    c.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  }
  program.parse(args, { from: 'user' });
  return parsed;
}

function fails(args: string[]): { code?: string; field?: string } {
  try {
    parse(args);
  } catch (error) {
    return error as { code?: string; field?: string };
  }
  throw new Error('expected a parse error');
}

describe('skipbench project: parsing', () => {
  it('takes the example from the issue, with defaults for the rest', () => {
    const c = parse(['project', '--model', 'llama-3.3-70b', '--gpu', 'h100', '--tp', '4', '--results', 'kernel.json'])!;
    expect(c.name).toBe('project');
    expect(c.options).toMatchObject({
      model: 'llama-3.3-70b',
      gpu: 'h100',
      tp: 4,
      batch: 1,
      contexts: [8192, 32768, 131072],
      phases: ['prefill', 'decode'],
      sparsity: { prefill: 0.5, decode: 0.5 },
      kernelSpeedup: {},
      results: 'kernel.json',
      efficiency: { compute: 0.6, bandwidth: 0.8, attentionCompute: 0.6, attentionBandwidth: 0.8 },
      allReduce: true,
      overheadMs: { prefill: 0, decode: 0 },
    });
    expect(c.format).toBe('table');
    expect(c.outDir).toBe('results');
  });

  it('parses per-phase values, efficiency, overhead, contexts and switches', () => {
    const c = parse([
      'project',
      '--model',
      'qwen3-30b-a3b',
      '--gpu',
      'H200',
      '--contexts',
      '130000,64K',
      '--sparsity',
      'prefill=0.9',
      '--kernel-speedup',
      'decode=1.2',
      '--efficiency',
      'compute=0.7,attention-bandwidth=0.9',
      '--overhead',
      'decode=4.4',
      '--no-allreduce',
      '--batch',
      '16',
      '--format',
      'markdown',
      '--out',
      '/tmp/x',
      '--phases',
      'decode',
    ])!;
    expect(c.options).toMatchObject({
      contexts: [130000, 65536],
      phases: ['decode'],
      sparsity: { prefill: 0.9, decode: 0.5 },
      kernelSpeedup: { decode: 1.2 },
      efficiency: { compute: 0.7, bandwidth: 0.8, attentionCompute: 0.7, attentionBandwidth: 0.9 },
      overheadMs: { prefill: 0, decode: 4.4 },
      allReduce: false,
      batch: 16,
    });
    expect(c.format).toBe('markdown');
    expect(
      parse(['project', '--model', 'llama-3.1-8b', '--gpu', 'b200', '--sparsity', '0.3'])!.options.sparsity,
    ).toEqual({ prefill: 0.3, decode: 0.3 });
  });

  it('rejects bad input naming the flag', () => {
    expect(fails(['project', '--model', 'gpt-5', '--gpu', 'h100'])).toMatchObject({
      code: ErrorCodes.CONFIG,
      field: '--model',
    });
    expect(fails(['project', '--model', 'llama-3.1-8b', '--gpu', 'a100'])).toMatchObject({
      code: ErrorCodes.CONFIG,
      field: '--gpu',
    });
    expect(fails(['project', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--tp', '0'])).toMatchObject({
      field: '--tp',
    });
    expect(fails(['project', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--sparsity', 'prefill=1.5'])).toMatchObject({
      field: '--sparsity prefill',
    });
    expect(fails(['project', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--sparsity', 'verify=0.5'])).toMatchObject({
      field: '--sparsity',
    });
    expect(fails(['project', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--efficiency', 'speed=0.5'])).toMatchObject({
      field: '--efficiency',
    });
    expect(fails(['project', '--model', 'llama-3.1-8b', '--gpu', 'h100', '--contexts', '8K,x'])).toMatchObject({
      field: '--contexts',
    });
    expect(fails(['project', '--gpu', 'h100'])).toMatchObject({ code: 'commander.missingMandatoryOptionValue' });
  });

  it('helpers: phase values and efficiency', () => {
    expect(parsePhaseValues('--x', 'prefill=1,decode=2', 0, 10)).toEqual({ prefill: 1, decode: 2 });
    expect(parseEfficiency('bandwidth=0.9')).toEqual({
      compute: 0.6,
      bandwidth: 0.9,
      attentionCompute: 0.6,
      attentionBandwidth: 0.9,
    });
    expect(() => parseEfficiency('compute=0')).toThrow(expect.objectContaining({ field: '--efficiency compute' }));
  });
});

describe('skipbench project: running', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skb-project-'));

  it('reads a custom model and GPU file, prints the table and writes JSON and Markdown', async () => {
    const model = join(dir, 'model.json');
    const gpu = join(dir, 'gpu.json');
    writeFileSync(
      model,
      JSON.stringify({
        num_hidden_layers: 2,
        hidden_size: 512,
        num_attention_heads: 8,
        num_key_value_heads: 2,
        intermediate_size: 1024,
        vocab_size: 100,
      }),
    );
    writeFileSync(
      gpu,
      JSON.stringify({
        id: 'toy',
        peakFlopsPerSec: { bf16: 1e14 },
        memoryBytesPerSec: 1e12,
        memoryBytes: 1e10,
        linkBytesPerSec: 1e11,
      }),
    );
    const c = parse(['project', '--model', model, '--gpu', gpu, '--contexts', '4K', '--out', dir])!;
    let printed = '';
    let noted = '';
    expect(
      await runProject(
        c,
        (s) => {
          printed += s;
        },
        (s) => {
          noted += s;
        },
      ),
    ).toBe(0);
    expect(printed).toContain('PROJECTED');
    expect(noted).toContain('projection-custom-toy-tp1-b1.json');
    const stem = join(dir, 'projection-custom-toy-tp1-b1');
    const json = JSON.parse(readFileSync(`${stem}.json`, 'utf8'));
    expect(json).toMatchObject({ schema: PROJECTION_SCHEMA, kind: 'projected' });
    expect(json.inputs.model.source).toContain('model.json');
    expect(readFileSync(`${stem}.md`, 'utf8')).toMatch(/^# Projected end-to-end speedup/);
  });

  it('a bad custom file fails with the field named', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ num_hidden_layers: 0 }));
    const c = parse(['project', '--model', bad, '--gpu', 'h100'])!;
    expect(() => resolveProjectConfig(c.options)).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG, field: 'model.num_hidden_layers' }),
    );
    const missing = parse(['project', '--model', join(dir, 'nope.json'), '--gpu', 'h100'])!;
    expect(() => resolveProjectConfig(missing.options)).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG, field: '--model' }),
    );
  });

  it('takes S from a result file per phase; --kernel-speedup wins over it', () => {
    const file = join(dir, 'result.json');
    writeFileSync(file, JSON.stringify(sampleResult()));
    const c = parse([
      'project',
      '--model',
      'llama-3.3-70b',
      '--gpu',
      'h100',
      '--tp',
      '4',
      '--results',
      file,
      '--kernel-speedup',
      'decode=1.3',
    ])!;
    const config = resolveProjectConfig(c.options);
    expect(config.kernelSpeedup.prefill).toMatchObject({ kind: 'measured', arm: 'skip', implementation: 'wasm-simd' });
    expect(config.kernelSpeedup.decode).toEqual({ kind: 'given', speedup: 1.3 });
  });
});

describe('skipbench report --project', () => {
  it('parses model=,gpu=,tp=,batch=', () => {
    expect(parseProjectSpec('model=llama-3.3-70b,gpu=h100,tp=4')).toEqual({
      model: 'llama-3.3-70b',
      gpu: 'h100',
      tp: 4,
      batch: 1,
    });
    expect(() => parseProjectSpec('gpu=h100')).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG, field: '--project' }),
    );
    expect(() => parseProjectSpec('model=x,gpu=h100')).toThrow(expect.objectContaining({ field: '--model' }));
    expect(() => parseProjectSpec('model=llama-3.1-8b,gpu=h100,tp=0')).toThrow(
      expect.objectContaining({ field: '--project tp' }),
    );
  });

  it("builds the section from the result's own contexts and measured speedups", () => {
    const section = projectionSectionFor(
      sampleResult(),
      'r.json',
      parseProjectSpec('model=llama-3.1-8b,gpu=h100'),
      'markdown',
    );
    expect(section).toContain('## Projected end-to-end speedup: Llama 3.1 8B on 1 x H100 SXM 80GB');
    expect(section).toContain('measured median speedup');
    expect(section).toMatch(/\| 4K \| prefill \|/);
    expect(section).toMatch(/\| 64K \| prefill \|/);
    expect(section).toMatch(/\| 16K \| decode \|/);
    expect(
      projectionSectionFor(sampleResult(), 'r.json', parseProjectSpec('model=llama-3.1-8b,gpu=h100'), 'table'),
    ).toContain('PROJECTED');
    expect(() =>
      projectionSectionFor(sampleResult(), 'r.json', parseProjectSpec('model=llama-3.1-8b,gpu=h100'), 'json'),
    ).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG, field: '--project' }));
  });
});
