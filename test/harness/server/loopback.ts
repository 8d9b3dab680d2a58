/**
 * Test helpers for the server target: real HTTP servers on 127.0.0.1 (port 0), the captured llama.cpp fixtures split
 * into their SSE events, and a fake clock that the test server drives.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../../fixtures/llamacpp/', import.meta.url));

export function readFixture(name: string): Buffer {
  return readFileSync(FIXTURES + name);
}

/** The fixture's events, each with its terminating blank line, exactly as the server wrote them. */
export function fixtureEvents(name: string): string[] {
  return readFixture(name)
    .toString('utf8')
    .split(/(?<=\n\n)/)
    .filter((e) => e.trim().length > 0);
}

export interface Loopback {
  server: http.Server;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/** Starts a server on an ephemeral loopback port. close() also cuts connections a test left hanging. */
export async function startServer(handler: http.RequestListener): Promise<Loopback> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads a request body (the client's JSON). */
export async function readBody(req: http.IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** Starts an SSE response and sends its headers at once, as llama.cpp and vLLM do. */
export function sseHead(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A clock whose value the test server sets. `nextRead()` resolves at the next call of `now`, so the server can set a
 * value, write, and wait until the client has stamped that write before it moves the clock on: exact times with no
 * dependence on scheduling.
 */
export class ServerDrivenClock {
  value: number;
  private waiters: (() => void)[] = [];

  constructor(start: number) {
    this.value = start;
  }

  readonly now = (): number => {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    return this.value;
  };

  nextRead(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
