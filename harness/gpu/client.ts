/**
 * The client side of the GPU runner protocol (harness/gpu/protocol.ts): spawns the Python runner, sends one JSON
 * request per line on its stdin and matches the JSON lines it answers on stdout by id. Keeps the last few KB of the
 * runner's stderr for error messages. Every failure is a GpuError (a SkipbenchError) that says whether the runner
 * answered it (it is still running: the next request may succeed) or the transport broke (every later request fails).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type ErrorCode, ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import { packageRoot } from '../paths.js';
import {
  GPU_PROTOCOL_VERSION,
  type GpuErrorBody,
  type GpuOp,
  type GpuOps,
  type HelloResult,
  type MissingComponent,
} from './protocol.js';

/** How much of the runner's stderr is kept for error messages (characters). */
const STDERR_TAIL = 4096;
/** How much of a malformed stdout line an error message quotes (characters). */
const QUOTE = 200;

export class GpuError extends SkipbenchError {
  /** True when the runner answered this error and is still running. */
  readonly answered: boolean;
  /** The component hello found missing (torch, triton or gpu), when that is why. */
  readonly missing?: MissingComponent;

  constructor(code: ErrorCode, message: string, o: { answered: boolean; missing?: MissingComponent; cause?: unknown }) {
    super(code, message, {}, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = 'GpuError';
    this.answered = o.answered;
    if (o.missing) this.missing = o.missing;
  }
}

/** The runner script that ships with the package. */
export function defaultRunnerScript(): string {
  return join(packageRoot(), 'harness/gpu/runner.py');
}

export interface GpuRunnerOptions {
  /** The Python executable (`--python`). */
  python: string;
  /** The runner script (`--gpu-runner`); default the bundled one. */
  script?: string;
  /** Extra environment for the runner (PYTHONUNBUFFERED=1 is always set). */
  env?: Record<string, string>;
  /** How long close() waits for the runner to exit after `shutdown` before killing it (ms). */
  closeGraceMs?: number;
}

export interface RequestOptions {
  /** Give up (and stop the runner) when no answer came in this long (ms). */
  timeoutMs?: number;
}

interface Pending {
  op: GpuOp;
  resolve: (result: unknown) => void;
  reject: (error: GpuError) => void;
  timer?: NodeJS.Timeout;
}

const GPU_CODES = new Set<string>(Object.values(ErrorCodes).filter((c) => c.startsWith('SKB_GPU_')));
const MISSING = new Set(['torch', 'triton', 'gpu']);
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export class GpuRunner {
  readonly python: string;
  readonly script: string;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private readonly closeGraceMs: number;
  private nextId = 1;
  private buffer = '';
  private stderr = '';
  private greeted = false;
  /** Set once the transport is broken: every later request rejects with it. */
  private broken?: GpuError;
  private readonly exited: Promise<void>;

  private constructor(options: GpuRunnerOptions, script: string) {
    this.python = options.python;
    this.script = script;
    this.closeGraceMs = options.closeGraceMs ?? 10_000;
    this.child = spawn(options.python, [script], {
      env: { ...process.env, ...options.env, PYTHONUNBUFFERED: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
      // its own process group: a Ctrl-C in the terminal reaches skipbench only, which stops after the current
      // sample and then shuts the runner down (the runner also exits when its stdin closes)
      detached: true,
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.fail(this.exitError(code, signal));
        resolve();
      });
      this.child.once('error', (error: NodeJS.ErrnoException) => {
        this.fail(this.spawnError(error));
        // a process that never started emits no 'close'
        if (this.child.pid === undefined) resolve();
      });
    });
    this.child.stdin!.on('error', () => {
      // EPIPE after the runner died: the 'close' handler reports it with the exit code and stderr
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL);
    });
  }

  /** Spawns the runner. Errors of the executable itself arrive with the first request. */
  static start(options: GpuRunnerOptions): GpuRunner {
    const script = options.script ?? defaultRunnerScript();
    if (!existsSync(script)) {
      throw new GpuError(ErrorCodes.GPU_UNAVAILABLE, `the GPU runner script ${script} does not exist (--gpu-runner)`, {
        answered: false,
      });
    }
    return new GpuRunner(options, script);
  }

  /** Whether requests can still be sent. */
  get alive(): boolean {
    return this.broken === undefined;
  }

  /** The last few KB the runner wrote to stderr. */
  stderrTail(): string {
    return this.stderr;
  }

  /** Sends one request; resolves to its result, rejects with a GpuError. */
  request<Op extends GpuOp>(
    op: Op,
    params: GpuOps[Op]['params'],
    options: RequestOptions = {},
  ): Promise<GpuOps[Op]['result']> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise<GpuOps[Op]['result']>((resolve, reject) => {
      const entry: Pending = { op, resolve: resolve as (r: unknown) => void, reject };
      if (options.timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          const seconds = (options.timeoutMs! / 1000).toFixed(0);
          this.fail(
            this.error(
              ErrorCodes.GPU_RUNNER,
              `the GPU runner did not answer "${op}" within ${seconds} s; it was stopped`,
            ),
          );
          this.child.kill('SIGKILL');
        }, options.timeoutMs);
      }
      this.pending.set(id, entry);
      this.child.stdin!.write(`${JSON.stringify({ ...params, id, op })}\n`);
    });
  }

  /** `hello`, with the protocol version checked. */
  async hello(options: RequestOptions = {}): Promise<HelloResult> {
    const hello = await this.request('hello', {}, options);
    if (
      !isObject(hello) ||
      hello.protocol !== GPU_PROTOCOL_VERSION ||
      !isObject(hello.device) ||
      !isObject(hello.versions)
    ) {
      const version = isObject(hello) ? String(hello.protocol) : 'none';
      const error = this.error(
        ErrorCodes.GPU_PROTOCOL,
        `the GPU runner ${this.script} speaks protocol ${version}, this skipbench speaks ${GPU_PROTOCOL_VERSION} (or its hello is malformed)`,
      );
      this.fail(error);
      this.child.kill('SIGKILL');
      throw error;
    }
    this.greeted = true;
    return hello;
  }

  /** Asks the runner to shut down and waits for it to exit; kills it after the grace period. Never throws. */
  async close(): Promise<void> {
    if (this.child.pid === undefined) return;
    if (this.alive) {
      this.request('shutdown', {}, { timeoutMs: this.closeGraceMs }).catch(() => {});
      this.child.stdin!.end();
    }
    const grace = setTimeout(() => this.child.kill('SIGKILL'), this.closeGraceMs);
    await this.exited;
    clearTimeout(grace);
  }

  // -- stdout: one JSON response per line; chunks may split lines or hold several --

  private onStdout(chunk: string): void {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\n'); end >= 0; end = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, end).trim();
      this.buffer = this.buffer.slice(end + 1);
      if (line) this.onLine(line);
      if (this.broken) return;
    }
  }

  private onLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      message = undefined;
    }
    const response = isObject(message) ? message : {};
    const entry = typeof response.id === 'number' ? this.pending.get(response.id) : undefined;
    const valid =
      (response.ok === true && isObject(response.result)) || (response.ok === false && isObject(response.error));
    if (!entry || !valid) {
      const quoted = line.length > QUOTE ? `${line.slice(0, QUOTE)}…` : line;
      this.fail(
        this.error(
          ErrorCodes.GPU_PROTOCOL,
          `the GPU runner wrote a line that is not a response to a pending request: ${quoted}`,
        ),
      );
      this.child.kill('SIGKILL');
      return;
    }
    this.pending.delete(response.id as number);
    if (entry.timer) clearTimeout(entry.timer);
    if (response.ok === true) entry.resolve(response.result);
    else entry.reject(this.answeredError(entry.op, response.error as GpuErrorBody));
  }

  // -- errors --

  private answeredError(op: GpuOp, body: GpuErrorBody): GpuError {
    const code = typeof body.code === 'string' ? body.code : 'none';
    const text = typeof body.message === 'string' && body.message ? body.message : `"${op}" failed`;
    const known = GPU_CODES.has(code) ? (code as ErrorCode) : undefined;
    const missing = typeof body.missing === 'string' && MISSING.has(body.missing) ? body.missing : undefined;
    const message = known ? text : `${text} (runner code ${code})`;
    return new GpuError(known ?? ErrorCodes.GPU_RUNNER, message, { answered: true, ...(missing ? { missing } : {}) });
  }

  /** A transport error with the stderr tail appended. */
  private error(code: ErrorCode, message: string): GpuError {
    const tail = this.stderr.trim();
    return new GpuError(code, tail ? `${message}; its stderr ended with:\n${tail}` : message, { answered: false });
  }

  private exitError(code: number | null, signal: NodeJS.Signals | null): GpuError {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const when = this.greeted ? '' : ' before answering hello';
    const errorCode = this.greeted ? ErrorCodes.GPU_RUNNER : ErrorCodes.GPU_UNAVAILABLE;
    return this.error(errorCode, `the GPU runner (${this.python} ${this.script}) ${how}${when}`);
  }

  private spawnError(error: NodeJS.ErrnoException): GpuError {
    const message =
      error.code === 'ENOENT'
        ? `cannot start the GPU runner: the python executable "${this.python}" was not found; install Python 3 with torch and triton, or name the interpreter with --python`
        : `cannot start the GPU runner with "${this.python}" (${error.code ?? error.message}); name another interpreter with --python`;
    return new GpuError(ErrorCodes.GPU_UNAVAILABLE, message, { answered: false, cause: error });
  }

  /** Breaks the transport (once) and rejects every pending request. */
  private fail(error: GpuError): void {
    this.broken ??= error;
    for (const entry of this.pending.values()) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.reject(this.broken);
    }
    this.pending.clear();
  }
}
