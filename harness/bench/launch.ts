/**
 * Starts an arm's server with its launch command, waits until it answers, and stops it afterwards. The command
 * runs in its own process group so that stopping it also stops the workers it spawned.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import type { ServerArmSpec } from './config.js';
import { trtllmSkipSoftmaxYaml } from './trtllm.js';

export interface LaunchedArm {
  stop(): Promise<void>;
}

async function healthy(baseUrl: string): Promise<boolean> {
  const root = baseUrl.replace(/\/v1\/?$/, '').replace(/\/$/, '');
  for (const path of ['/health', '/v1/models']) {
    try {
      const res = await request(`${root}${path}`, { headersTimeout: 2000, bodyTimeout: 2000 });
      await res.body.dump();
      if (res.statusCode === 200) return true;
    } catch {
      // not up yet
    }
  }
  return false;
}

/** Waits until the server answers 200 on /health or /v1/models. */
export async function waitForHealth(baseUrl: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new SkipbenchError(ErrorCodes.CONFIG, `the launch command exited with code ${child.exitCode} before ${baseUrl} answered`, { field: 'launch' });
    }
    if (await healthy(baseUrl)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new SkipbenchError(ErrorCodes.CONFIG, `${baseUrl} did not answer /health within ${timeoutMs} ms`, { field: 'launch' });
}

export async function launchArm(arm: ServerArmSpec, workDir: string, timeoutMs: number): Promise<LaunchedArm> {
  if (!arm.launch) throw new SkipbenchError(ErrorCodes.CONFIG, `arm ${arm.id} has no launch command`, { field: 'launch' });
  const yaml = join(workDir, `${arm.id}.trtllm.yaml`);
  writeFileSync(yaml, trtllmSkipSoftmaxYaml(arm.thresholdScaleFactor));
  const command = arm.launch.replaceAll('{config}', yaml);
  const child = spawn(command, { shell: true, detached: true, stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, s);
      } catch {
        // already gone
      }
    };
    signal('SIGTERM');
    const killer = setTimeout(() => signal('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };
  try {
    await waitForHealth(arm.baseUrl, timeoutMs, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}
