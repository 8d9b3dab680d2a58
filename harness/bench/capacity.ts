/**
 * Prefill capacity: autocannon at a fixed number of connections, non-streaming max_tokens = 1 requests of one
 * context length, every request a different exact-length prompt (so no prefix cache can serve it). autocannon times
 * whole responses, which is right here: with one output token the response is the prefill. Never used for TTFT.
 */
import autocannon from 'autocannon';
import type { CapacityRecord } from '../../reports/schema.js';
import type { BuiltPrompt } from '../../workloads/index.js';
import { prepareRequest } from '../server/body.js';
import type { ServerArmSpec, ServerBenchConfig } from './config.js';

export const CAPACITY_METHOD =
  'autocannon 9, fixed connections, non-streaming max_tokens=1 requests, one unique exact-length prompt per request; ' +
  'latency = whole response (= prefill with one output token); requests/s over the run';

export async function prefillCapacity(
  c: ServerBenchConfig,
  arm: ServerArmSpec,
  context: number,
  prompts: BuiltPrompt[],
  connections: number,
): Promise<CapacityRecord> {
  const bodies = prompts.map((p) => {
    const prepared = prepareRequest(
      {
        endpoint: c.endpoint,
        ...(c.model ? { model: c.model } : {}),
        ...(p.messages ? { messages: p.messages } : { prompt: p.text }),
        maxTokens: 1,
      },
      { baseUrl: arm.baseUrl, headers: c.headers, ...(c.apiKeyEnv ? { apiKeyEnv: c.apiKeyEnv } : {}) },
    );
    // capacity requests do not stream: the whole response is the measurement
    const body = JSON.parse(prepared.body.toString('utf8'));
    body.stream = false;
    delete body.stream_options;
    return { prepared, body: JSON.stringify(body) };
  });
  const { origin, path, headers } = bodies[0].prepared;
  let next = 0;
  let firstSend = Number.NaN;
  let lastResponse = Number.NaN;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: origin,
        connections,
        amount: bodies.length,
        timeout: Math.ceil(c.timeoutMs / 1000),
        requests: [
          {
            method: 'POST',
            path,
            headers,
            setupRequest: (request) => {
              if (next === 0) firstSend = performance.now();
              return { ...request, body: bodies[next++ % bodies.length].body };
            },
          },
        ],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', () => {
      lastResponse = performance.now();
    });
  });
  // autocannon's own duration ends on its one-second tick; time from the first send to the last response instead
  const durationMs = lastResponse - firstSend;
  return {
    context,
    arm: arm.id,
    connections,
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationMs,
    requestsPerSecond: durationMs > 0 ? result['2xx'] / (durationMs / 1000) : Number.NaN,
    latencyMs: {
      mean: result.latency.average,
      stddev: result.latency.stddev,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    method: CAPACITY_METHOD,
  };
}
