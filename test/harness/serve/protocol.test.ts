/**
 * Request parsing and prompt counting of the reference server: BOS on text prompts, token-id prompts as given, the
 * Llama 3 chat template (the count llama.cpp reports for the captured chat, 14), errors as data, the context check
 * in llama.cpp's error shape, and output words that re-tokenize one token each.
 */
import { describe, expect, it } from 'vitest';
import { OUTPUT_WORDS, outputToken, promptHash } from '../../../harness/serve/model.js';
import {
  contextFailure,
  DEFAULT_MAX_TOKENS,
  parseChatRequest,
  parseCompletionRequest,
  parseDetokenizeRequest,
  parseJsonObject,
  parseTokenizeRequest,
  renderLlama3Conversation,
} from '../../../harness/serve/protocol.js';
import { llama3Tokenizer, renderLlama3Chat } from '../../../workloads/prompts/index.js';
import { readFixture } from '../server/loopback.js';

const tokenizer = llama3Tokenizer();

function ok<T>(parsed: { ok: true; value: T } | { ok: false; status: number }): T {
  if (!parsed.ok) throw new Error(`expected ok, got HTTP ${parsed.status}`);
  return parsed.value;
}

describe('completions requests', () => {
  it('adds BOS to a text prompt and keeps token ids as given', () => {
    const text = ok(parseCompletionRequest({ prompt: 'The quick brown fox', max_tokens: 8 }, tokenizer));
    expect(text.promptIds).toEqual([128000, 791, 4062, 14198, 39935]); // 5 = llama.cpp's prompt_tokens
    expect(text).toMatchObject({ endpoint: 'completions', maxTokens: 8, stream: false, includeUsage: false });
    const ids = ok(
      parseCompletionRequest({ prompt: [1, 2, 3], stream: true, stream_options: { include_usage: true } }, tokenizer),
    );
    expect(ids).toMatchObject({
      promptIds: [1, 2, 3],
      maxTokens: DEFAULT_MAX_TOKENS,
      stream: true,
      includeUsage: true,
    });
    expect(ok(parseCompletionRequest({ prompt: ['hi'], max_completion_tokens: 2 }, tokenizer)).maxTokens).toBe(2);
  });

  it.each([
    [{ max_tokens: 4 }],
    [{ prompt: 42 }],
    [{ prompt: [] }],
    [{ prompt: [1, -2] }],
    [{ prompt: [1, 128256] }],
    [{ prompt: ['a', 'b'] }],
    [{ prompt: 'x', max_tokens: 0 }],
    [{ prompt: 'x', max_tokens: 2.5 }],
    [{ prompt: 'x', stream: 'yes' }],
    [{ prompt: 'x', stream_options: { include_usage: 1 } }],
    [{ prompt: 'x', n: 2 }],
  ])('answers 400 invalid_request_error for %j', (body) => {
    const parsed = parseCompletionRequest(body, tokenizer);
    expect(parsed).toMatchObject({
      ok: false,
      status: 400,
      body: { error: { code: 400, type: 'invalid_request_error' } },
    });
  });
});

describe('chat requests', () => {
  it('counts the Llama 3 template like the client does (14 tokens for the captured chat)', () => {
    const chat = ok(parseChatRequest({ messages: [{ role: 'user', content: 'The quick brown fox' }] }, tokenizer));
    expect(chat.promptIds).toHaveLength(14);
    const content = 'Tell me about skip softmax.';
    const one = ok(parseChatRequest({ messages: [{ role: 'user', content: ` ${content}\n` }] }, tokenizer));
    expect(one.promptIds).toEqual(tokenizer.encode(renderLlama3Chat(content)));
    expect(one.promptIds.length).toBe(tokenizer.encode(content).length + tokenizer.chatOverhead());
  });

  it('renders a multi-turn conversation and text parts', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
    ];
    const chat = ok(parseChatRequest({ messages }, tokenizer));
    const rendered = renderLlama3Conversation([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    expect(
      rendered.startsWith('<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>'),
    ).toBe(true);
    expect(chat.promptIds).toEqual(tokenizer.encode(rendered));
  });

  it.each([
    [{}],
    [{ messages: [] }],
    [{ messages: [{ content: 'x' }] }],
    [{ messages: [{ role: 'user', content: 3 }] }],
  ])('answers 400 for %j', (body) => {
    expect(parseChatRequest(body, tokenizer)).toMatchObject({ ok: false, status: 400 });
  });
});

describe('other bodies', () => {
  it('parses JSON objects only', () => {
    expect(parseJsonObject('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonObject('{"a":')).toMatchObject({ ok: false, status: 400 });
    expect(parseJsonObject('[1]')).toMatchObject({ ok: false, status: 400 });
  });

  it('tokenizes like llama.cpp /tokenize and detokenizes back', () => {
    const expected = JSON.parse(readFixture('tokenize.json').toString()).tokens;
    expect(ok(parseTokenizeRequest({ content: 'The quick brown fox' }, tokenizer))).toEqual(expected);
    expect(ok(parseTokenizeRequest({ content: 'The quick brown fox', add_special: true }, tokenizer))[0]).toBe(128000);
    expect(ok(parseDetokenizeRequest({ tokens: expected }, tokenizer))).toBe('The quick brown fox');
    expect(parseTokenizeRequest({}, tokenizer)).toMatchObject({ ok: false, status: 400 });
  });

  it("rejects what does not fit the context in llama.cpp's error shape", () => {
    const fixture = JSON.parse(readFixture('error-too-long.json').toString());
    const f = contextFailure(9002, 1, 8192);
    expect(f?.status).toBe(400);
    expect(f?.body).toEqual(fixture); // same fields, same message for an over-long prompt
    expect(contextFailure(8000, 200, 8192)?.body.error).toMatchObject({
      type: 'exceed_context_size_error',
      n_prompt_tokens: 8000,
      n_ctx: 8192,
    });
    expect(contextFailure(8000, 192, 8192)).toBeUndefined();
  });
});

describe('output tokens', () => {
  it('are single Llama 3 tokens, so N generated words re-tokenize to N tokens', () => {
    for (const word of OUTPUT_WORDS) expect(tokenizer.encode(` ${word}`), word).toHaveLength(1);
    const hash = promptHash([128000, 1, 2, 3]);
    const text = Array.from({ length: 50 }, (_, i) => outputToken(hash, i)).join('');
    expect(tokenizer.encode(text)).toHaveLength(50);
  });

  it('depend on the prompt and the position only', () => {
    expect(promptHash([1, 2, 3])).toBe(promptHash([1, 2, 3]));
    expect(promptHash([1, 2, 3])).not.toBe(promptHash([1, 3, 2]));
    expect(promptHash([1, 2])).not.toBe(promptHash([1, 2, 0]));
    const h = promptHash([5]);
    expect(outputToken(h, 7)).toBe(outputToken(h, 7));
  });
});
