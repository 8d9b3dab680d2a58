/**
 * The reference server: an OpenAI-compatible streaming HTTP server (node:http) whose "model" runs skipbench's own
 * attention kernel (model.ts), so the server target can be tried offline and the server client has a real server
 * with real dense-vs-skip behaviour to test against.
 *
 * Routes
 *   POST /v1/completions, /v1/chat/completions   stream true -> SSE, false -> one JSON (responses.ts for framing)
 *   GET  /health                                 {"status":"ok"}
 *   GET  /v1/models                              the one model, with the shape and factors in `meta`
 *   POST /tokenize, /detokenize                  llama.cpp's {content} <-> {tokens}
 *   GET  /metrics                                Prometheus text (metrics.ts)
 *
 * Requests run one at a time in arrival order (queue.ts): with one "accelerator" and no batching, a request's TTFT
 * includes the service time of those before it. Headers (and the chat role chunk) go out as soon as a request is
 * accepted; tokens follow as the model produces them. A client that disconnects stops its request, queued or
 * running, at the next layer boundary. Bad requests get a 4xx with an OpenAI-style error body.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { llama3Tokenizer, type PromptTokenizer } from '../../workloads/index.js';
import { packageVersion } from '../paths.js';
import { type AttentionEngine, createEngine } from './engine.js';
import { ServeMetrics } from './metrics.js';
import { type GenerationResult, ReferenceModel } from './model.js';
import { resolveServeOptions, type ServeOptions, type ServeUserOptions, headMixText } from './options.js';
import {
  contextFailure,
  type ErrorBody,
  failure,
  type GenerationCall,
  type HttpFailure,
  LLAMA3_VOCAB_SIZE,
  type Parsed,
  parseChatRequest,
  parseCompletionRequest,
  parseDetokenizeRequest,
  parseJsonObject,
  parseTokenizeRequest,
} from './protocol.js';
import { FifoQueue } from './queue.js';
import {
  type EngineFacts,
  fullResponse,
  type ResponseContext,
  streamClosing,
  streamOpening,
  tokenEvent,
} from './responses.js';

/**
 * Largest request body read: 64 bytes per token of context (a prompt is ~4 characters per token as text and ~7 as
 * JSON ids), at least 1 MiB. It bounds what one request can make the server buffer and tokenize on the event loop.
 */
export function maxBodyBytes(maxContext: number): number {
  return Math.max(2 ** 20, maxContext * 64);
}

export interface ReferenceServer {
  /** `http://host:port` */
  url: string;
  host: string;
  port: number;
  options: ServeOptions;
  /** e.g. `wasm-relaxed-simd`. */
  implementation: string;
  /** Stops listening, cancels queued and running requests, cuts connections, stops the kernel workers. */
  close(): Promise<void>;
}

class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the request body exceeds ${limit} bytes`);
  }
}

const KNOWN_PATHS = [
  '/health',
  '/v1/models',
  '/metrics',
  '/tokenize',
  '/detokenize',
  '/v1/completions',
  '/completions',
  '/v1/chat/completions',
  '/chat/completions',
];

export async function startReferenceServer(user: ServeUserOptions = {}): Promise<ReferenceServer> {
  const options = resolveServeOptions(user);
  const tokenizer = llama3Tokenizer();
  const engine = await createEngine(options);
  const app = new ServerApp(options, tokenizer, engine);
  const server = http.createServer((req, res) => void app.handle(req, res));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await engine.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const hostPart = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostPart}:${port}`,
    host: options.host,
    port,
    options,
    implementation: engine.implementation,
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        app.shutdown();
        server.closeAllConnections();
        await closed;
        await app.idle();
        await engine.close();
      })();
      return closing;
    },
  };
}

class ServerApp {
  private readonly model: ReferenceModel;
  private readonly metrics = new ServeMetrics();
  private readonly queue = new FifoQueue();
  private readonly facts: EngineFacts;
  private readonly fingerprint = `skipbench-${packageVersion()}`;
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly bodyLimit: number;
  /** Every accepted generation request, queued or running: aborted on shutdown, awaited by idle(). */
  private readonly inFlight = new Map<AbortController, Promise<unknown>>();

  constructor(
    private readonly options: ServeOptions,
    private readonly tokenizer: PromptTokenizer,
    private readonly engine: AttentionEngine,
  ) {
    this.model = new ReferenceModel(options, engine);
    this.bodyLimit = maxBodyBytes(options.maxContext);
    this.facts = {
      implementation: engine.implementation,
      threads: engine.threads,
      layers: options.layers,
      partitions: engine.partitions,
      prefillFactor: options.prefillFactor,
      decodeFactor: options.decodeFactor,
    };
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const route = `${req.method} ${path}`;
    try {
      switch (route) {
        case 'GET /health':
          return sendJson(res, 200, { status: 'ok' });
        case 'GET /v1/models':
          return sendJson(res, 200, this.models());
        case 'GET /metrics':
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
          res.end(this.metrics.render(this.queue));
          return;
        case 'POST /tokenize':
          return await this.simple(
            req,
            res,
            (b) => parseTokenizeRequest(b, this.tokenizer),
            (tokens) => ({ tokens }),
          );
        case 'POST /detokenize':
          return await this.simple(
            req,
            res,
            (b) => parseDetokenizeRequest(b, this.tokenizer),
            (content) => ({ content }),
          );
        case 'POST /v1/completions':
        case 'POST /completions':
          return await this.generate(req, res, (body) => parseCompletionRequest(body, this.tokenizer));
        case 'POST /v1/chat/completions':
        case 'POST /chat/completions':
          return await this.generate(req, res, (body) => parseChatRequest(body, this.tokenizer));
        default: {
          const status = KNOWN_PATHS.includes(path) ? 405 : 404;
          const type = status === 405 ? 'invalid_request_error' : 'not_found_error';
          return this.reject(res, failure(status, type, `no route for ${route}`));
        }
      }
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        res.setHeader('connection', 'close'); // the rest of the body is never read
        return this.reject(res, failure(413, 'invalid_request_error', error.message));
      }
      if (!res.headersSent) return this.reject(res, failure(500, 'server_error', describe(error)));
      res.destroy(error instanceof Error ? error : undefined);
    }
  }

  /** Cancels every request (queued ones leave the queue; running ones stop at the next layer). */
  shutdown(): void {
    this.queue.clear();
    for (const controller of this.inFlight.keys()) controller.abort();
  }

  /** Resolves when no accepted request is left. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private models() {
    const o = this.options;
    return {
      object: 'list',
      data: [
        {
          id: o.modelName,
          object: 'model',
          created: this.created,
          owned_by: 'skipbench',
          meta: {
            n_vocab: LLAMA3_VOCAB_SIZE,
            n_ctx: o.maxContext,
            n_layer: o.layers,
            n_head: o.numQueryHeads,
            n_head_kv: o.numKvHeads,
            head_dim: o.headDim,
            head_mix: headMixText(o),
            seed: o.seed,
            implementation: this.engine.implementation,
            threads: this.engine.threads,
            tiles: {
              prefill: { block_m: o.blockM, block_n: o.blockN },
              decode: { block_n: o.decodeBlockN, partitions: this.engine.partitions },
            },
            threshold_scale_factor: { prefill: o.prefillFactor, decode: o.decodeFactor },
          },
        },
      ],
    };
  }

  private async simple<T>(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    parse: (body: Record<string, unknown>) => Parsed<T>,
    shape: (value: T) => unknown,
  ): Promise<void> {
    const body = parseJsonObject(await readBody(req, this.bodyLimit));
    if (!body.ok) return this.reject(res, body);
    const parsed = parse(body.value);
    if (!parsed.ok) return this.reject(res, parsed);
    sendJson(res, 200, shape(parsed.value));
  }

  private async generate(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    parse: (body: Record<string, unknown>) => Parsed<GenerationCall>,
  ): Promise<void> {
    const body = parseJsonObject(await readBody(req, this.bodyLimit));
    if (!body.ok) return this.reject(res, body);
    const parsed = parse(body.value);
    if (!parsed.ok) return this.reject(res, parsed);
    const call = parsed.value;
    const tooLong = contextFailure(call.promptIds.length, call.maxTokens, this.options.maxContext);
    if (tooLong) return this.reject(res, tooLong);

    const ctx: ResponseContext = {
      id: `${call.endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replace(/-/g, '')}`,
      created: Math.floor(Date.now() / 1000),
      model: this.options.modelName,
      fingerprint: this.fingerprint,
      endpoint: call.endpoint,
    };
    const controller = new AbortController();
    // 'close' before the response finished: the client went away
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    if (call.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      const opening = streamOpening(ctx);
      if (opening) res.write(opening);
    }

    const onToken = call.stream
      ? (_: number, text: string) => {
          if (!res.destroyed) res.write(tokenEvent(ctx, text));
        }
      : undefined;
    let result: GenerationResult | undefined;
    try {
      const task = this.queue.run(controller.signal, () =>
        this.model.generate({
          promptIds: call.promptIds,
          maxTokens: call.maxTokens,
          signal: controller.signal,
          onToken,
        }),
      );
      this.inFlight.set(controller, task);
      result = await task;
    } catch (error) {
      this.metrics.counters.requestsRejected++;
      if (!call.stream) return this.reject(res, failure(500, 'server_error', describe(error)), false);
      res.end(`data: ${JSON.stringify(errorBody(500, 'server_error', describe(error)))}\n\n`);
      return;
    } finally {
      this.inFlight.delete(controller);
    }
    if (result === undefined) {
      this.metrics.counters.requestsCancelled++; // left the queue before it ran
      return;
    }
    this.metrics.record(result);
    if (result.status !== 'completed') return;
    if (call.stream) res.end(streamClosing(ctx, result, this.facts, call.includeUsage));
    else sendJson(res, 200, fullResponse(ctx, result, this.facts));
  }

  private reject(res: http.ServerResponse, f: HttpFailure, count = true): void {
    if (count) this.metrics.counters.requestsRejected++;
    sendJson(res, f.status, f.body);
  }
}

function errorBody(code: number, type: string, message: string): ErrorBody {
  return { error: { code, message, type } };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const part of req) {
    total += (part as Buffer).byteLength;
    if (total > limit) throw new BodyTooLarge(limit);
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}
