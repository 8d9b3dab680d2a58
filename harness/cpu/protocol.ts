/** Messages between the pool (main thread) and its workers. */
import type { Plan } from '../../kernels/wasm/layout.js';
import type { SkipParams } from '../../kernels/wasm/units.js';

export interface InitMessage {
  type: 'init';
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  worker: number;
  workers: number;
}

/**
 * Run every unit of `plan` `iterations` times. Units are claimed dynamically through the atomic counter of each
 * iteration (Int32 slots at `control`), then all workers meet at a barrier (the two slots after them) so iterations
 * do not overlap; the last to arrive finishes the iteration (the split-KV merge in decode) and releases the others.
 */
export interface RunMessage {
  type: 'run';
  plan: Plan;
  params: SkipParams;
  iterations: number;
  control: number;
}

export type ProbeKind = 'stream' | 'score';

/** Ceiling probes: stream `bytes` from `offset` (`repeats` times), or repeat an in-cache q·k tile. */
export interface ProbeMessage {
  type: 'probe';
  kind: ProbeKind;
  offset: number;
  bytes: number;
  repeats: number;
  /** Score probe operands: q, packed k, scores, and the tile shape. */
  tile?: { q: number; k: number; s: number; rows: number; keys: number; headDim: number };
}

export type ToWorker = InitMessage | RunMessage | ProbeMessage;

export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; busyMs: number }
  | { type: 'error'; message: string; stack?: string };
