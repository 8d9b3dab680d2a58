/**
 * GpuRunner (the client side of the GPU runner protocol) against the fake runner, a real child process run by node:
 * requests matched by id, chunked output, and every way the runner can fail.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { GpuError, GpuRunner } from '../../../harness/gpu/client.js';
import { ErrorCodes } from '../../../kernels/errors.js';

const FAKE = fileURLToPath(new URL('../../fixtures/fake-gpu-runner.mjs', import.meta.url));

const runners: GpuRunner[] = [];
function start(mode = '', env: Record<string, string> = {}, python = process.execPath): GpuRunner {
  const runner = GpuRunner.start({ python, script: FAKE, env: { FAKE_GPU_MODE: mode, ...env }, closeGraceMs: 2000 });
  runners.push(runner);
  return runner;
}

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.close()));
});

async function rejection(promise: Promise<unknown>): Promise<GpuError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(GpuError);
    return error as GpuError;
  }
  throw new Error('expected a rejection');
}

const PREPARE = {
  phase: 'decode' as const,
  context: 1024,
  batch: 2,
  shape: { numQueryHeads: 2, numKvHeads: 1, headDim: 64 },
  workload: { seed: 1, headPatterns: ['sink', 'local'] },
  tiles: { blockN: 64, partitions: 4 },
  arms: [
    { id: 'dense', factor: 0 },
    { id: 'skip', factor: 150 },
  ],
  tolerance: 0.02,
};

describe('GpuRunner against the fake runner', () => {
  it('hello checks the protocol version and reports the device', async () => {
    const runner = start();
    const hello = await runner.hello();
    expect(hello.protocol).toBe(1);
    expect(hello.device).toMatchObject({ name: 'Fake H100', capability: '9.0' });
    expect(hello.versions.torch).toBe('2.5.1');
    expect(runner.alive).toBe(true);
  });

  it('matches answers to requests by id, also when lines arrive split and several per chunk', async () => {
    const runner = start('chunked');
    await runner.hello();
    await runner.request('prepare', PREPARE);
    const answers = await Promise.all([
      runner.request('time', { arm: 'dense', iterations: 3 }),
      runner.request('time', { arm: 'skip', iterations: 1 }),
      runner.request('ceilings', {}),
      runner.request('time', { arm: 'skip', iterations: 2 }),
    ]);
    expect(answers[0]).toMatchObject({ timesMs: expect.any(Array) });
    expect((answers[0] as { timesMs: number[] }).timesMs).toHaveLength(3);
    expect((answers[1] as { timesMs: number[] }).timesMs).toHaveLength(1);
    expect(answers[2]).toMatchObject({ copyBytesPerSec: 3e12 });
    expect((answers[3] as { timesMs: number[] }).timesMs).toHaveLength(2);
    const [dense] = (answers[0] as { timesMs: number[] }).timesMs;
    const [skip] = (answers[1] as { timesMs: number[] }).timesMs;
    expect(skip / dense).toBeCloseTo(0.7, 1);
  });

  it('an error the runner answers rejects that request only', async () => {
    const runner = start();
    await runner.hello();
    const error = await rejection(runner.request('time', { arm: 'dense', iterations: 1 }));
    expect(error.answered).toBe(true);
    // an unknown runner code becomes SKB_GPU_RUNNER, naming the runner's code
    expect(error.code).toBe(ErrorCodes.GPU_RUNNER);
    expect(error.message).toContain('SKB_GPU_BAD_REQUEST');
    expect(runner.alive).toBe(true);
    expect(await runner.request('ceilings', {})).toMatchObject({ matmulFlopsPerSec: 7.5e14 });
  });

  it('close() shuts the runner down', async () => {
    const runner = start();
    await runner.hello();
    await runner.close();
    expect(runner.alive).toBe(false);
    const error = await rejection(runner.request('ceilings', {}));
    expect(error.answered).toBe(false);
  });

  it('a python executable that does not exist: SKB_GPU_UNAVAILABLE naming it and --python', async () => {
    const runner = start('', {}, '/nonexistent/python3.99');
    const error = await rejection(runner.hello());
    expect(error.code).toBe(ErrorCodes.GPU_UNAVAILABLE);
    expect(error.message).toContain('/nonexistent/python3.99');
    expect(error.message).toContain('--python');
  });

  it('a runner script that does not exist: SKB_GPU_UNAVAILABLE naming it and --gpu-runner', () => {
    let error: unknown;
    try {
      GpuRunner.start({ python: process.execPath, script: '/nonexistent/runner.py' });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: ErrorCodes.GPU_UNAVAILABLE });
    expect((error as Error).message).toMatch(/\/nonexistent\/runner\.py.*--gpu-runner/);
  });

  it('missing torch: SKB_GPU_UNAVAILABLE with missing = torch and the runner message', async () => {
    const error = await rejection(start('no-torch').hello());
    expect(error.code).toBe(ErrorCodes.GPU_UNAVAILABLE);
    expect(error.missing).toBe('torch');
    expect(error.message).toMatch(/torch is not installed for .* \(pip install torch\)/);
  });

  it('another protocol version: SKB_GPU_PROTOCOL', async () => {
    const runner = start('old-protocol');
    const error = await rejection(runner.hello());
    expect(error.code).toBe(ErrorCodes.GPU_PROTOCOL);
    expect(error.message).toMatch(/protocol 99.*speaks 1/);
    expect(runner.alive).toBe(false);
  });

  it('a malformed line: SKB_GPU_PROTOCOL quoting it; the runner is stopped', async () => {
    const runner = start('garbage');
    await runner.hello();
    const error = await rejection(runner.request('prepare', PREPARE));
    expect(error.code).toBe(ErrorCodes.GPU_PROTOCOL);
    expect(error.answered).toBe(false);
    expect(error.message).toContain('this is not json');
    expect(runner.alive).toBe(false);
    expect((await rejection(runner.request('ceilings', {}))).code).toBe(ErrorCodes.GPU_PROTOCOL);
  });

  it('a runner that dies: the exit code and the stderr tail, for the pending and every later request', async () => {
    const runner = start('die', { FAKE_GPU_DIE_AT: '1' });
    await runner.hello();
    await runner.request('prepare', PREPARE);
    const error = await rejection(runner.request('time', { arm: 'dense', iterations: 1 }));
    expect(error.code).toBe(ErrorCodes.GPU_RUNNER);
    expect(error.answered).toBe(false);
    expect(error.message).toContain('exited with code 3');
    expect(error.message).toContain('an illegal memory access was encountered');
    expect(runner.stderrTail()).toContain('fake gpu runner started');
    expect((await rejection(runner.request('ceilings', {}))).message).toContain('exited with code 3');
  });

  it('a runner that exits before answering hello: SKB_GPU_UNAVAILABLE with the exit code and stderr', async () => {
    // a script that fails at once stands in for a python that fails at import
    const dir = mkdtempSync(join(tmpdir(), 'skipbench-gpu-'));
    const script = join(dir, 'broken.mjs');
    writeFileSync(
      script,
      'process.stderr.write("ModuleNotFoundError: No module named \'numpy\'\\n"); process.exit(1);\n',
    );
    try {
      const runner = GpuRunner.start({ python: process.execPath, script });
      runners.push(runner);
      const error = await rejection(runner.hello());
      expect(error.code).toBe(ErrorCodes.GPU_UNAVAILABLE);
      expect(error.message).toMatch(/exited with code 1 before answering hello/);
      expect(error.message).toContain("No module named 'numpy'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no answer in time: SKB_GPU_RUNNER and the runner is stopped', async () => {
    const runner = start('hang');
    await runner.hello();
    await runner.request('prepare', PREPARE);
    const error = await rejection(runner.request('time', { arm: 'dense', iterations: 1 }, { timeoutMs: 200 }));
    expect(error.code).toBe(ErrorCodes.GPU_RUNNER);
    expect(error.message).toMatch(/did not answer "time" within/);
    expect(runner.alive).toBe(false);
  });
});
