/**
 * `skipbench kernel --backend gpu`: the flags (parseCli, pure), the GPU defaults for every flag not given, the
 * validation, and the built CLI (dist/harness/cli.js, needs `npm run build`) driving the fake runner.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KernelCommand, parseCli } from '../../../harness/cli.js';
import { GPU_DEFAULTS, GPU_HEAD_MIX } from '../../../harness/gpu/defaults.js';
import { resolveKernelConfig } from '../../../harness/kernel/config.js';
import { KERNEL_DEFAULTS } from '../../../harness/kernel/defaults.js';
import { ErrorCodes } from '../../../kernels/errors.js';
import { onlyRunFolder } from '../../helpers/run-folder.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FAKE = join(ROOT, 'test/fixtures/fake-gpu-runner.mjs');

function parse(args: string[]): {
  command?: KernelCommand;
  error?: { code?: string; field?: string; message?: string };
} {
  try {
    return { command: parseCli(['kernel', ...args], { writeOut: () => {}, writeErr: () => {} }) as KernelCommand };
  } catch (error) {
    return { error: error as { code?: string; field?: string } };
  }
}

function gpu(...args: string[]) {
  const { command, error } = parse(['--backend', 'gpu', ...args]);
  if (error) throw error;
  return command!.config;
}

describe('parseCli kernel --backend gpu', () => {
  it('the GPU defaults apply to every flag not given', () => {
    const c = gpu();
    expect(c).toEqual(resolveKernelConfig({ backend: 'gpu' }));
    expect(c).toMatchObject({
      backend: 'gpu',
      contexts: [32768, 65536, 131072],
      phases: ['prefill', 'decode'],
      numQueryHeads: 32,
      numKvHeads: 8,
      headDim: 128,
      headMix: GPU_HEAD_MIX,
      blockM: 64,
      blockN: 128,
      decodeBlockN: 64,
      partitions: 1,
      warmup: 2,
      reps: 15,
      minSampleMs: 0,
      prefillFactors: [25, 80, 500],
      decodeFactors: [25, 80, 250],
      python: 'python3',
      batch: 32,
      anchors: ['sdpa-flash', 'sdpa-cudnn'],
      tolerance: 0.02,
      prefillKernel: 'auto',
    });
    expect(c.gpuRunner).toBeUndefined();
    expect(GPU_HEAD_MIX.split(',')).toHaveLength(24);
    expect(c.contexts).toEqual(GPU_DEFAULTS.contexts);
  });

  it('the CPU backend keeps its own defaults', () => {
    const { command } = parse([]);
    expect(command!.config.backend).toBe('cpu');
    expect(command!.config.contexts).toEqual(KERNEL_DEFAULTS.contexts);
    expect(command!.config.numQueryHeads).toBe(KERNEL_DEFAULTS.numQueryHeads);
  });

  it('flags given override the GPU defaults, also when they equal the CPU defaults', () => {
    const c = gpu(
      '--contexts',
      '4K,8K',
      '--query-heads',
      '8',
      '--kv-heads',
      '2',
      '--head-mix',
      KERNEL_DEFAULTS.headMix,
      '--reps',
      '5',
      '--warmup',
      '1',
      '--partitions',
      '4',
      '--python',
      '/opt/venv/bin/python',
      '--gpu-runner',
      '/tmp/runner.py',
      '--batch',
      '4',
      '--anchors',
      'sdpa-flash',
      '--tolerance',
      '0.05',
      '--prefill-factor',
      '50,200',
      '--decode-factor',
      '60,250',
      '--prefill-kernel',
      'triton',
    );
    expect(c).toMatchObject({
      contexts: [4096, 8192],
      numQueryHeads: 8,
      numKvHeads: 2,
      headMix: KERNEL_DEFAULTS.headMix,
      reps: 5,
      warmup: 1,
      partitions: 4,
      python: '/opt/venv/bin/python',
      gpuRunner: '/tmp/runner.py',
      batch: 4,
      anchors: ['sdpa-flash'],
      tolerance: 0.05,
      prefillFactors: [50, 200],
      decodeFactors: [60, 250],
      prefillKernel: 'triton',
      // not given: still the GPU defaults
      minSampleMs: 0,
      decodeBlockN: 64,
    });
    expect(gpu('--anchors', 'none').anchors).toEqual([]);
  });

  it.each([
    [['--anchors', 'sdpa-mem'], '--anchors'],
    [['--anchors', 'sdpa-flash,sdpa-flash'], '--anchors'],
    [['--batch', '0'], '--batch'],
    [['--tolerance', '0'], '--tolerance'],
    [['--tolerance', '2'], '--tolerance'],
    [['--qkv', '/tmp/captured'], '--qkv'],
    [['--tolerance', '1'], '--tolerance'],
    [['--partitions', 'auto'], '--partitions'],
    [['--partitions', '12'], '--partitions'],
    [['--block-n', '512'], '--block-n'],
    [['--contexts', '8'], '--contexts'],
    [['--block-n', '48'], '--block-n'],
    [['--decode-block', '16', '--block-m', '8'], '--block-m'],
  ])('%j -> SKB_CONFIG naming %s', (args, field) => {
    const { error } = parse(['--backend', 'gpu', ...args]);
    expect(error).toMatchObject({ code: ErrorCodes.CONFIG, field });
    expect(error!.message).toMatch(new RegExp(`^${field} must be`));
  });

  it('--qkv with --backend gpu says it is not supported yet', () => {
    expect(parse(['--backend', 'gpu', '--qkv', '/tmp/captured']).error!.message).toMatch(
      /not supported on the GPU yet/,
    );
  });

  it('an unknown backend or prefill kernel is refused by the flag parser', () => {
    expect(parse(['--backend', 'tpu']).error).toMatchObject({ code: 'commander.invalidArgument' });
    expect(parse(['--backend', 'gpu', '--prefill-kernel', 'cuda']).error).toMatchObject({
      code: 'commander.invalidArgument',
    });
  });
});

describe('the built CLI with --backend gpu and the fake runner', () => {
  let dir: string;
  const cli = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'dist/harness/cli.js'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ...env },
    });
  const kernel = (env: Record<string, string>, ...args: string[]) =>
    cli(env, 'kernel', '--backend', 'gpu', '--gpu-runner', FAKE, '--out', dir, '--quiet', ...args);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'skipbench-gpu-cli-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes result.json and summary.md; report renders them as markdown and html', () => {
    const run = kernel({}, '--python', process.execPath, '--contexts', '1K,2K', '--reps', '3', '--prefill-factor', '100', '--decode-factor', '150');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const { resultPath, summaryPath, result } = onlyRunFolder(dir);
    expect(result.run.status).toBe('completed');
    expect(result.target.implementation).toBe('triton-gpu');
    expect(result.target.device?.name).toBe('Fake H100');
    expect(result.cells).toHaveLength(2 * (4 + 3));
    expect(run.stdout).toMatch(/^1K\s+prefill\s+skip\s/m);
    expect(run.stdout).toMatch(/^2K\s+decode\s+sdpa-flash\s/m);

    const markdown = cli({}, 'report', resultPath);
    expect(markdown.status, markdown.stderr).toBe(0);
    expect(markdown.stdout).toBe(readFileSync(summaryPath, 'utf8'));
    const html = cli({}, 'report', resultPath, '--format', 'html');
    expect(html.status, html.stderr).toBe(0);
    expect(html.stdout).toContain('Dense vs torch SDPA');
  });

  it('a missing python executable: exit 2 with SKB_GPU_UNAVAILABLE naming it', () => {
    const run = kernel({}, '--python', '/no/such/python3', '--contexts', '1K');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(ErrorCodes.GPU_UNAVAILABLE);
    expect(run.stderr).toContain('/no/such/python3');
  });

  it('torch missing: exit 2 with the runner message naming torch', () => {
    const run = kernel({ FAKE_GPU_MODE: 'no-torch' }, '--python', process.execPath, '--contexts', '1K');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/torch is not installed .*SKB_GPU_UNAVAILABLE/);
  });
});
