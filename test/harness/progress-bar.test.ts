/**
 * The progress bar: the pure line format, in-place redraws on a TTY (throttled), sparse full lines elsewhere, and
 * silence without a stream. A fake stream records writes; a fake clock sets the elapsed time.
 */
import { describe, expect, it } from 'vitest';
import { createProgressBar, formatElapsed, formatProgress, type ProgressStream } from '../../harness/progress-bar.js';

function fakeStream(isTTY: boolean, columns?: number): ProgressStream & { writes: string[] } {
  const writes: string[] = [];
  return { isTTY, columns, writes, write: (chunk: string) => writes.push(chunk) };
}

function fakeClock(start = 1000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

describe('formatProgress', () => {
  it('shows count/total, percentage, ok/failed, rate and elapsed', () => {
    expect(formatProgress({ label: 'load', done: 42, ok: 40, failed: 2, total: 100, elapsedMs: 5000 })).toBe(
      'load  42/100  42.0%  ok 40  failed 2  8.40 req/s  5.0 s',
    );
  });

  it('adds a bar when asked, and leaves count and percentage out of a run without a total', () => {
    expect(formatProgress({ label: 'x', done: 5, ok: 5, failed: 0, total: 20, elapsedMs: 100 }, 8)).toBe(
      'x  5/20  25.0%  [##------]  ok 5  failed 0  50.0 req/s  0.1 s',
    );
    expect(formatProgress({ label: 'run', done: 1234, ok: 1200, failed: 34, elapsedMs: 125_000 })).toBe(
      'run  1234  ok 1200  failed 34  9.87 req/s  2m05s',
    );
  });

  it('shows no rate before any time has passed', () => {
    expect(formatProgress({ label: 'l', done: 0, ok: 0, failed: 0, total: 3, elapsedMs: 0 })).toBe(
      'l  0/3  0.0%  ok 0  failed 0  — req/s  0.0 s',
    );
  });

  it('formats elapsed time in s, m:s and h:m', () => {
    expect(formatElapsed(59_940)).toBe('59.9 s');
    expect(formatElapsed(61_000)).toBe('1m01s');
    expect(formatElapsed(3_725_000)).toBe('1h02m');
  });
});

describe('createProgressBar', () => {
  it('redraws one line in place on a TTY, throttled, and ends it with a newline', () => {
    const stream = fakeStream(true);
    const clock = fakeClock();
    const bar = createProgressBar({ total: 4, stream, label: 'load', now: clock.now, redrawMs: 100 });
    expect(stream.writes).toHaveLength(1); // drawn at once: 0/4
    clock.t += 50;
    bar.tick({ ok: true }); // within 100 ms of the last draw: skipped
    expect(stream.writes).toHaveLength(1);
    clock.t += 60;
    bar.tick({ ok: false });
    expect(stream.writes).toHaveLength(2);
    for (const w of stream.writes) {
      expect(w.startsWith('\r')).toBe(true);
      expect(w).not.toContain('\n');
    }
    expect(stream.writes[1]).toContain('2/4  50.0%');
    expect(stream.writes[1]).toContain('ok 1  failed 1');
    bar.done();
    const last = stream.writes.at(-1) as string;
    expect(last.startsWith('\r')).toBe(true);
    expect(last.endsWith('\n')).toBe(true);
    bar.tick({ ok: true });
    bar.done();
    expect(stream.writes).toHaveLength(3);
  });

  it('cuts a TTY line to the terminal width so \\r redraws do not wrap', () => {
    const stream = fakeStream(true, 30);
    createProgressBar({ total: 1000, stream, label: 'a-long-label', now: fakeClock().now });
    const visible = stream.writes[0].replace('\r', '').replace('\x1b[K', '');
    expect(visible.length).toBe(29);
  });

  it('prints full lines at most every intervalMs on a non-TTY, plus one at the end', () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const bar = createProgressBar({ total: 100, stream, label: 'load', now: clock.now, intervalMs: 5000 });
    expect(stream.writes).toHaveLength(0);
    for (let i = 0; i < 100; i++) {
      clock.t += 120; // 12 s in all
      bar.tick({ ok: i % 10 !== 0 });
    }
    expect(stream.writes).toHaveLength(2); // at 5 s and 10 s
    bar.done();
    expect(stream.writes).toHaveLength(3);
    for (const w of stream.writes) {
      expect(w.endsWith('\n')).toBe(true);
      expect(w).not.toContain('\r');
      expect(w).not.toContain('\x1b');
    }
    expect(stream.writes[2]).toBe('load  100/100  100.0%  ok 90  failed 10  8.33 req/s  12.0 s\n');
  });

  it('update sets the total and the counts', () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const bar = createProgressBar({ stream, label: 'load', now: clock.now });
    bar.update({ total: 10, ok: 3, failed: 1 });
    bar.tick({ ok: true });
    clock.t += 2000;
    bar.done();
    expect(stream.writes).toEqual(['load  5/10  50.0%  ok 4  failed 1  2.50 req/s  2.0 s\n']);
  });

  it('writes nothing without a stream', () => {
    const bar = createProgressBar({ total: 3, label: 'load', now: fakeClock().now });
    bar.tick({ ok: true });
    bar.update({ total: 4 });
    expect(() => bar.done()).not.toThrow();
  });
});
