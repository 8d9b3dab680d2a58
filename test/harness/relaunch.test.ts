/**
 * The streaming commands' relaunch with garbage-collector flags: which invocations relaunch (pure), and the real CLI
 * from dist/ (`npm run build` first) running relaunched. Interrupting a relaunched run is covered by the SIGINT test
 * of commands.test.ts, whose `bench` goes through the relaunch.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RELAUNCH_FLAGS, shouldRelaunch } from '../../harness/relaunch.js';
import { slowSseServer, spawnSlowBench } from '../helpers/slow-bench.js';

const run = promisify(execFile);

describe('shouldRelaunch', () => {
  it('relaunches bench and client-overhead only', () => {
    expect(shouldRelaunch(['bench', '--arm', 'a=http://x'], [], {})).toBe(true);
    expect(shouldRelaunch(['client-overhead'], [], {})).toBe(true);
    for (const command of ['kernel', 'serve', 'calibrate', 'report', 'compare']) {
      expect(shouldRelaunch([command], [], {})).toBe(false);
    }
    expect(shouldRelaunch([], [], {})).toBe(false);
    expect(shouldRelaunch(['--version'], [], {})).toBe(false);
  });

  it('does not relaunch for help, a second time, under the inspector, or when the user chose a semi-space size', () => {
    expect(shouldRelaunch(['bench', '--help'], [], {})).toBe(false);
    expect(shouldRelaunch(['client-overhead', '-h'], [], {})).toBe(false);
    expect(shouldRelaunch(['bench'], [], { SKIPBENCH_RELAUNCHED: '1' })).toBe(false);
    expect(shouldRelaunch(['bench'], ['--max-semi-space-size=32'], {})).toBe(false);
    expect(shouldRelaunch(['bench'], [], { NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=8' })).toBe(false);
    expect(shouldRelaunch(['bench'], ['--inspect-brk=9229'], {})).toBe(false);
    expect(shouldRelaunch(['bench'], ['--enable-source-maps'], { NODE_OPTIONS: '--max-old-space-size=4096' })).toBe(
      true,
    );
  });
});

describe('the relaunched CLI', () => {
  it('measures in a Node with the flags and passes the output and exit code through', async () => {
    const { stdout } = await run(process.execPath, [
      'dist/harness/cli.js',
      'client-overhead',
      ...['--streams', '2', '--tokens', '1', '--rounds', '1', '--cost-requests', '1', '--json'],
    ]);
    const result = JSON.parse(stdout);
    expect(result.nodeFlags).toEqual([...RELAUNCH_FLAGS]);
    expect(result.overhead.ok).toBe(2);
  });

  it('exits with the child’s code on bad input, with the child’s message', async () => {
    const failed = await run(process.execPath, ['dist/harness/cli.js', 'bench', '--rounds', '0']).catch((e) => e);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/--rounds/);
  });

  it('stops and saves what it measured when the parent is killed outright', async () => {
    const server = await slowSseServer();
    const out = mkdtempSync(join(tmpdir(), 'skipbench-orphan-'));
    const parent = spawnSlowBench(server.url, out);
    let stderr = '';
    parent.stderr.on('data', (chunk) => {
      stderr += chunk;
      // the first phase is done: SIGKILL cannot be passed on, so only the closed IPC channel tells the child
      if (/TTFT a/.test(stderr) && parent.exitCode === null && !parent.killed) parent.kill('SIGKILL');
    });
    // the child writes to the same pipes: they close when it has exited
    await once(parent.stderr, 'close');
    server.close();
    const [runDir] = readdirSync(out);
    const result = JSON.parse(readFileSync(join(out, runDir, 'result.json'), 'utf8'));
    expect(result.run.status).toBe('interrupted');
    expect(result.cells.flatMap((c: { samples: unknown[] }) => c.samples).length).toBeGreaterThanOrEqual(40);
  }, 30_000);
});
