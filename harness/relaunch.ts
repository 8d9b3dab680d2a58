/**
 * Runs the streaming commands in a Node whose garbage collector stays out of the measurements.
 *
 * With many concurrent streams the client allocates tens of MB per second, and a scavenge (young-generation
 * collection) stops the loop for 3-28 ms, so every event that arrives meanwhile is stamped late. V8's semi-spaces
 * start at 1 MB and grow to 16 MB; with them, `client-overhead` at 1000 streams (first events 1 ms apart, 50 ms
 * between tokens) had a first-token p99 of 4.2-5.4 ms in three runs. Interleaved runs of the alternatives, each
 * `node <flags> dist/harness/cli.js client-overhead --cost-requests 1` three times:
 * - 64 MB semi-spaces (a scavenge every ~1 s instead of every ~0.5 s): p99 2.0-4.2 ms, most of it in the first
 *   measured round, while the young generation was still growing;
 * - 64 MB semi-spaces from the start (`--min-semi-space-size`): p99 0.87-1.16 ms, client CPU 24.6-25.3 µs per token;
 * - the same plus a full collection between rounds (`--expose-gc`): p99 1.70-1.74 ms and 30.2-31.3 µs per token
 *   (the collector's background threads then work during the round), so not used.
 * V8 sizes its heap when the process starts, so these flags cannot be set from inside; the CLI starts itself again
 * with them, unless the user already chose a semi-space size or runs it under the inspector.
 *
 * The relaunched CLI runs in its own process group, so that a Ctrl-C at the terminal reaches only this process, which
 * passes each signal on exactly once (the child's first SIGINT stops after the current sample, a second one quits).
 * If this process dies without passing anything on, the child sees its IPC channel close and interrupts itself.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export const RELAUNCH_FLAGS = ['--max-semi-space-size=64', '--min-semi-space-size=64'] as const;

/** Commands whose figures are client-side latencies over many concurrent streams. */
const STREAMING_COMMANDS = new Set(['bench', 'client-overhead']);

/** Set in the relaunched child's environment, so that it never relaunches again. */
const RELAUNCHED_ENV = 'SKIPBENCH_RELAUNCHED';

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Whether `argv` (the CLI's arguments) should run relaunched. Pure. */
export function shouldRelaunch(
  argv: readonly string[],
  execArgv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  if (env[RELAUNCHED_ENV] !== undefined) return false;
  const semiSpace = (arg: string) => arg.startsWith('--max-semi-space-size');
  if (execArgv.some(semiSpace) || (env.NODE_OPTIONS ?? '').split(/\s+/).some(semiSpace)) return false;
  // under a debugger the run stays in the process being debugged (a child would also try the inspector's port)
  if (execArgv.some((arg) => arg.startsWith('--inspect'))) return false;
  const command = argv.find((arg) => !arg.startsWith('-'));
  return command !== undefined && STREAMING_COMMANDS.has(command) && !argv.includes('--help') && !argv.includes('-h');
}

/** Runs `script argv` in a child Node with RELAUNCH_FLAGS and resolves to its exit code (128 + n for a signal,
 * as a shell reports it). */
export function relaunch(script: string, argv: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...RELAUNCH_FLAGS, script, ...argv], {
    // nothing reads stdin, and a process outside the terminal's foreground group must not try
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [RELAUNCHED_ENV]: '1' },
    // its own process group (on Windows, detached would open a console instead)
    detached: process.platform !== 'win32',
  });
  const forward = (signal: NodeJS.Signals) => () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const handlers = FORWARDED_SIGNALS.map((signal) => [signal, forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return new Promise((resolve) => {
    const done = (code: number) => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
      resolve(code);
    };
    child.once('error', (error) => {
      process.stderr.write(`skipbench: could not start ${process.execPath}: ${error.message}\n`);
      done(1);
    });
    child.once('exit', (code, signal) => done(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

/** In the relaunched child: interrupt the run (as a SIGINT would) when the parent goes away. */
export function interruptWhenOrphaned(): void {
  if (process.env[RELAUNCHED_ENV] === undefined || !process.send) return;
  process.channel?.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGINT'));
}
