/**
 * The command line: `parseCli` (pure) for every flag and error, and the built CLI (dist/harness/cli.js, needs
 * `npm run build`) run as a child process on a tiny configuration.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../kernels/errors.js';
import { type KernelCommand, parseCli, type ReportCommand } from '../../harness/cli.js';
import { resolveKernelConfig } from '../../harness/kernel/config.js';
import { KERNEL_DEFAULTS } from '../../harness/kernel/defaults.js';
import { RESULT_SCHEMA, RESULT_SCHEMA_VERSION } from '../../reports/schema.js';
import { onlyRunFolder } from '../helpers/run-folder.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Parses with commander's output captured, so nothing reaches the terminal. */
function parse(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let error: unknown;
  let command: ReturnType<typeof parseCli>;
  try {
    command = parseCli(args, { writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  } catch (e) {
    error = e;
  }
  return { command, error, out: out.join(''), err: err.join('') };
}

function kernel(...args: string[]): KernelCommand {
  const { command, error } = parse(['kernel', ...args]);
  if (error) throw error;
  expect(command?.name).toBe('kernel');
  return command as KernelCommand;
}

function kernelError(...args: string[]): { code?: string; field?: string } {
  const { error } = parse(['kernel', ...args]);
  expect(error, `kernel ${args.join(' ')} should fail`).toBeDefined();
  return error as { code?: string; field?: string };
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ');

describe('parseCli kernel: values', () => {
  it('defaults equal the resolved default configuration', () => {
    const c = kernel();
    expect(c.config).toEqual(resolveKernelConfig());
    expect(c.quiet).toBe(false);
    expect(c.refreshCeilings).toBe(false);
    expect(c.cacheDir).toMatch(/skipbench$/);
  });

  it.each([
    ['4096', [4096]],
    ['4K', [4096]],
    ['128k', [131072]],
    ['1.5K', [1536]],
    ['1K, 2K,4k', [1024, 2048, 4096]],
    ['256,1K,256', [256, 1024]],
    ['64K,1K', [1024, 65536]],
  ])('--contexts %s', (text, expected) => {
    expect(kernel('--contexts', text).config.contexts).toEqual(expected);
  });

  it('--phases', () => {
    expect(kernel('--phases', 'decode').config.phases).toEqual(['decode']);
    expect(kernel('--phases', 'decode,prefill').config.phases).toEqual(['decode', 'prefill']);
  });

  it('--prefill-factor and --decode-factor lists', () => {
    const c = kernel('--prefill-factor', '100,200.5', '--decode-factor', '0').config;
    expect(c.prefillFactors).toEqual([100, 200.5]);
    expect(c.decodeFactors).toEqual([0]);
  });

  it('--impl choices', () => {
    expect(kernel('--impl', 'reference').config.implementation).toBe('reference');
    expect(kernel('--impl', 'wasm').config.implementation).toBe('wasm');
  });

  it('--partitions auto | n', () => {
    expect(kernel('--partitions', 'auto').config.partitions).toBe('auto');
    expect(kernel('--partitions', '3').config.partitions).toBe(3);
  });

  it('every other flag reaches the config', () => {
    const c = kernel(
      '--query-heads',
      '4',
      '--kv-heads',
      '1',
      '--head-dim',
      '64',
      '--head-mix',
      'sink,local:3',
      '--seed',
      '9',
      '--block-m',
      '32',
      '--block-n',
      '64',
      '--decode-block',
      '32',
      '--full-prefill-max',
      '8K',
      '--prefill-sample-flops',
      '1e9',
      '--warmup',
      '0',
      '--reps',
      '5',
      '--min-sample-ms',
      '0',
      '--threads',
      '1',
      '--max-foreign-load',
      '0.5',
      '--out',
      '/tmp/results',
      '--qkv',
      '/tmp/qkv',
      '--refresh-ceilings',
      '--cache-dir',
      '/tmp/cache',
      '--quiet',
    );
    expect(c.config).toMatchObject({
      numQueryHeads: 4,
      numKvHeads: 1,
      headDim: 64,
      headMix: 'sink,local:3',
      seed: 9,
      blockM: 32,
      blockN: 64,
      decodeBlockN: 32,
      fullPrefillMax: 8192,
      prefillSampleFlops: 1e9,
      warmup: 0,
      reps: 5,
      minSampleMs: 0,
      threads: 1,
      maxForeignLoad: 0.5,
      outDir: '/tmp/results',
      qkvDir: '/tmp/qkv',
    });
    expect(c.refreshCeilings).toBe(true);
    expect(c.cacheDir).toBe('/tmp/cache');
    expect(c.quiet).toBe(true);
  });
});

describe('parseCli kernel: errors', () => {
  it.each(['4X', '0', '1.1', '-', 'K', '4KB'])('--contexts %s -> SKB_CONFIG naming --contexts', (text) => {
    expect(kernelError('--contexts', text)).toMatchObject({ code: ErrorCodes.CONFIG, field: '--contexts' });
  });

  it('an empty list names the flag', () => {
    expect(kernelError('--contexts', ',')).toMatchObject({ code: ErrorCodes.CONFIG, field: '--contexts' });
  });

  it('a context past the maximum fails in the config', () => {
    expect(kernelError('--contexts', '1M')).toMatchObject({ code: ErrorCodes.CONFIG, field: '--contexts' });
  });

  it('an unknown phase', () => {
    expect(kernelError('--phases', 'prefill,train')).toMatchObject({ code: ErrorCodes.CONFIG, field: '--phases' });
  });

  it.each([
    [['--prefill-factor=-1'], '--prefill-factor'],
    [['--decode-factor', 'abc'], '--decode-factor'],
    [['--partitions', '0'], '--partitions'],
    [['--partitions', 'many'], '--partitions'],
    [['--reps', '0'], '--reps'],
    [['--warmup', '1.5'], '--warmup'],
    [['--threads', '0'], '--threads'],
    [['--query-heads', '300'], '--query-heads'],
    [['--full-prefill-max', 'lots'], '--full-prefill-max'],
    [['--min-sample-ms', '-5'], '--min-sample-ms'],
    [['--max-foreign-load', 'x'], '--max-foreign-load'],
    [['--seed', '-1'], '--seed'],
  ])('%j -> SKB_CONFIG naming %s', (args, field) => {
    expect(kernelError(...args)).toMatchObject({ code: ErrorCodes.CONFIG, field });
  });

  it('values the flags accept but the configuration refuses name the flag, in the field and the message', () => {
    expect(kernelError('--head-dim', '96')).toMatchObject({ code: ErrorCodes.CONFIG, field: '--head-dim' });
    expect(kernelError('--block-n', '72')).toMatchObject({ code: ErrorCodes.CONFIG, field: '--block-n' });
    expect((kernelError('--block-n', '72') as Error).message).toMatch(/^--block-n must be a multiple of 16/);
    expect(kernelError('--query-heads', '4')).toMatchObject({ code: ErrorCodes.CONFIG, field: '--head-mix' });
  });

  it('commander errors: unknown option, bad choice, missing value', () => {
    const unknown = parse(['kernel', '--nope']);
    expect(unknown.error).toBeInstanceOf(CommanderError);
    expect((unknown.error as CommanderError).code).toBe('commander.unknownOption');
    expect(unknown.err).toContain('--nope');
    const choice = parse(['kernel', '--impl', 'gpu']);
    expect(choice.error).toBeInstanceOf(CommanderError);
    expect((choice.error as CommanderError).code).toBe('commander.invalidArgument');
    expect(choice.err).toContain('gpu');
    const missing = parse(['kernel', '--contexts']);
    expect((missing.error as CommanderError).code).toBe('commander.optionMissingArgument');
    const command = parse(['train']);
    expect(command.error).toBeInstanceOf(CommanderError);
    expect(command.command).toBeUndefined();
  });
});

describe('parseCli help and version', () => {
  it('kernel --help mentions defaults and units', () => {
    const { error, out } = parse(['kernel', '--help']);
    expect((error as CommanderError).code).toBe('commander.helpDisplayed');
    const help = oneLine(out);
    expect(help).toContain('(tokens; K = 1024)');
    expect(help).toContain('default: 1K,2K,4K,8K,16K,32K,64K,128K');
    expect(help).toContain('lambda = factor / L; 0 = dense');
    expect(help).toContain(`(default: ${KERNEL_DEFAULTS.prefillFactors[0]})`);
    expect(help).toContain(`(default: ${KERNEL_DEFAULTS.decodeFactors[0]})`);
    expect(help).toContain('default: prefill,decode');
    expect(help).toContain('--partitions <n|auto>');
    expect(help).toMatch(/choices: "wasm", "reference"/);
    expect(help).toContain('(cores)');
  });

  it('--version prints the package version', () => {
    const { error, out } = parse(['--version']);
    expect((error as CommanderError).code).toBe('commander.version');
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    expect(out.trim()).toBe(version);
  });
});

describe('parseCli report', () => {
  it('files and format', () => {
    const { command } = parse(['report', 'a.json', 'b.json', '--format', 'table']);
    expect(command).toEqual({
      name: 'report',
      files: ['a.json', 'b.json'],
      format: 'table',
      failOnInactive: false,
    } satisfies ReportCommand);
  });

  it('markdown by default', () => {
    expect(parse(['report', 'a.json']).command).toEqual({
      name: 'report',
      files: ['a.json'],
      format: 'markdown',
      failOnInactive: false,
    });
  });

  it('refuses an unknown format and a missing file argument', () => {
    expect((parse(['report', 'a.json', '--format', 'pdf']).error as CommanderError).code).toBe(
      'commander.invalidArgument',
    );
    expect((parse(['report']).error as CommanderError).code).toBe('commander.missingArgument');
  });
});

describe('the built CLI as a child process', () => {
  let dir: string;
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'dist/harness/cli.js'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'skipbench-cli-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('kernel writes result.json and summary.md and prints the table; report renders the same file', () => {
    const run = cli(
      'kernel',
      '--contexts',
      '256',
      '--phases',
      'decode,prefill',
      '--reps',
      '1',
      '--warmup',
      '0',
      '--min-sample-ms',
      '0',
      '--out',
      dir,
      '--cache-dir',
      join(dir, 'cache'),
      '--quiet',
      '--query-heads',
      '2',
      '--kv-heads',
      '1',
      '--head-mix',
      'sink,local',
    );
    expect(run.status, run.stderr).toBe(0);
    const { id, resultPath, summaryPath, result } = onlyRunFolder(dir);
    expect(result.schema).toBe(RESULT_SCHEMA);
    expect(result.schema).toBe('skipbench/result');
    expect(result.schemaVersion).toBe(RESULT_SCHEMA_VERSION);
    expect(result.schemaVersion).toBe(1);
    expect(result.run.status).toBe('completed');
    expect(result.run.id).toBe(id);
    expect(result.run.finishedAt).toBeDefined();
    expect(result.target.implementation).toMatch(/^wasm-(relaxed-)?simd$/);
    expect(result.target.shape).toEqual({ numQueryHeads: 2, numKvHeads: 1, headDim: 128 });
    expect(result.environment.ceilings?.streamReadBytesPerSec).toBeGreaterThan(0);
    expect(result.cells.map((c) => `${c.context} ${c.phase} ${c.arm}`)).toEqual([
      '256 decode dense',
      '256 decode skip',
      '256 prefill dense',
      '256 prefill skip',
    ]);
    // quiet: no progress lines; stdout has the table and where the files are
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/context\s+phase\s+arm\s+dense\s+skip\s+speedup/);
    expect(run.stdout).toMatch(/^256\s+decode\s+skip/m);
    expect(run.stdout).toMatch(/^256\s+prefill\s+skip/m);
    expect(run.stdout).toContain(`${join(dir, id)}/result.json`);
    expect(readFileSync(summaryPath, 'utf8')).toContain('## skipbench: Skip Softmax vs dense');

    const table = cli('report', resultPath, '--format', 'table');
    expect(table.status, table.stderr).toBe(0);
    expect(run.stdout).toContain(table.stdout.trimEnd());
    const markdown = cli('report', resultPath);
    expect(markdown.status).toBe(0);
    expect(markdown.stdout).toBe(readFileSync(summaryPath, 'utf8'));
  });

  it('a bad flag exits 2 and names the field on stderr', () => {
    const run = cli('kernel', '--contexts', '4X', '--out', dir);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--contexts');
    expect(run.stderr).toContain(ErrorCodes.CONFIG);
    expect(run.stdout).toBe('');
  });

  it('report of a file that is not a result exits 2 with SKB_RESULT', () => {
    const bogus = join(dir, 'bogus.json');
    writeFileSync(bogus, JSON.stringify({ schema: 'something/else', schemaVersion: 1 }));
    const run = cli('report', bogus);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(ErrorCodes.RESULT);
  });
});
