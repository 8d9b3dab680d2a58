/**
 * The stamp server: a minimal OpenAI-style SSE `/v1/completions` server that stamps each event with the moment it
 * writes it, so a client on the same machine can measure what it adds between the server's write and its own
 * timestamp (`skipbench client-overhead`). It is meant to run in its own process (`launchStampServer`, or
 * `node dist/harness/bench/stamp-server.js --port 0`), so that its work does not queue on the client's event loop.
 *
 * Per POST /v1/completions: read the body, wait `stamp_first_delay_ms` (default 20), then write `max_tokens` token
 * events `stamp_interval_ms` apart (default 10; 0 = back to back, one setImmediate between writes), then a usage
 * chunk and `[DONE]`. With `stamp_prefill_ms` > 0 the server also behaves like one that prefills one request at a
 * time: each first event gets a slot that long after the previous request's slot, and is not written before it.
 * Each token event carries `stamp` (epoch ms with sub-ms precision,
 * `performance.timeOrigin + performance.now()`, taken immediately before `res.write`) twice: as a JSON field, and as
 * its completion text `"<stamp>;"`, so that a client that keeps the generated text can recover every event's stamp
 * in order without a parser of its own. GET /stats answers `{"epochMinusMonotonic": ms, "cpuUs": µs}`: the first
 * gives the client the offset between the two processes' epoch clocks (see epochMinusMonotonic), the second is this
 * process's CPU time (user + system) so far, so the client can tell the server's CPU from other processes'. GET
 * /health answers 200.
 *
 * Connections are kept alive (no per-socket request limit), Nagle is off on every socket, and the listen backlog and
 * `maxConnections` are sized for thousands of concurrent streams.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import { builtFile } from '../paths.js';

/** Epoch milliseconds with sub-millisecond precision; comparable between processes on one machine. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** This process's epoch clock minus the system monotonic clock (ms). CLOCK_MONOTONIC is shared by every process of
 * a machine, so the difference of two processes' values is the exact offset between their epoch clocks. */
export function epochMinusMonotonic(): number {
  const epoch = epochNow();
  return epoch - Number(process.hrtime.bigint()) / 1e6;
}

export const STAMP_DEFAULTS = {
  /** Delay (ms) between reading a request's body and its first token event. */
  firstDelayMs: 20,
  /** Delay (ms) between token events; 0 = back to back. */
  intervalMs: 10,
  /** Prefill time (ms) of a server that prefills one request at a time; 0 = every request's first event after its
   * own delay alone. */
  prefillMs: 0,
  /** Listen backlog (Linux caps it at net.core.somaxconn). */
  backlog: 4096,
} as const;

export interface StampServerOptions {
  host?: string;
  /** 0 (default) = any free port. */
  port?: number;
  backlog?: number;
}

export interface StampServer {
  /** `http://host:port` */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the stamp server in this process. Use `launchStampServer` to measure a client: it must not share a loop. */
export async function startStampServer(options: StampServerOptions = {}): Promise<StampServer> {
  const host = options.host ?? '127.0.0.1';
  const server = http.createServer({ noDelay: true, keepAlive: true }, handle);
  server.keepAliveTimeout = 120_000;
  server.maxRequestsPerSocket = 0;
  server.requestTimeout = 0;
  server.maxConnections = 1_000_000;
  server.on('connection', (socket) => socket.setNoDelay(true));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: options.port ?? 0, backlog: options.backlog ?? STAMP_DEFAULTS.backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.method === 'GET' && req.url === '/stats') {
    const cpu = process.cpuUsage();
    const body = `{"epochMinusMonotonic":${epochMinusMonotonic()},"cpuUs":${cpu.user + cpu.system}}`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    return;
  }
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-length': 0 }).end();
    return;
  }
  if (req.method !== 'POST' || req.url !== '/v1/completions') {
    res.writeHead(404, { 'content-length': 0 }).end();
    return;
  }
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"body is not JSON"}}');
      return;
    }
    stream(res, body);
  });
}

/** When the emulated prefill engine (one request at a time) finishes its last queued request (epoch ms). */
let prefillQueueEnd = Number.NEGATIVE_INFINITY;

const count = (value: unknown, fallback: number): number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;

/** Writes the token events of one request, each stamped immediately before its write. */
function stream(res: http.ServerResponse, body: Record<string, unknown>): void {
  const maxTokens = Math.max(1, Math.floor(count(body.max_tokens, 16)));
  const firstDelayMs = count(body.stamp_first_delay_ms, STAMP_DEFAULTS.firstDelayMs);
  const intervalMs = count(body.stamp_interval_ms, STAMP_DEFAULTS.intervalMs);
  const prefillMs = count(body.stamp_prefill_ms, STAMP_DEFAULTS.prefillMs);
  const promptTokens = Array.isArray(body.prompt) ? body.prompt.length : undefined;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  let sent = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  res.on('close', () => {
    closed = true;
    clearTimeout(timer);
    clearImmediate(immediate);
  });
  const later = (ms: number, next: () => void) => {
    if (ms > 0) timer = setTimeout(next, ms);
    else immediate = setImmediate(next);
  };
  const next = () => {
    if (closed) return;
    sent += 1;
    const finish = sent === maxTokens ? '"length"' : 'null';
    // -- stamp, then write at once: nothing but the string concatenation between them --
    const stamp = epochNow();
    res.write(
      `data: {"object":"text_completion","choices":[{"index":0,"text":"${stamp};","finish_reason":${finish}}],"stamp":${stamp}}\n\n`,
    );
    if (sent < maxTokens) {
      later(intervalMs, next);
      return;
    }
    const usage = { ...(promptTokens !== undefined ? { prompt_tokens: promptTokens } : {}), completion_tokens: sent };
    res.end(`data: {"object":"text_completion","choices":[],"usage":${JSON.stringify(usage)}}\n\ndata: [DONE]\n\n`);
  };
  let firstAt = epochNow() + firstDelayMs;
  if (prefillMs > 0) {
    firstAt = Math.max(firstAt, prefillQueueEnd + prefillMs);
    prefillQueueEnd = firstAt;
  }
  // timers take whole ms and may fire up to ~1 ms early: check, and wait again for what is left
  const first = () => {
    const left = firstAt - epochNow();
    if (left > 0) timer = setTimeout(first, Math.ceil(left));
    else later(0, next);
  };
  first();
}

// -- in its own process --

export interface LaunchedStampServer {
  url: string;
  pid: number;
  close(): Promise<void>;
}

const STAMP_SERVER_SCRIPT = 'dist/harness/bench/stamp-server.js';

/**
 * Forks the built stamp server (`npm run build` first) and resolves once it listens. It exits when this process
 * disconnects from it, so a crashed parent leaves no server behind.
 */
export async function launchStampServer(
  options: { host?: string; startTimeoutMs?: number } = {},
): Promise<LaunchedStampServer> {
  const script = builtFile(STAMP_SERVER_SCRIPT);
  const args = ['--port', '0', ...(options.host ? ['--host', options.host] : [])];
  // execArgv [] so that a test runner's loader flags are not inherited
  const child = fork(script, args, { execArgv: [], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill();
      reject(new SkipbenchError(ErrorCodes.CONFIG, `stamp server did not start: ${why}`, { field: 'stampServer' }));
    };
    const timer = setTimeout(() => fail(`no port within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code, signal) => fail(`exited with ${signal ?? code}`));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n')[0];
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch {
        fail(`unexpected output ${JSON.stringify(line.slice(0, 200))}`);
      }
    });
  });
  return {
    url,
    pid: child.pid!,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function argValue(argv: string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at >= 0 ? argv[at + 1] : undefined;
}

async function main(argv: string[]): Promise<void> {
  const port = Number(argValue(argv, '--port') ?? 0);
  const host = argValue(argv, '--host') ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`stamp-server: --port must be an integer in [0, 65535] (got ${argValue(argv, '--port')})\n`);
    process.exitCode = 2;
    return;
  }
  const server = await startStampServer({ host, port });
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (process.send) process.on('disconnect', stop);
  process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, pid: process.pid })}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main(process.argv.slice(2));
