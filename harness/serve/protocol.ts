/**
 * The OpenAI-compatible request bodies the reference server accepts, and the error bodies it answers with.
 *
 * Prompt token counts follow llama.cpp with the Llama 3 tokenizer:
 *   /v1/completions       text prompt: BOS + encode(text); token-id prompt: the ids as given (no BOS added);
 *   /v1/chat/completions  the Llama 3 chat template with the generation prompt, BOS included, content trimmed
 *                         (for one user message exactly workloads' renderLlama3Chat).
 * max_tokens (or max_completion_tokens / n_predict) defaults to 16; exactly that many tokens are generated.
 * A parse either gives a request or an error body with its HTTP status: errors are data here, not exceptions.
 */
import type { PromptTokenizer } from '../../workloads/index.js';

/** Llama 3 vocabulary: 128000 BPE tokens + 256 special. Token-id prompts must be below it. */
export const LLAMA3_VOCAB_SIZE = 128256;
/** max_tokens when the request names none (the OpenAI completions default). */
export const DEFAULT_MAX_TOKENS = 16;

export type ServeEndpoint = 'completions' | 'chat';

export interface GenerationCall {
  endpoint: ServeEndpoint;
  /** Token ids the model sees (BOS / template included). */
  promptIds: number[];
  maxTokens: number;
  stream: boolean;
  /** stream_options.include_usage (non-streaming responses always carry usage). */
  includeUsage: boolean;
}

/** An OpenAI/llama.cpp-style error body: `{"error": {"code", "message", "type", ...}}`. */
export interface ErrorBody {
  error: { code: number; message: string; type: string; [field: string]: unknown };
}

export interface HttpFailure {
  status: number;
  body: ErrorBody;
}

export type Parsed<T> = { ok: true; value: T } | ({ ok: false } & HttpFailure);

export function failure(
  status: number,
  type: string,
  message: string,
  extra: Record<string, unknown> = {},
): { ok: false } & HttpFailure {
  return { ok: false, status, body: { error: { code: status, message, type, ...extra } } };
}

const badRequest = (message: string) => failure(400, 'invalid_request_error', message);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTokenId(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) < LLAMA3_VOCAB_SIZE;
}

/** Parses the JSON text of a request body; a body that is not a JSON object is a 400. */
export function parseJsonObject(text: string): Parsed<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return badRequest(`the request body is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(value)) return badRequest('the request body must be a JSON object');
  return { ok: true, value };
}

/** The fields shared by both endpoints: max_tokens, stream, stream_options, n. */
function commonFields(body: Record<string, unknown>): Parsed<Omit<GenerationCall, 'endpoint' | 'promptIds'>> {
  const raw = body.max_tokens ?? body.max_completion_tokens ?? body.n_predict;
  const maxTokens = raw === undefined || raw === null ? DEFAULT_MAX_TOKENS : raw;
  if (!Number.isSafeInteger(maxTokens) || (maxTokens as number) < 1) {
    return badRequest(`max_tokens must be an integer >= 1 (got ${JSON.stringify(raw)})`);
  }
  const stream = body.stream ?? false;
  if (typeof stream !== 'boolean') return badRequest('stream must be a boolean');
  const options = body.stream_options ?? {};
  if (!isObject(options)) return badRequest('stream_options must be an object');
  const includeUsage = options.include_usage ?? false;
  if (typeof includeUsage !== 'boolean') return badRequest('stream_options.include_usage must be a boolean');
  if (body.n !== undefined && body.n !== null && body.n !== 1) return badRequest('only n = 1 is supported');
  return { ok: true, value: { maxTokens: maxTokens as number, stream, includeUsage } };
}

/** POST /v1/completions */
export function parseCompletionRequest(
  body: Record<string, unknown>,
  tokenizer: PromptTokenizer,
): Parsed<GenerationCall> {
  const common = commonFields(body);
  if (!common.ok) return common;
  let prompt = body.prompt;
  // the OpenAI batch form with one prompt
  if (Array.isArray(prompt) && prompt.length === 1 && (typeof prompt[0] === 'string' || Array.isArray(prompt[0]))) {
    prompt = prompt[0];
  }
  let promptIds: number[];
  if (typeof prompt === 'string') {
    const bos = tokenizer.bosId === undefined ? [] : [tokenizer.bosId];
    promptIds = [...bos, ...tokenizer.encode(prompt)];
  } else if (Array.isArray(prompt) && prompt.length > 0 && prompt.every(isTokenId)) {
    promptIds = [...prompt];
  } else {
    return badRequest(
      `prompt must be a string or a non-empty array of token ids in [0, ${LLAMA3_VOCAB_SIZE}) (one prompt per request)`,
    );
  }
  return { ok: true, value: { endpoint: 'completions', promptIds, ...common.value } };
}

/** POST /v1/chat/completions */
export function parseChatRequest(body: Record<string, unknown>, tokenizer: PromptTokenizer): Parsed<GenerationCall> {
  const common = commonFields(body);
  if (!common.ok) return common;
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return badRequest('messages must be a non-empty array');
  const turns: { role: string; content: string }[] = [];
  for (const [i, message] of messages.entries()) {
    if (!isObject(message) || typeof message.role !== 'string' || message.role.length === 0) {
      return badRequest(`messages[${i}] must be an object with a string role`);
    }
    const content = messageText(message.content);
    if (content === undefined) {
      return badRequest(`messages[${i}].content must be a string or an array of {type: "text", text} parts`);
    }
    turns.push({ role: message.role, content });
  }
  const promptIds = tokenizer.encode(renderLlama3Conversation(turns));
  return { ok: true, value: { endpoint: 'chat', promptIds, ...common.value } };
}

function messageText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (content === null) return '';
  if (!Array.isArray(content)) return undefined;
  let text = '';
  for (const part of content) {
    if (!isObject(part) || part.type !== 'text' || typeof part.text !== 'string') return undefined;
    text += part.text;
  }
  return text;
}

/**
 * The Llama 3 instruct template over a whole conversation, with the generation prompt (llama.cpp's `llama3`
 * template; the Hugging Face template renders the same for these messages). Content is trimmed, as both do.
 */
export function renderLlama3Conversation(messages: readonly { role: string; content: string }[]): string {
  let text = '<|begin_of_text|>';
  for (const m of messages) text += `<|start_header_id|>${m.role}<|end_header_id|>\n\n${m.content.trim()}<|eot_id|>`;
  return `${text}<|start_header_id|>assistant<|end_header_id|>\n\n`;
}

/** POST /tokenize `{content, add_special?}` -> the ids (BOS only with add_special, as llama.cpp). */
export function parseTokenizeRequest(body: Record<string, unknown>, tokenizer: PromptTokenizer): Parsed<number[]> {
  if (typeof body.content !== 'string') return badRequest('content must be a string');
  const addSpecial = body.add_special ?? false;
  if (typeof addSpecial !== 'boolean') return badRequest('add_special must be a boolean');
  const bos = addSpecial && tokenizer.bosId !== undefined ? [tokenizer.bosId] : [];
  return { ok: true, value: [...bos, ...tokenizer.encode(body.content)] };
}

/** POST /detokenize `{tokens}` -> the text. */
export function parseDetokenizeRequest(body: Record<string, unknown>, tokenizer: PromptTokenizer): Parsed<string> {
  const tokens = body.tokens;
  if (!Array.isArray(tokens) || !tokens.every(isTokenId)) {
    return badRequest(`tokens must be an array of token ids in [0, ${LLAMA3_VOCAB_SIZE})`);
  }
  return { ok: true, value: tokenizer.decode(tokens) };
}

/**
 * A request whose prompt plus max_tokens does not fit the context, in llama.cpp's shape
 * (test/fixtures/llamacpp/error-too-long.json). The KV cache must hold prompt + max_tokens - 1 keys; the server
 * rejects rather than stopping early, since it always generates exactly max_tokens.
 */
export function contextFailure(promptTokens: number, maxTokens: number, maxContext: number): HttpFailure | undefined {
  const needed = promptTokens + maxTokens;
  if (needed <= maxContext) return undefined;
  const what =
    promptTokens > maxContext
      ? `${promptTokens} tokens`
      : `${needed} tokens: ${promptTokens} prompt + ${maxTokens} max_tokens`;
  const message = `request (${what}) exceeds the available context size (${maxContext} tokens), try increasing it`;
  const { ok: _, ...rest } = failure(400, 'exceed_context_size_error', message, {
    n_prompt_tokens: promptTokens,
    n_ctx: maxContext,
  });
  return rest;
}
