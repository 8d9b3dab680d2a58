/** Parsing of the `bench` and `serve` commands: flags become validated configurations, errors name the flag. */
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../harness/cli.js';
import { ErrorCodes } from '../../kernels/errors.js';
import { slowSseServer, spawnSlowBench } from '../helpers/slow-bench.js';

function fails(args: string[]): { code?: string; field?: string } {
  try {
    parseCli(args);
  } catch (error) {
    return error as { code?: string; field?: string };
  }
  throw new Error('expected a parse error');
}

describe('skipbench bench', () => {
  it('builds arms, contexts, headers and a closed-loop load from flags', () => {
    const command = parseCli([
      'bench', '--arm', 'dense=http://127.0.0.1:8000', '--arm', 'skip=http://127.0.0.1:8001/v1',
      '--contexts', '4K,32k', '--header', 'X-Team: perf', '--concurrency', '8', '--num-prompts', '50',
      '--capacity', '4',
    ]);
    expect(command?.name).toBe('bench');
    if (command?.name !== 'bench') return;
    expect(command.config.arms.map((a) => a.id)).toEqual(['dense', 'skip']);
    expect(command.config.contexts).toEqual([4096, 32768]);
    expect(command.config.headers).toEqual({ 'X-Team': 'perf' });
    expect(command.config.load).toEqual({ kind: 'closed', concurrency: 8 });
    expect(command.config.numPrompts).toBe(50);
    expect(command.config.capacity).toEqual({ connections: 4, requests: 32 });
    expect(command.config.extraBody).toEqual({ ignore_eos: true });
  });

  it('builds an open-loop load with arrivals, burstiness and max concurrency', () => {
    const command = parseCli([
      'bench', '--arm', 'a=http://h:1', '--request-rate', '2.5', '--arrivals', 'gamma', '--burstiness', '0.5',
      '--max-concurrency', '4', '--duration', '30',
    ]);
    if (command?.name !== 'bench') throw new Error('not bench');
    expect(command.config.load).toEqual({ kind: 'open', arrivals: 'gamma', rate: 2.5, burstiness: 0.5, maxConcurrency: 4 });
    expect(command.config.durationMs).toBe(30000);
  });

  it('rejects bad input naming the flag', () => {
    expect(fails(['bench'])).toMatchObject({ code: ErrorCodes.CONFIG, field: '--arm' });
    expect(fails(['bench', '--arm', 'nourl'])).toMatchObject({ code: ErrorCodes.CONFIG, field: '--arm' });
    expect(fails(['bench', '--arm', 'a=http://h', '--concurrency', '2', '--request-rate', '1'])).toMatchObject({
      field: '--concurrency',
    });
    expect(fails(['bench', '--arm', 'a=http://h', '--output-tokens', '1'])).toMatchObject({ code: ErrorCodes.CONFIG });
    expect(fails(['bench', '--arm', 'a=http://h', '--extra-body', '{nope'])).toMatchObject({ field: '--extra-body' });
  });
});

describe('skipbench serve', () => {
  it('maps flags to server options', () => {
    const command = parseCli(['serve', '--port', '0', '--layers', '2', '--prefill-factor', '100', '--max-context', '8K']);
    if (command?.name !== 'serve') throw new Error('not serve');
    expect(command.options).toMatchObject({ port: 0, layers: 2, prefillFactor: 100, decodeFactor: 0, maxContext: 8192 });
  });

  it('rejects bad options naming the flag', () => {
    expect(fails(['serve', '--head-dim', '96'])).toMatchObject({ code: ErrorCodes.CONFIG, field: '--head-dim' });
  });
});

describe('Ctrl-C during skipbench bench', () => {
  it('stops, keeps every request measured so far in result.json, and exits 130', async () => {
    const server = await slowSseServer();
    const out = mkdtempSync(join(tmpdir(), 'skipbench-sigint-'));
    const child = spawnSlowBench(server.url, out);
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      // the first phase is done (its summary line is printed): interrupt during the second
      if (/TTFT a/.test(stderr) && child.exitCode === null && !child.killed) child.kill('SIGINT');
    });
    const [code] = await once(child, 'exit');
    server.close();
    expect(code).toBe(130);
    const [runDir] = readdirSync(out);
    const result = JSON.parse(readFileSync(join(out, runDir, 'result.json'), 'utf8'));
    expect(result.run.status).toBe('interrupted');
    expect(result.cells.map((c: { context: number; arm: string }) => `${c.context} ${c.arm}`).slice(0, 2)).toEqual([
      '64 a',
      '64 b',
    ]);
    const measured = result.cells.flatMap((c: { samples: unknown[] }) => c.samples).length;
    expect(measured).toBeGreaterThanOrEqual(40);
  }, 30_000);
});

describe('the bin entry point', () => {
  it('runs when started through a symlink, as npx and global installs start it', async () => {
    const { symlinkSync } = await import('node:fs');
    const { spawnSync } = await import('node:child_process');
    const dir = mkdtempSync(join(tmpdir(), 'skipbench-bin-'));
    const link = join(dir, 'skipbench');
    symlinkSync(join(process.cwd(), 'dist/harness/cli.js'), link);
    const run = spawnSync(process.execPath, [link, '--version'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
