/**
 * `skipbench compare`: flag parsing, and the gate run on real result files written by the kernel target (reference
 * executor, tiny context): exit 0 on the same run or small noise, 1 on skip times twice as slow or a violated floor,
 * 2 on corrupt, empty, foreign-schema or incomplete inputs. Then the built CLI as a child process
 * (dist/harness/cli.js, needs `npm run build`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../../harness/cli.js';
import {
  type CompareCommand,
  compareFiles,
  parseFloor,
  registerCompare,
  runCompare,
} from '../../harness/commands/compare.js';
import { resolveKernelConfig } from '../../harness/kernel/config.js';
import { createReferenceExecutor } from '../../harness/kernel/executor.js';
import { runKernelBenchmark } from '../../harness/kernel/runner.js';
import { okSamples, summarizeTimes } from '../../harness/kernel/summarize.js';
import { ErrorCodes } from '../../kernels/errors.js';
import { GateCodes } from '../../reports/compare.js';
import type { KernelResultFile } from '../../reports/schema.js';
import { median } from '../../reports/stats.js';
import type { GateVerdict } from '../../reports/verdict.js';
import { gaussian, mulberry32 } from '../helpers/random.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Parses `compare ...` on a program holding only this command (no dependence on the rest of the CLI). */
function parse(args: string[]): CompareCommand {
  let parsed: CompareCommand | undefined;
  const program = new Command('skipbench').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerCompare(program, (c) => {
    parsed = c;
  });
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  program.parse(['compare', ...args], { from: 'user' });
  return parsed!;
}

function parseError(args: string[]): { code?: string; field?: string } {
  try {
    parse(args);
  } catch (error) {
    return error as { code?: string; field?: string };
  }
  throw new Error(`compare ${args.join(' ')} should fail`);
}

describe('compare flags', () => {
  it('defaults', () => {
    expect(parse(['--baseline', 'a.json', '--current', 'b.json'])).toEqual({
      name: 'compare',
      baseline: 'a.json',
      current: 'b.json',
      options: {
        threshold: 0.05,
        metrics: ['speedup', 'latency'],
        floors: [],
        minSamples: 5,
        level: 0.95,
        resamples: 2000,
        seed: 1,
      },
      markdown: false,
    } satisfies CompareCommand);
  });

  it('threshold, repeated floors, metrics, statistics, output', () => {
    const c = parse([
      '--baseline',
      'a.json',
      '--current',
      'b.json',
      '--threshold',
      '0.1',
      '--floor',
      'prefill:32K:1.0',
      '--floor',
      'any:0:0.9:skip2',
      '--metric',
      'speedup',
      '--min-samples',
      '3',
      '--level',
      '0.9',
      '--resamples',
      '500',
      '--seed',
      '7',
      '--out',
      'v.json',
      '--markdown',
    ]);
    expect(c.options).toEqual({
      threshold: 0.1,
      metrics: ['speedup'],
      floors: [
        { metric: 'speedup', phase: 'prefill', minContext: 32768, min: 1 },
        { metric: 'speedup', arm: 'skip2', min: 0.9 },
      ],
      minSamples: 3,
      level: 0.9,
      resamples: 500,
      seed: 7,
    });
    expect(c.out).toBe('v.json');
    expect(c.markdown).toBe(true);
  });

  it('parseFloor', () => {
    expect(parseFloor('decode:128k:1.2')).toEqual({ metric: 'speedup', phase: 'decode', minContext: 131072, min: 1.2 });
    expect(parseFloor('any:4096:1')).toEqual({ metric: 'speedup', minContext: 4096, min: 1 });
    for (const bad of [
      'prefill:32K',
      'train:32K:1',
      'prefill:abc:1',
      'prefill:32K:0',
      'prefill:32K:x',
      'prefill:32K:1:',
      'a:b:c:d:e',
    ]) {
      expect(() => parseFloor(bad), bad).toThrow(
        expect.objectContaining({ code: ErrorCodes.CONFIG, field: '--floor' }),
      );
    }
  });

  it('rejects bad values naming the flag, and missing files', () => {
    const base = ['--baseline', 'a', '--current', 'b'];
    expect(parseError([...base, '--threshold', '1.5'])).toMatchObject({
      code: ErrorCodes.CONFIG,
      field: '--threshold',
    });
    expect(parseError([...base, '--metric', 'speedup,throughput'])).toMatchObject({
      code: ErrorCodes.CONFIG,
      field: '--metric',
    });
    expect(parseError([...base, '--floor', 'prefill'])).toMatchObject({ code: ErrorCodes.CONFIG, field: '--floor' });
    expect(parseError([...base, '--resamples', '10'])).toMatchObject({ code: ErrorCodes.CONFIG, field: '--resamples' });
    expect(parseError([...base, '--min-samples', '0'])).toMatchObject({
      code: ErrorCodes.CONFIG,
      field: '--min-samples',
    });
    const missing = parseError(['--baseline', 'a']);
    expect(missing).toBeInstanceOf(CommanderError);
    expect(missing.code).toBe('commander.missingMandatoryOptionValue');
  });
});

// -- real result files ---------------------------------------------------------------------------------------------

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

/** Multiplies the chosen arm's sample times and recomputes its summary and paired speedups as the runner does. */
function rescale(file: KernelResultFile, factor: (arm: string, i: number) => number): KernelResultFile {
  const f = clone(file);
  for (const cell of f.cells) {
    cell.samples = cell.samples.map((s, i) =>
      s.status === 'ok' ? { ...s, timeMs: s.timeMs * factor(cell.arm, i), wallMs: s.wallMs * factor(cell.arm, i) } : s,
    );
    cell.summary = summarizeTimes(cell.samples, cell.summary.estimatedFullMs / cell.summary.medianMs);
  }
  for (const cell of f.cells.filter((c) => c.speedup)) {
    const dense = f.cells.find((d) => d.arm === f.arms[0].id && d.context === cell.context && d.phase === cell.phase)!;
    const byRound = new Map(okSamples(dense.samples).map((s) => [s.round, s.timeMs]));
    const paired = okSamples(cell.samples)
      .filter((s) => byRound.has(s.round))
      .map((s) => byRound.get(s.round)! / s.timeMs);
    cell.speedup = {
      ...cell.speedup!,
      ofMedians: dense.summary.medianMs / cell.summary.medianMs,
      pairedRatios: paired,
      medianPairedRatio: median(paired),
    };
  }
  return f;
}

/**
 * A slow-down of the skip arm that no sampling noise can hide: larger than the spread of its kernel times and of its
 * paired speedups, so the whole scaled range lies beyond the measured one (a fixed 1.3 overlapped under CPU load).
 */
function separatingFactor(file: KernelResultFile): number {
  const spread = (values: number[]) => Math.max(...values) / Math.min(...values);
  const skip = file.cells.filter((c) => c.speedup);
  const spreads = skip.flatMap((c) => [
    spread(okSamples(c.samples).map((s) => s.timeMs)),
    spread(c.speedup!.pairedRatios),
  ]);
  return Math.max(1.3, 1.1 * Math.max(...spreads));
}

describe('runCompare on result files from the kernel target', () => {
  let dir: string;
  let result: KernelResultFile;
  const path = (name: string) => join(dir, name);
  const write = (name: string, value: unknown) => {
    writeFileSync(path(name), typeof value === 'string' ? value : JSON.stringify(value));
    return path(name);
  };
  const run = (current: string, extra: Partial<CompareCommand> = {}, baseline = path('baseline.json')) => {
    const out: string[] = [];
    const err: string[] = [];
    const command: CompareCommand = { ...parse(['--baseline', baseline, '--current', current]), ...extra };
    const code = runCompare(command, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
    return { code, stdout: out.join(''), stderr: err.join('') };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skipbench-compare-'));
    const config = resolveKernelConfig({
      contexts: [256],
      phases: ['prefill', 'decode'],
      numQueryHeads: 2,
      numKvHeads: 1,
      headDim: 64,
      headMix: 'sink,local',
      prefillFactors: [2000],
      decodeFactors: [40],
      reps: 10,
      warmup: 1,
      minSampleMs: 3,
      implementation: 'reference',
      outDir: dir,
    });
    result = await runKernelBenchmark(config, { executor: createReferenceExecutor() });
    write('baseline.json', result);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('the same run passes (exit 0) and prints the table', () => {
    const r = run(write('same.json', result));
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^PASS: 6 row\(s\)/);
    expect(r.stdout).toMatch(/256\s+prefill\s+skip\s+speedup/);
    expect(r.stderr).toBe('');
  });

  it('small random perturbation (1% per sample) passes', () => {
    const rng = mulberry32(5);
    const r = run(
      write(
        'noise.json',
        rescale(result, () => 1 + 0.01 * gaussian(rng)),
      ),
    );
    expect(r.code, r.stdout).toBe(0);
  });

  it('skip times twice as slow: exit 1, and the verdict JSON says which rows', () => {
    // real (noisy) timings underneath: a factor of 2 keeps every interval clear of the baseline's on this machine
    const out = path('verdict-regression.json');
    const r = run(
      write(
        'slower.json',
        rescale(result, (arm) => (arm === 'skip' ? 2 : 1)),
      ),
      { out },
    );
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/^REGRESSION/);
    const verdict = JSON.parse(readFileSync(out, 'utf8')) as GateVerdict;
    expect(verdict.status).toBe('regression');
    expect(verdict.inputs.current.path).toBe(path('slower.json'));
    expect(
      verdict.rows
        .filter((r) => r.status === 'regression')
        .map((r) => `${r.phase} ${r.arm} ${r.metric}`)
        .sort(),
    ).toEqual(['decode skip latency', 'decode skip speedup', 'prefill skip latency', 'prefill skip speedup']);
  });

  it('a violated floor: exit 1', () => {
    const r = run(write('floor.json', result), {
      options: { ...parse(['--baseline', 'a', '--current', 'b', '--floor', 'any:256:1000']).options },
    });
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toContain('violated');
  });

  it('--markdown prints the step summary', () => {
    const r = run(write('md.json', result), { markdown: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^## skipbench gate: PASS/);
    expect(r.stdout).toContain('| context | phase | arm | metric | baseline | current | change | status |');
  });

  it.each([
    ['corrupt JSON', '{"schema": "skipbench/result", "cells": [', GateCodes.UNREADABLE],
    ['an empty file', '', GateCodes.UNREADABLE],
    ['a JSON array', '[1, 2]', GateCodes.SCHEMA],
    ['another JSON document', '{"hello": "world"}', GateCodes.SCHEMA],
  ])('%s as the current file: exit 2 with the reason, verdict still written', (_, text, code) => {
    const out = path(`verdict-${code}.json`);
    const r = run(write(`bad-${code}.json`, text), { out });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^UNUSABLE/);
    expect(r.stderr).toContain(`[${code}]`);
    const verdict = JSON.parse(readFileSync(out, 'utf8')) as GateVerdict;
    expect(verdict.status).toBe('unusable');
    expect(verdict.problems.map((p) => p.code)).toEqual([code]);
  });

  it('a missing baseline file, an empty baseline, schema version 2, missing cells: exit 2', () => {
    const current = write('current.json', result);
    expect(run(current, {}, path('nope.json'))).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`[${GateCodes.UNREADABLE}]`),
    });
    expect(run(current, {}, write('empty-baseline.json', { ...result, cells: [] }))).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`[${GateCodes.EMPTY}]`),
    });
    expect(run(write('v2.json', { ...result, schemaVersion: 2 }))).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`[${GateCodes.SCHEMA}]`),
    });
    const partial = write('partial.json', { ...result, cells: result.cells.filter((c) => c.phase === 'prefill') });
    expect(run(partial)).toMatchObject({ code: 2, stderr: expect.stringContaining(`[${GateCodes.MISSING_CELL}]`) });
  });

  it('both files unreadable: both reasons', () => {
    const v = compareFiles(path('nope-a.json'), path('nope-b.json'), {});
    expect(v.problems.map((p) => `${p.file} ${p.code}`)).toEqual([
      `baseline ${GateCodes.UNREADABLE}`,
      `current ${GateCodes.UNREADABLE}`,
    ]);
  });

  it('an unwritable --out: exit 2', () => {
    const blocker = write('blocker', 'a file, not a folder');
    expect(run(write('same2.json', result), { out: join(blocker, 'verdict.json') }).code).toBe(2);
  });
});

// -- wired into the CLI --------------------------------------------------------------------------------------------
// These need `compare` registered in harness/cli.ts (and, for the child process, `npm run build`).


describe('skipbench compare through the CLI', () => {
  let dir: string;
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'dist/harness/cli.js'), 'compare', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skipbench-compare-cli-'));
    const config = resolveKernelConfig({
      contexts: [256],
      phases: ['decode'],
      numQueryHeads: 2,
      numKvHeads: 1,
      headDim: 64,
      headMix: 'sink,local',
      decodeFactors: [40],
      reps: 8,
      warmup: 1,
      minSampleMs: 2,
      implementation: 'reference',
      outDir: dir,
    });
    const result = await runKernelBenchmark(config, { executor: createReferenceExecutor() });
    writeFileSync(join(dir, 'a.json'), JSON.stringify(result));
    const slower = separatingFactor(result);
    writeFileSync(join(dir, 'slow.json'), JSON.stringify(rescale(result, (arm) => (arm === 'skip' ? slower : 1))));
    writeFileSync(join(dir, 'corrupt.json'), '{"schema":');
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('parseCli returns the compare command', () => {
    const c = parseCli(['compare', '--baseline', 'a.json', '--current', 'b.json', '--floor', 'prefill:32K:1']);
    expect(c).toMatchObject({
      name: 'compare',
      baseline: 'a.json',
      current: 'b.json',
      options: { floors: [{ phase: 'prefill', minContext: 32768, min: 1 }] },
    });
  });

  it('exit codes: 0 pass, 1 regression, 2 corrupt input or a bad flag, never a stack trace', () => {
    const a = join(dir, 'a.json');
    const pass = cli('--baseline', a, '--current', a, '--out', join(dir, 'v.json'));
    expect(pass.status, pass.stderr).toBe(0);
    expect(pass.stdout).toMatch(/^PASS/);
    expect(JSON.parse(readFileSync(join(dir, 'v.json'), 'utf8')).status).toBe('pass');
    const regression = cli('--baseline', a, '--current', join(dir, 'slow.json'), '--markdown');
    expect(regression.status, regression.stdout).toBe(1);
    expect(regression.stdout).toMatch(/^## skipbench gate: REGRESSION/);
    const corrupt = cli('--baseline', a, '--current', join(dir, 'corrupt.json'));
    expect(corrupt.status).toBe(2);
    expect(corrupt.stderr).toContain(`[${GateCodes.UNREADABLE}]`);
    expect(corrupt.stderr).not.toMatch(/\n\s+at /);
    const badFlag = cli('--baseline', a, '--current', a, '--threshold', 'lots');
    expect(badFlag.status).toBe(2);
    expect(badFlag.stderr).toContain('--threshold');
  });
});
