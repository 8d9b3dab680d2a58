/**
 * A pool of worker threads running the WebAssembly kernel over one shared memory. The main thread stages operands,
 * then times whole dispatches: from posting the run to the last worker's reply, across `iterations` repetitions
 * that the workers separate with a barrier (so short decodes are not dominated by message latency).
 */
import { Worker } from 'node:worker_threads';
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import { createSharedMemory, MAX_PAGES } from '../../kernels/wasm/kernel.js';
import type { Plan } from '../../kernels/wasm/layout.js';
import type { SkipParams } from '../../kernels/wasm/units.js';
import { builtFile } from '../paths.js';
import type { FromWorker, ProbeMessage, ToWorker } from './protocol.js';
import { type CompiledKernel, loadKernelModule } from './wasm-module.js';

const PAGE = 65536;
const WORKER_PATH = 'dist/harness/cpu/worker.js';

export interface Dispatch {
  /** Wall time of the whole dispatch, post to last reply (ms). */
  wallMs: number;
  /** Time each worker spent computing (ms), for load-balance diagnostics. */
  busyMs: number[];
}

export class KernelPool {
  readonly threads: number;
  private readonly workers: Worker[];
  private readonly memory: WebAssembly.Memory;
  private closed = false;

  private constructor(workers: Worker[], memory: WebAssembly.Memory) {
    this.workers = workers;
    this.threads = workers.length;
    this.memory = memory;
  }

  static async create(threads: number, kernel: CompiledKernel = loadKernelModule()): Promise<KernelPool> {
    if (!Number.isInteger(threads) || threads < 1) {
      throw new SkipbenchError(ErrorCodes.CONFIG, `threads must be an integer >= 1 (got ${threads})`, {
        field: 'threads',
        allowed: 'integer >= 1',
      });
    }
    const { module } = kernel;
    const script = builtFile(WORKER_PATH);
    const memory = createSharedMemory(PAGE);
    const workers = Array.from({ length: threads }, () => new Worker(script));
    const pool = new KernelPool(workers, memory);
    try {
      await pool.broadcast((worker) => ({ type: 'init', module, memory, worker, workers: threads }));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** The shared memory's buffer, grown to hold at least `bytes`. Re-read it after every call: growth replaces it. */
  reserve(bytes: number): ArrayBufferLike {
    const pages = Math.ceil(bytes / PAGE);
    const current = this.memory.buffer.byteLength / PAGE;
    if (pages > MAX_PAGES) {
      throw new SkipbenchError(
        ErrorCodes.OPTION,
        `the run needs ${(bytes / 2 ** 30).toFixed(1)} GiB of kernel memory; WebAssembly allows 4 GiB (reduce heads or context)`,
        { field: 'context', allowed: '<= 4 GiB of operands' },
      );
    }
    if (pages > current) this.memory.grow(pages - current);
    return this.memory.buffer;
  }

  /** Runs every unit of the staged plan `iterations` times on all workers and times it. */
  async run(plan: Plan, params: SkipParams, iterations: number): Promise<Dispatch> {
    const control = plan.totalBytes;
    const buffer = this.reserve(control + (iterations + 2) * 4);
    new Int32Array(buffer, control, iterations + 2).fill(0);
    const start = performance.now();
    const busyMs = await this.broadcast(() => ({ type: 'run', plan, params, iterations, control }));
    return { wallMs: performance.now() - start, busyMs };
  }

  /** Runs a ceiling probe on every worker at once; `offsets` gives each worker its own operands. */
  async probe(messages: ProbeMessage[]): Promise<Dispatch> {
    const start = performance.now();
    const busyMs = await this.broadcast((worker) => messages[worker]);
    return { wallMs: performance.now() - start, busyMs };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /**
   * Sends one message to every worker and waits for every reply, even after one has failed: a worker still busy
   * with this dispatch would otherwise answer the next one's listeners with this dispatch's reply.
   */
  private async broadcast(make: (worker: number) => ToWorker): Promise<number[]> {
    if (this.closed) throw new SkipbenchError(ErrorCodes.WORKER, 'the kernel pool is closed');
    const replies = await Promise.allSettled(this.workers.map((worker, index) => request(worker, make(index))));
    const failed = replies.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return replies.map((r) => (r as PromiseFulfilledResult<number>).value);
  }
}

/** One request/reply with a worker; an error reply, a crash or an exit rejects with SKB_WORKER. */
function request(worker: Worker, message: ToWorker): Promise<number> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (reply: FromWorker) => {
      cleanup();
      if (reply.type === 'error') reject(new SkipbenchError(ErrorCodes.WORKER, `kernel worker failed: ${reply.message}`));
      else resolve(reply.type === 'done' ? reply.busyMs : 0);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new SkipbenchError(ErrorCodes.WORKER, `kernel worker crashed: ${error.message}`, {}, { cause: error }));
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new SkipbenchError(ErrorCodes.WORKER, `kernel worker exited with code ${code}`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(message);
  });
}
