/**
 * First-in, first-out service of one request at a time: the reference server has one "accelerator", so a request
 * that arrives while another runs waits, and that wait shows up in the client's TTFT as it does on a real server
 * with no batching. A request whose signal fires while it waits leaves the queue without running.
 */
export class FifoQueue {
  private readonly waiting: Array<{ start: () => void; drop: () => void }> = [];
  private running = false;

  /** Requests waiting (not counting the one running). */
  get deferred(): number {
    return this.waiting.length;
  }

  /** 1 while a request runs, else 0. */
  get processing(): number {
    return this.running ? 1 : 0;
  }

  /**
   * Runs `task` when every request queued before it has finished. Resolves to the task's result, or to undefined
   * when `signal` fired before the task started (or the queue was closed). A rejected task rejects this call and the
   * queue moves on.
   */
  run<T>(signal: AbortSignal, task: () => Promise<T>): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      if (signal.aborted) {
        resolve(undefined);
        return;
      }
      const leave = () => {
        const at = this.waiting.indexOf(entry);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(undefined);
      };
      const entry = {
        start: () => {
          signal.removeEventListener('abort', leave);
          this.running = true;
          let pending: Promise<T>;
          try {
            pending = task();
          } catch (error) {
            pending = Promise.reject(error);
          }
          pending.then(resolve, reject).finally(() => {
            this.running = false;
            this.next();
          });
        },
        drop: () => {
          signal.removeEventListener('abort', leave);
          resolve(undefined);
        },
      };
      signal.addEventListener('abort', leave, { once: true });
      this.waiting.push(entry);
      this.next();
    });
  }

  /** Drops every waiting request (they resolve to undefined); the running one finishes on its own. */
  clear(): void {
    for (const entry of this.waiting.splice(0)) entry.drop();
  }

  private next(): void {
    if (this.running) return;
    this.waiting.shift()?.start();
  }
}
