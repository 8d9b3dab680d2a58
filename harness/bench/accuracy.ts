/**
 * Needle retrieval accuracy through every arm: per context and depth, the same exact-length needle prompts (unique per
 * request) go to every arm in alternating order, the answers are graded (workloads/prompts/needle.ts), and each arm
 * gets an accuracy record with a Wilson interval, next to its speedups in the same result file.
 */
import type { AccuracyRecord } from '../../reports/schema.js';
import { wilsonInterval } from '../../reports/stats.js';
import { buildNeedlePrompt, type Grade, gradePasskey, llama3Tokenizer } from '../../workloads/index.js';
import type { RequestRecord, RequestSpec } from '../server/record.js';
import type { RequestOptions } from '../server/request.js';
import type { ServerArmSpec, ServerBenchConfig } from './config.js';

export const ACCURACY_METHOD =
  'passkey retrieval: exact-length haystack with the key(s) at the given depth and a question at the end, greedy ' +
  '(temperature 0); exact = every key in the answer; Wilson 95% interval on the exact rate; same prompts for every arm';

type Send = (spec: RequestSpec, options: RequestOptions) => Promise<RequestRecord>;

export async function runAccuracy(
  c: ServerBenchConfig,
  accuracy: NonNullable<ServerBenchConfig['accuracy']>,
  runId: string,
  send: Send,
  requestOptions: (arm: ServerArmSpec) => RequestOptions,
  signal?: AbortSignal,
  onRecord?: (record: AccuracyRecord) => void,
): Promise<AccuracyRecord[]> {
  const tokenizer = llama3Tokenizer();
  const records: AccuracyRecord[] = [];
  for (const [ci, context] of c.contexts.entries()) {
    for (const [di, depth] of accuracy.depths.entries()) {
      const grades = new Map<string, { grade: Grade | 'failed'; score: number }[]>(c.arms.map((a) => [a.id, []]));
      for (let r = 0; r < accuracy.rounds && !signal?.aborted; r++) {
        const prompt = buildNeedlePrompt({
          tokens: context,
          depth,
          keys: accuracy.keys,
          seed: c.seed,
          runId: runId.slice(-6),
          requestIndex: (ci * 64 + di) * 100_000 + r + 900_000_000,
          endpoint: c.endpoint,
          tokenizer,
        });
        const order = r % 2 === 0 ? c.arms : [...c.arms].reverse();
        for (const arm of order) {
          if (signal?.aborted) break;
          const record = await send(
            {
              id: `${arm.id}/${context}/needle/${depth}/${r}`,
              endpoint: c.endpoint,
              ...(c.model ? { model: c.model } : {}),
              ...(prompt.messages ? { messages: prompt.messages } : { prompt: prompt.text }),
              maxTokens: accuracy.outputTokens,
              extraBody: { temperature: 0 },
              promptTokens: prompt.promptTokens,
            },
            requestOptions(arm),
          );
          grades
            .get(arm.id)!
            .push(record.status === 'ok' ? gradePasskey(record.text ?? '', prompt.answers) : { grade: 'failed', score: 0 });
        }
      }
      for (const arm of c.arms) {
        const list = grades.get(arm.id)!;
        const count = (g: Grade | 'failed') => list.filter((x) => x.grade === g).length;
        const n = list.length;
        const exact = count('exact');
        const record: AccuracyRecord = {
          context,
          arm: arm.id,
          task: accuracy.keys === 1 ? 'passkey' : 'multikey',
          keys: accuracy.keys,
          depth,
          n,
          exact,
          partial: count('partial'),
          wrong: count('wrong'),
          empty: count('empty'),
          failed: count('failed'),
          exactRate: n ? exact / n : Number.NaN,
          exactRateCi: wilsonInterval(exact, n),
          meanScore: n ? list.reduce((a, x) => a + x.score, 0) / n : Number.NaN,
          method: ACCURACY_METHOD,
        };
        records.push(record);
        onRecord?.(record);
      }
    }
  }
  return records;
}
