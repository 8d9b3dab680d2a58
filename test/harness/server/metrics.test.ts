/** Per-request metrics on hand-computed timelines (ms). */
import { describe, expect, it } from 'vitest';
import { interTokenLatencies, requestMetrics, type TimedRecord } from '../../../harness/server/metrics.js';

describe('requestMetrics', () => {
  it('computes queue delay, TTFT (from send and from schedule), E2EL, TPOT and ITL', () => {
    // scheduled at 100, written at 110, token events at 160, 170, 185, 205 (1 token each)
    const r: TimedRecord = {
      tSched: 100,
      tSend: 110,
      tFirst: 160,
      tLast: 205,
      tokenTimes: [160, 170, 185, 205],
      tokenCounts: [1, 1, 1, 1],
      nOut: 4,
    };
    expect(requestMetrics(r)).toEqual({
      queueDelayMs: 10,
      ttftMs: 50,
      ttftFromSchedMs: 60,
      e2elMs: 95,
      tpotMs: 15, // (95 - 50) / 3
      itlMs: [10, 15, 20], // the 50 ms TTFT gap is not an ITL
    });
  });

  it('has no TPOT for a single output token', () => {
    const m = requestMetrics({
      tSched: 0,
      tSend: 2,
      tFirst: 30,
      tLast: 30,
      tokenTimes: [30],
      tokenCounts: [1],
      nOut: 1,
    });
    expect(m).toEqual({ queueDelayMs: 2, ttftMs: 28, ttftFromSchedMs: 30, e2elMs: 28, itlMs: [] });
    expect(m.tpotMs).toBeUndefined();
  });

  it('divides each gap by the tokens of the later event, and TPOT uses N_out from usage', () => {
    // events: 1 token at 50, 3 tokens at 80, 2 tokens at 90 -> 6 tokens
    const r: TimedRecord = {
      tSched: 0,
      tSend: 0,
      tFirst: 50,
      tLast: 90,
      tokenTimes: [50, 80, 90],
      tokenCounts: [1, 3, 2],
      nOut: 6,
    };
    const m = requestMetrics(r);
    expect(m.itlMs).toEqual([10, 5]);
    expect(m.tpotMs).toBe(8); // (90 - 50) / 5
  });

  it('leaves metrics undefined when their stamps are missing (a failed request)', () => {
    expect(requestMetrics({ tSched: 5, tokenTimes: [], tokenCounts: [], nOut: 0 })).toEqual({ itlMs: [] });
    expect(requestMetrics({ tSched: 5, tSend: 7, tokenTimes: [], tokenCounts: [], nOut: 0 })).toEqual({
      queueDelayMs: 2,
      itlMs: [],
    });
  });
});

describe('interTokenLatencies', () => {
  it('treats a count below 1 as one token', () => {
    expect(interTokenLatencies([0, 4, 10], [1, 0, 2])).toEqual([4, 3]);
  });
});
