/**
 * A pool worker: one instance of the compiled kernel over the shared memory. It only computes; the main thread
 * measures wall time around whole dispatches.
 */
import { parentPort } from 'node:worker_threads';
import { instantiate } from '../../kernels/wasm/kernel.js';
import { type AttentionExports, mergeDecode, runUnit } from '../../kernels/wasm/units.js';
import { unitCount } from '../../kernels/wasm/layout.js';
import type { FromWorker, ProbeMessage, RunMessage, ToWorker } from './protocol.js';

if (!parentPort) throw new Error('harness/cpu/worker.js must run as a worker thread');
const port = parentPort;

let exports: AttentionExports | undefined;
let memory: WebAssembly.Memory | undefined;
let self = 0;
let workers = 1;

function reply(message: FromWorker): void {
  port.postMessage(message);
}

function run(message: RunMessage, x: AttentionExports, mem: WebAssembly.Memory): void {
  const { plan, params, iterations } = message;
  const units = unitCount(plan);
  // slots 0..iterations-1: unit counters; then barrier arrivals; then the released iteration count
  const control = new Int32Array(mem.buffer, message.control, iterations + 2);
  const arrivals = iterations;
  const released = iterations + 1;
  // A failing worker stops computing but keeps meeting the others at every barrier (they would wait for it forever
  // otherwise), and reports the failure once all iterations are released.
  let failure: unknown;
  for (let it = 0; it < iterations; it++) {
    if (failure === undefined) {
      try {
        for (let u = Atomics.add(control, it, 1); u < units; u = Atomics.add(control, it, 1)) {
          runUnit(x, plan, u, params, self);
        }
      } catch (error) {
        failure = error;
      }
    }
    if (Atomics.add(control, arrivals, 1) + 1 === workers * (it + 1)) {
      // last to arrive: finish the iteration before anyone starts the next one
      try {
        if (plan.kind === 'decode' && failure === undefined) mergeDecode(mem.buffer, plan);
      } catch (error) {
        failure = error;
      }
      Atomics.store(control, released, it + 1);
      Atomics.notify(control, released);
    } else {
      for (let seen = Atomics.load(control, released); seen <= it; seen = Atomics.load(control, released)) {
        Atomics.wait(control, released, seen);
      }
    }
  }
  if (failure !== undefined) throw failure;
}

function probe(message: ProbeMessage, x: AttentionExports): void {
  if (message.kind === 'stream') {
    for (let r = 0; r < message.repeats; r++) x.streamRead(message.offset, message.bytes);
  } else if (message.tile) {
    const t = message.tile;
    x.scoreProbe(t.q, t.rows, t.k, t.keys, t.headDim, t.s, message.repeats);
  }
}

port.on('message', (message: ToWorker) => {
  try {
    if (message.type === 'init') {
      memory = message.memory;
      exports = instantiate(message.module, memory);
      self = message.worker;
      workers = message.workers;
      reply({ type: 'ready' });
      return;
    }
    if (!exports || !memory) throw new Error('worker used before init');
    const start = performance.now();
    if (message.type === 'run') run(message, exports, memory);
    else probe(message, exports);
    reply({ type: 'done', busyMs: performance.now() - start });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    reply({ type: 'error', message: e.message, stack: e.stack });
  }
});
