/**
 * Foreign CPU load: how much CPU other processes used while we measured. Busy time of all CPUs minus this
 * process's own CPU time (all its threads), over the wall time, in cores. On a shared 2-core machine a second
 * process taking half a core is enough to skew a kernel timing, so every sample records it.
 */
import { cpus } from 'node:os';

export interface CpuSnapshot {
  /** performance.now() when taken (ms). */
  at: number;
  /** Busy (non-idle) time summed over every CPU (ms). */
  busyMs: number;
  /** This process's user + system CPU time (ms). */
  processMs: number;
}

export function cpuSnapshot(): CpuSnapshot {
  let busy = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    busy += t.user + t.nice + t.sys + t.irq;
  }
  const usage = process.cpuUsage();
  return { at: performance.now(), busyMs: busy, processMs: (usage.user + usage.system) / 1000 };
}

/**
 * Foreign load between two snapshots, in cores (0 = idle machine, 1 = one core fully used by others). The OS counts
 * CPU time in 10 ms ticks, so short intervals are coarse; values are clamped at 0.
 */
export function foreignLoad(before: CpuSnapshot, after: CpuSnapshot): number {
  const wall = after.at - before.at;
  if (wall <= 0) return 0;
  const foreign = after.busyMs - before.busyMs - (after.processMs - before.processMs);
  return Math.max(0, foreign / wall);
}
