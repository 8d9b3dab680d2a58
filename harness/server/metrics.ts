/**
 * Per-request latency metrics (DESIGN.md §2), pure functions of a record's stamps. All values are milliseconds on
 * the record's clock; a metric whose stamps are missing (a failed request) is undefined, never 0 or NaN.
 *
 *   queue delay  = t_send - t_sched
 *   TTFT         = t_first - t_send          (ttftFromSchedMs: t_first - t_sched, for open-loop runs)
 *   E2EL         = t_last - t_send
 *   TPOT         = (E2EL - TTFT) / (N_out - 1), only for N_out >= 2
 *   ITL          = for each token-bearing event after the first: (its time - the previous event's time) divided by
 *                  the tokens it carries. The gap before the first event is TTFT, never an ITL (vLLM #7242).
 */

/** The stamps the metrics need; RequestRecord satisfies it. */
export interface TimedRecord {
  tSched: number;
  tSend?: number;
  tFirst?: number;
  tLast?: number;
  tokenTimes: readonly number[];
  tokenCounts: readonly number[];
  /** Output tokens (usage or event count). */
  nOut: number;
}

export interface RequestMetrics {
  /** t_send - t_sched (ms): time waiting to be written (schedule lag, connection wait). */
  queueDelayMs?: number;
  /** t_first - t_send (ms). */
  ttftMs?: number;
  /** t_first - t_sched (ms): TTFT including queue delay, the coordinated-omission-free figure for open loop. */
  ttftFromSchedMs?: number;
  /** t_last - t_send (ms). */
  e2elMs?: number;
  /** (E2EL - TTFT) / (N_out - 1) (ms per token); undefined for N_out < 2. */
  tpotMs?: number;
  /** Inter-token latencies (ms per token), one per gap between successive token-bearing events. */
  itlMs: number[];
}

export function requestMetrics(r: TimedRecord): RequestMetrics {
  const m: RequestMetrics = { itlMs: interTokenLatencies(r.tokenTimes, r.tokenCounts) };
  const { tSched, tSend, tFirst, tLast } = r;
  if (tSend !== undefined) m.queueDelayMs = tSend - tSched;
  if (tFirst !== undefined) m.ttftFromSchedMs = tFirst - tSched;
  if (tSend !== undefined && tFirst !== undefined) m.ttftMs = tFirst - tSend;
  if (tSend !== undefined && tLast !== undefined) m.e2elMs = tLast - tSend;
  if (m.ttftMs !== undefined && m.e2elMs !== undefined && r.nOut >= 2) {
    m.tpotMs = (m.e2elMs - m.ttftMs) / (r.nOut - 1);
  }
  return m;
}

/**
 * Gaps between successive token events, each divided by the tokens of the later event (an event carrying k tokens
 * covers k token intervals). Events with a count below 1 are treated as carrying one token.
 */
export function interTokenLatencies(times: readonly number[], counts: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < times.length; i++) out.push((times[i] - times[i - 1]) / Math.max(1, counts[i] ?? 1));
  return out;
}
