/**
 * The reference server's counters and their Prometheus text exposition (GET /metrics), named like llama.cpp's
 * (`llamacpp:prompt_tokens_total` -> `skipbench:prompt_tokens_total`) plus the tile counters no real server exposes:
 * with a skip factor > 0 the skipped-tile counters grow, with factor 0 they stay 0, which is the "skip arm actually
 * skips" signal a benchmark can scrape before and after a run.
 */
import type { GenerationResult } from './model.js';

export interface ServeCounters {
  /** Requests that generated every token they asked for. */
  requestsTotal: number;
  /** Requests stopped before finishing (client disconnect), queued or running. */
  requestsCancelled: number;
  /** Requests answered with an HTTP error (4xx/5xx). */
  requestsRejected: number;
  /** Prompt tokens prefilled (no prefix cache: every prompt token counts). */
  promptTokens: number;
  /** Tokens generated. */
  predictedTokens: number;
  /** Prompt processing time (s): start of processing to the first token. */
  promptSeconds: number;
  /** Generation time (s): first to last token. */
  predictedSeconds: number;
  prefillTilesVisited: number;
  prefillTilesSkipped: number;
  decodeTilesVisited: number;
  decodeTilesSkipped: number;
}

export interface QueueGauges {
  processing: number;
  deferred: number;
}

interface MetricSpec {
  key: keyof ServeCounters;
  name: string;
  help: string;
}

const COUNTERS: MetricSpec[] = [
  { key: 'requestsTotal', name: 'requests_total', help: 'Requests that generated all their tokens' },
  { key: 'requestsCancelled', name: 'requests_cancelled_total', help: 'Requests stopped by a client disconnect' },
  { key: 'requestsRejected', name: 'requests_rejected_total', help: 'Requests answered with an HTTP error' },
  { key: 'promptTokens', name: 'prompt_tokens_total', help: 'Prompt tokens processed (no prefix cache)' },
  { key: 'predictedTokens', name: 'tokens_predicted_total', help: 'Tokens generated' },
  { key: 'promptSeconds', name: 'prompt_seconds_total', help: 'Time spent processing prompts' },
  { key: 'predictedSeconds', name: 'tokens_predicted_seconds_total', help: 'Time spent generating tokens' },
  {
    key: 'prefillTilesVisited',
    name: 'prefill_tiles_visited_total',
    help: 'Prefill KV tiles visited (all layers and heads)',
  },
  { key: 'prefillTilesSkipped', name: 'prefill_tiles_skipped_total', help: 'Prefill KV tiles skipped by Skip Softmax' },
  {
    key: 'decodeTilesVisited',
    name: 'decode_tiles_visited_total',
    help: 'Decode KV tiles visited (all layers, KV heads, steps)',
  },
  { key: 'decodeTilesSkipped', name: 'decode_tiles_skipped_total', help: 'Decode KV tiles skipped by Skip Softmax' },
];

export const METRIC_PREFIX = 'skipbench:';

export class ServeMetrics {
  readonly counters: ServeCounters = {
    requestsTotal: 0,
    requestsCancelled: 0,
    requestsRejected: 0,
    promptTokens: 0,
    predictedTokens: 0,
    promptSeconds: 0,
    predictedSeconds: 0,
    prefillTilesVisited: 0,
    prefillTilesSkipped: 0,
    decodeTilesVisited: 0,
    decodeTilesSkipped: 0,
  };

  /** Adds the work of one request, finished or cut short (work done before a disconnect still counts). */
  record(result: GenerationResult): void {
    const c = this.counters;
    if (result.status === 'completed') c.requestsTotal++;
    else c.requestsCancelled++;
    if (result.tokens.length > 0) {
      c.promptTokens += result.promptTokens;
      c.promptSeconds += result.promptMs / 1000;
    }
    c.predictedTokens += result.tokens.length;
    c.predictedSeconds += result.predictedMs / 1000;
    c.prefillTilesVisited += result.prefill.visitedTiles;
    c.prefillTilesSkipped += result.prefill.skippedTiles;
    c.decodeTilesVisited += result.decode.visitedTiles;
    c.decodeTilesSkipped += result.decode.skippedTiles;
  }

  /** Prometheus text format 0.0.4. */
  render(queue: QueueGauges): string {
    const lines: string[] = [];
    const emit = (name: string, type: 'counter' | 'gauge', help: string, value: number) => {
      lines.push(`# HELP ${METRIC_PREFIX}${name} ${help}`, `# TYPE ${METRIC_PREFIX}${name} ${type}`);
      lines.push(`${METRIC_PREFIX}${name} ${value}`);
    };
    for (const spec of COUNTERS) emit(spec.name, 'counter', spec.help, this.counters[spec.key]);
    emit('requests_processing', 'gauge', 'Requests being processed (0 or 1: one at a time)', queue.processing);
    emit('requests_deferred', 'gauge', 'Requests waiting in the FIFO queue', queue.deferred);
    return `${lines.join('\n')}\n`;
  }
}

/** Parses the Prometheus text this server writes into name -> value (tests and scrapers of this server). */
export function parseMetrics(text: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [name, value] = line.trim().split(/\s+/);
    values[name] = Number(value);
  }
  return values;
}
