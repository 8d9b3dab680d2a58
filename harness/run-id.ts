/** Run ids: target, UTC start time to the second, and a random suffix (two runs started together still differ). */
import { randomUUID } from 'node:crypto';

export function newRunId(target: 'kernel' | 'server', started: Date = new Date()): string {
  const stamp = started.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${target}-${stamp}-${randomUUID().slice(0, 6)}`;
}
