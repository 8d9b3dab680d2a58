/**
 * A request counter for the terminal. On a TTY it redraws one line in place (`\r`, throttled to a few redraws a
 * second); anywhere else (CI logs, files) it prints a full line at most every `intervalMs` and once at the end, so logs
 * stay readable. Without a stream it does nothing. Formatting is the pure `formatProgress`; only the bar writes.
 */

export interface ProgressState {
  label: string;
  /** Requests finished (ok + failed). */
  done: number;
  ok: number;
  failed: number;
  /** Requests expected in all, when known. */
  total?: number;
  /** Milliseconds since the bar was created. */
  elapsedMs: number;
}

/** Where the bar writes: process.stderr, or any object with write (isTTY/columns read when present). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressBarOptions {
  /** Requests expected in all; leave out when unknown (a duration-bound run). */
  total?: number;
  /** No stream: no output at all. */
  stream?: ProgressStream;
  label: string;
  /** Clock in ms; default performance.now. */
  now?: () => number;
  /** Non-TTY: least time between two printed lines (ms); default 5000. */
  intervalMs?: number;
  /** TTY: least time between two redraws (ms); default 100. */
  redrawMs?: number;
}

export interface ProgressBar {
  /** One request finished. */
  tick(info: { ok: boolean }): void;
  /** Sets absolute values (e.g. the total once it is known) and redraws if due. */
  update(patch: Partial<Pick<ProgressState, 'label' | 'ok' | 'failed' | 'total'>>): void;
  /** Draws the final line and ends it with a newline; later calls do nothing. */
  done(): void;
}

/**
 * One line: `label  done/total  pct  [bar]  ok N  failed N  rate req/s  elapsed`, e.g.
 * `load  42/100  42.0%  ok 40  failed 2  8.40 req/s  5.0 s`. Without a total: `load  42  ok 40 ...`.
 * The rate is done / elapsed; `barWidth` > 0 adds a bar of that many cells (needs a total).
 */
export function formatProgress(state: ProgressState, barWidth = 0): string {
  const { label, done, ok, failed, total, elapsedMs } = state;
  const parts = [label];
  if (total !== undefined && total > 0) {
    const fraction = Math.min(1, done / total);
    parts.push(`${done}/${total}`, `${(fraction * 100).toFixed(1)}%`);
    if (barWidth > 0) {
      const filled = Math.round(fraction * barWidth);
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`);
    }
  } else {
    parts.push(String(done));
  }
  parts.push(`ok ${ok}`, `failed ${failed}`);
  parts.push(`${elapsedMs > 0 ? formatRate((done * 1000) / elapsedMs) : '—'} req/s`, formatElapsed(elapsedMs));
  return parts.join('  ');
}

function formatRate(perSecond: number): string {
  return perSecond.toFixed(perSecond >= 100 ? 0 : perSecond >= 10 ? 1 : 2);
}

/** 5.0 s, 2m05s, 1h02m. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.floor(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

const BAR_WIDTH = 20;
const CLEAR_TO_END = '\x1b[K';

export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const { stream } = options;
  const now = options.now ?? (() => performance.now());
  const intervalMs = options.intervalMs ?? 5000;
  const redrawMs = options.redrawMs ?? 100;
  const tty = stream?.isTTY === true;
  const startedAt = now();
  const state: ProgressState = { label: options.label, done: 0, ok: 0, failed: 0, elapsedMs: 0 };
  if (options.total !== undefined) state.total = options.total;
  let lastWrite = tty ? Number.NEGATIVE_INFINITY : startedAt;
  let finished = false;

  const line = (): string => {
    state.elapsedMs = now() - startedAt;
    const text = formatProgress(state, tty ? BAR_WIDTH : 0);
    // a line wider than the terminal wraps, and `\r` would then redraw only its last row
    const columns = stream?.columns;
    return tty && columns !== undefined && columns > 1 && text.length >= columns ? text.slice(0, columns - 1) : text;
  };
  const draw = (force: boolean): void => {
    if (!stream || finished) return;
    const t = now();
    if (!force && t - lastWrite < (tty ? redrawMs : intervalMs)) return;
    lastWrite = t;
    stream.write(tty ? `\r${line()}${CLEAR_TO_END}` : `${line()}\n`);
  };
  if (tty) draw(true);

  return {
    tick({ ok }) {
      if (finished) return;
      state.done++;
      if (ok) state.ok++;
      else state.failed++;
      draw(false);
    },
    update(patch) {
      if (finished) return;
      Object.assign(state, patch);
      state.done = state.ok + state.failed;
      draw(false);
    },
    done() {
      if (!stream || finished) {
        finished = true;
        return;
      }
      stream.write(tty ? `\r${line()}${CLEAR_TO_END}\n` : `${line()}\n`);
      finished = true;
    },
  };
}
