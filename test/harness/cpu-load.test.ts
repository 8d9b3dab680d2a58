import { describe, expect, it } from 'vitest';
import { type CpuSnapshot, cpuSnapshot, foreignLoad } from '../../harness/cpu-load.js';

const snap = (at: number, busyMs: number, processMs: number): CpuSnapshot => ({ at, busyMs, processMs });

describe('foreignLoad', () => {
  it('is (busy - own CPU) / wall, in cores', () => {
    expect(foreignLoad(snap(0, 0, 0), snap(1000, 1500, 500))).toBe(1);
    expect(foreignLoad(snap(100, 1000, 200), snap(300, 1400, 300))).toBeCloseTo(1.5, 12);
    expect(foreignLoad(snap(0, 0, 0), snap(2000, 1000, 0))).toBe(0.5);
  });

  it('is 0 when only this process ran', () => {
    expect(foreignLoad(snap(0, 100, 50), snap(1000, 1100, 1050))).toBe(0);
  });

  it('clamps at 0 when tick rounding makes own CPU exceed the busy time', () => {
    expect(foreignLoad(snap(0, 0, 0), snap(20, 10, 19))).toBe(0);
  });

  it('is 0 for a zero or negative wall time', () => {
    expect(foreignLoad(snap(5, 0, 0), snap(5, 100, 0))).toBe(0);
    expect(foreignLoad(snap(10, 0, 0), snap(5, 100, 0))).toBe(0);
  });
});

describe('cpuSnapshot', () => {
  it('reads finite, non-decreasing clocks and sees this process work', () => {
    const a = cpuSnapshot();
    // spin until this process has used 20 ms of CPU (however busy the machine is), at most 5 s
    const start = process.cpuUsage();
    const deadline = performance.now() + 5000;
    let x = 0;
    while (performance.now() < deadline) {
      for (let i = 0; i < 10000; i++) x += Math.sqrt(x + i);
      const used = process.cpuUsage(start);
      if (used.user + used.system >= 20000) break;
    }
    const b = cpuSnapshot();
    expect(x).toBeGreaterThan(0);
    for (const s of [a, b]) {
      expect(Number.isFinite(s.at) && Number.isFinite(s.busyMs) && Number.isFinite(s.processMs)).toBe(true);
    }
    expect(b.at).toBeGreaterThan(a.at);
    expect(b.busyMs).toBeGreaterThanOrEqual(a.busyMs);
    expect(b.processMs - a.processMs).toBeGreaterThanOrEqual(20);
    const load = foreignLoad(a, b);
    expect(load).toBeGreaterThanOrEqual(0);
  });
});
