/**
 * A vLLM-compatible export (`vllm bench serve --save-result` keys) of a server result: one object per
 * (arm, context, phase), so existing vLLM dashboards and scripts can read skipbench runs. Times in the summary keys
 * are milliseconds; the detailed ttfts / itls lists are seconds, as vLLM writes them. Warmup requests are left out.
 */
import type { RequestSample, ResultFile, ServerCell } from './schema.js';
import { distribution } from './stats.js';

export type VllmResult = Record<string, unknown>;

function latencyKeys(name: string, values: number[]): Record<string, number> {
  const d = distribution(values);
  return {
    [`mean_${name}_ms`]: d.mean,
    [`median_${name}_ms`]: d.p50,
    [`std_${name}_ms`]: d.std,
    [`p99_${name}_ms`]: d.p99,
  };
}

function defined(values: (number | undefined)[]): number[] {
  return values.filter((v): v is number => v !== undefined && Number.isFinite(v));
}

export function vllmExport(result: ResultFile): VllmResult[] {
  if (result.target.kind !== 'server') return [];
  const target = result.target;
  return result.cells
    .filter((c): c is ServerCell => c.kind === 'server')
    .map((cell) => {
      const counted = cell.samples.filter((s) => !s.warmup);
      const ok = counted.filter((s) => s.status === 'ok');
      const m = cell.metrics;
      const outputLens = ok.map((s) => s.outputTokens ?? 0);
      const inputLens = ok.map((s) => s.promptTokensServer ?? s.promptTokensClient ?? 0);
      const seconds = m.durationMs / 1000;
      const perSecondPeak = maxOutputTokensPerSecond(ok);
      return {
        date: result.run.startedAt,
        backend: target.server ?? 'openai-compatible',
        label: `${cell.arm} ${cell.context} ${cell.phase}`,
        model_id: target.model ?? null,
        tokenizer_id: target.tokenizer,
        num_prompts: counted.length,
        request_rate: 'inf',
        burstiness: 1.0,
        max_concurrency: 1,
        duration: seconds,
        completed: ok.length,
        failed: counted.length - ok.length,
        total_input_tokens: inputLens.reduce((a, b) => a + b, 0),
        total_output_tokens: outputLens.reduce((a, b) => a + b, 0),
        request_throughput: m.requestThroughput,
        request_goodput: null,
        output_throughput: m.outputThroughput,
        total_token_throughput: m.totalTokenThroughput,
        max_output_tokens_per_s: perSecondPeak,
        ...latencyKeys('ttft', defined(ok.map((s) => s.ttftMs))),
        ...latencyKeys('tpot', defined(ok.map((s) => s.tpotMs))),
        ...latencyKeys('itl', ok.flatMap((s) => s.itlMs ?? [])),
        ...latencyKeys('e2el', defined(ok.map((s) => s.e2elMs))),
        input_lens: inputLens,
        output_lens: outputLens,
        ttfts: ok.map((s) => (s.ttftMs ?? Number.NaN) / 1000),
        itls: ok.map((s) => (s.itlMs ?? []).map((x) => x / 1000)),
        errors: counted.map((s) => (s.status === 'ok' ? '' : `${s.reason}: ${s.message ?? ''}`)),
      };
    });
}

/** Most output tokens finished within any one-second window (vLLM's max_output_tokens_per_s, by request ends). */
function maxOutputTokensPerSecond(samples: RequestSample[]): number {
  const ends = samples
    .filter((s) => s.lastAtMs !== undefined)
    .map((s) => ({ at: s.lastAtMs!, tokens: s.outputTokens ?? 0 }))
    .sort((a, b) => a.at - b.at);
  let best = 0;
  let sum = 0;
  let start = 0;
  for (const e of ends) {
    sum += e.tokens;
    while (e.at - ends[start].at > 1000) sum -= ends[start++].tokens;
    best = Math.max(best, sum);
  }
  return best;
}
