/** The FIFO queue: one task at a time in arrival order, aborted waiters leave without running, clear drops them. */
import { describe, expect, it } from 'vitest';
import { FifoQueue } from '../../../harness/serve/queue.js';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const never = new AbortController().signal;

describe('FifoQueue', () => {
  it('runs one task at a time, in arrival order', async () => {
    const queue = new FifoQueue();
    const log: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const runs = gates.map((gate, i) =>
      queue.run(never, async () => {
        log.push(`start ${i}`);
        await gate.promise;
        log.push(`end ${i}`);
        return i;
      }),
    );
    expect(queue.processing).toBe(1);
    expect(queue.deferred).toBe(2);
    gates[2].resolve();
    gates[1].resolve();
    gates[0].resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    expect(queue.processing).toBe(0);
    expect(queue.deferred).toBe(0);
  });

  it('drops a waiting task whose signal fires, and moves on after a failed task', async () => {
    const queue = new FifoQueue();
    const gate = deferred();
    const controller = new AbortController();
    let ranSecond = false;
    const first = queue.run(never, async () => {
      await gate.promise;
      throw new Error('boom');
    });
    const second = queue.run(controller.signal, async () => {
      ranSecond = true;
    });
    const third = queue.run(never, async () => 'third');
    controller.abort();
    expect(await second).toBeUndefined();
    expect(queue.deferred).toBe(1);
    gate.resolve();
    await expect(first).rejects.toThrow('boom');
    expect(await third).toBe('third');
    expect(ranSecond).toBe(false);
  });

  it('never starts a task whose signal already fired; clear() drops every waiter', async () => {
    const queue = new FifoQueue();
    const aborted = AbortSignal.abort();
    expect(await queue.run(aborted, async () => 1)).toBeUndefined();
    const gate = deferred();
    const running = queue.run(never, () => gate.promise.then(() => 'done'));
    const waiting = [queue.run(never, async () => 'a'), queue.run(never, async () => 'b')];
    queue.clear();
    expect(await Promise.all(waiting)).toEqual([undefined, undefined]);
    gate.resolve();
    expect(await running).toBe('done');
  });
});
