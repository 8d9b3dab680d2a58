/**
 * Machine ceilings for the roofline: streaming read bandwidth and the kernel's own q·k tile rate, measured with
 * all pool threads at once on the same compiled kernel. Cached per (CPU, threads, Node, kernel binary) because the
 * probe takes a few seconds; `refresh` measures again.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ridgeOf, roofOf } from '../reports/roof.js';
import type { Ceilings, Environment, GpuCeilings } from '../reports/schema.js';
import type { KernelPool } from './cpu/pool.js';
import type { ProbeMessage } from './cpu/protocol.js';

const STREAM_BYTES_PER_THREAD = 128 * 2 ** 20; // far beyond any cache
const STREAM_REPEATS = 4;
const TILE = { rows: 64, keys: 128, headDim: 128 };
const TILE_REPEATS = 1500;

export const CEILING_METHOD =
  `stream: every thread sums its own ${STREAM_BYTES_PER_THREAD / 2 ** 20} MiB buffer with v128 loads ${STREAM_REPEATS}x, ` +
  `bytes / wall time; compute: every thread repeats the kernel's ${TILE.rows}x${TILE.keys}x${TILE.headDim} q·k tile ` +
  `${TILE_REPEATS}x in cache, 2·rows·keys·d FLOPs per tile / wall time; best of 3`;

export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'skipbench');
}

function cacheKey(env: Environment, threads: number, binarySha256: string): string {
  const id = [env.host.cpuModel, env.host.logicalCpus, env.runtime.node, threads, binarySha256].join('|');
  return createHash('sha256').update(id).digest('hex').slice(0, 16);
}

export interface CeilingOptions {
  cacheDir: string;
  refresh: boolean;
  binarySha256: string;
}

export async function machineCeilings(pool: KernelPool, env: Environment, options: CeilingOptions): Promise<Ceilings> {
  const file = join(options.cacheDir, `ceilings-${cacheKey(env, pool.threads, options.binarySha256)}.json`);
  if (!options.refresh) {
    try {
      const cached = JSON.parse(readFileSync(file, 'utf8')) as Ceilings;
      if (cached.streamReadBytesPerSec > 0 && cached.scoreTileFlopsPerSec > 0) return { ...cached, cached: true };
    } catch {
      // no usable cache: measure
    }
  }
  const ceilings = await probe(pool);
  try {
    mkdirSync(options.cacheDir, { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(ceilings, null, 2));
    renameSync(`${file}.tmp`, file);
  } catch {
    // a read-only home still gets measured ceilings, just not cached
  }
  return ceilings;
}

async function probe(pool: KernelPool): Promise<Ceilings> {
  const base = 65536;
  const threads = pool.threads;
  const tileBytes = (TILE.rows * TILE.headDim + TILE.keys * TILE.headDim + TILE.rows * TILE.keys) * 4;
  const tileBase = base + threads * STREAM_BYTES_PER_THREAD;
  const buffer = pool.reserve(tileBase + threads * tileBytes);
  // real, non-zero data: untouched pages would all map to one zero page and read from cache
  new Float32Array(buffer, base, (tileBase + threads * tileBytes - base) / 4).fill(0.5);
  const stream = (repeats: number): ProbeMessage[] =>
    Array.from({ length: threads }, (_, w) => ({
      type: 'probe',
      kind: 'stream',
      offset: base + w * STREAM_BYTES_PER_THREAD,
      bytes: STREAM_BYTES_PER_THREAD,
      repeats,
    }));
  const score = (repeats: number): ProbeMessage[] =>
    Array.from({ length: threads }, (_, w) => {
      const q = tileBase + w * tileBytes;
      const k = q + TILE.rows * TILE.headDim * 4;
      const s = k + TILE.keys * TILE.headDim * 4;
      return { type: 'probe', kind: 'score', offset: 0, bytes: 0, repeats, tile: { q, k, s, ...TILE } };
    });
  // a first small round lets V8 tier the probe functions up to optimized code
  await pool.probe(stream(1));
  await pool.probe(score(50));
  let bestStream = 0;
  let bestScore = 0;
  for (let i = 0; i < 3; i++) {
    const s = await pool.probe(stream(STREAM_REPEATS));
    bestStream = Math.max(bestStream, (threads * STREAM_BYTES_PER_THREAD * STREAM_REPEATS) / (s.wallMs / 1000));
    const c = await pool.probe(score(TILE_REPEATS));
    const flops = threads * TILE_REPEATS * 2 * TILE.rows * TILE.keys * TILE.headDim;
    bestScore = Math.max(bestScore, flops / (c.wallMs / 1000));
  }
  return {
    streamReadBytesPerSec: bestStream,
    scoreTileFlopsPerSec: bestScore,
    threads,
    measuredAt: new Date().toISOString(),
    method: CEILING_METHOD,
    cached: false,
  };
}

/** Roofline: which roof applies at this arithmetic intensity (FLOP/byte), under the CPU's or the GPU's ceilings. */
export function boundAt(
  intensity: number,
  ceilings: Ceilings | GpuCeilings | undefined,
): 'compute' | 'bandwidth' | 'unknown' {
  const roof = roofOf(ceilings);
  if (!roof || !Number.isFinite(intensity)) return 'unknown';
  return intensity >= ridgeOf(roof) ? 'compute' : 'bandwidth';
}
