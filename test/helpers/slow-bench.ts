/**
 * `skipbench bench` (from dist/) against a slow local server: two arms, three contexts, 20 rounds, each request
 * answered with one token event after 40 ms. It runs for several seconds, long enough to be interrupted mid-run.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Readable } from 'node:stream';

export async function slowSseServer(): Promise<{ url: string; close: () => void }> {
  const server = createServer(async (req, res) => {
    for await (const _ of req) {
      // drain the body
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    await new Promise((r) => setTimeout(r, 40));
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text: ' x' }] })}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
}

/** Two arms (a, b) at `url`, prefill only, results under `out`. */
export function spawnSlowBench(url: string, out: string): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(
    process.execPath,
    ['dist/harness/cli.js', 'bench', '--arm', `a=${url}`, '--arm', `b=${url}`, '--contexts', '64,128,256',
      '--phases', 'prefill', '--rounds', '20', '--warmup', '0', '--out', out],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}
