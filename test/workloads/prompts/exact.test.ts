import { describe, expect, it } from 'vitest';
import { SkipbenchError } from '../../../kernels/errors.js';
import {
  type BuildPromptOptions,
  buildPrompt,
  llama3Tokenizer,
  PROMPT_ENDPOINTS,
  type PromptTokenizer,
  promptPrefix,
  renderLlama3Chat,
} from '../../../workloads/prompts/index.js';

const tok = llama3Tokenizer();
const base = { seed: 1, runId: '7f3a', requestIndex: 12, endpoint: 'completions', tokenizer: tok } as const;
const build = (options: Partial<BuildPromptOptions> & { tokens: number }) => buildPrompt({ ...base, ...options });

function errorOf(fn: () => unknown): SkipbenchError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SkipbenchError);
    return error as SkipbenchError;
  }
  throw new Error('expected an error');
}

describe('buildPrompt: exact lengths', () => {
  it('encode(text) has exactly the target tokens, for many targets, seeds and both endpoints', () => {
    for (const endpoint of PROMPT_ENDPOINTS) {
      for (const tokens of [1, 2, 17, 100, 1000, 4096, 32768]) {
        for (const seed of tokens >= 4096 ? [1, 2] : [1, 2, 3, 4]) {
          // verify: a full encode must give the same token IDs (and, for chat, the template's overhead).
          const p = build({ tokens, seed, endpoint, requestIndex: seed, verify: true });
          expect(tok.encode(p.text)).toHaveLength(tokens);
          expect(p.tokenIds).toHaveLength(tokens);
          expect(p.contentTokens).toBe(tokens);
          expect(p.text).not.toMatch(/^\s|\s$/); // chat templates trim content; completions should not differ
          if (endpoint === 'completions') {
            expect(p.promptTokens).toBe(tokens + 1); // + BOS, as llama.cpp adds on /v1/completions
            expect(p.messages).toBeUndefined();
          } else {
            expect(p.promptTokens).toBe(tokens + 10);
            if (tokens <= 4096) expect(tok.encode(renderLlama3Chat(p.text))).toHaveLength(p.promptTokens);
            expect(p.messages).toEqual([{ role: 'user', content: p.text }]);
          }
        }
      }
    }
  });

  it('stays exact wherever the target cuts the text (every target from 1 to 600: commas, paragraph joins)', () => {
    const whole = build({ tokens: 700, seed: 9 }).text;
    let refitted = 0;
    for (let tokens = 1; tokens <= 600; tokens++) {
      const p = build({ tokens, seed: 9 });
      expect(tok.encode(p.text)).toEqual(p.tokenIds);
      expect(p.tokenIds).toHaveLength(tokens);
      // Where the cut would leave ' end.\n\n' (trailing whitespace) the tail is rebuilt: ' end' + ' the'.
      if (!whole.startsWith(p.text)) refitted++;
    }
    expect(refitted).toBeGreaterThan(0);
  });

  it("count: 'prompt' makes tokens the server's prompt_tokens (content + BOS / template)", () => {
    const completions = build({ tokens: 4096, count: 'prompt', verify: true });
    expect(completions.promptTokens).toBe(4096);
    expect(completions.tokenIds).toHaveLength(4095);
    const chat = build({ tokens: 4096, count: 'prompt', endpoint: 'chat', verify: true });
    expect(chat.promptTokens).toBe(4096);
    expect(tok.encode(`<|begin_of_text|>${chat.text}`)).toHaveLength(4096 - 9);
    expect(build({ tokens: 11, count: 'prompt', endpoint: 'chat' }).contentTokens).toBe(1);
    expect(build({ tokens: 2, count: 'prompt' }).contentTokens).toBe(1);
    expect(errorOf(() => build({ tokens: 10, count: 'prompt', endpoint: 'chat' }))).toMatchObject({
      code: 'SKB_CONFIG',
      field: 'tokens',
      allowed: 'an integer in [11, 2097162]',
    });
    expect(errorOf(() => build({ tokens: 1, count: 'prompt' })).field).toBe('tokens');
  });

  it('a tokenizer without the clean-split property falls back to full encodes and is still exact', () => {
    const plain: PromptTokenizer = { ...tok, splitsBeforeSpaceWord: false };
    for (const tokens of [1, 2, 17, 300, 2000]) {
      const p = buildPrompt({ ...base, tokens, tokenizer: plain, verify: true });
      expect(tok.encode(p.text)).toHaveLength(tokens);
    }
  });
});

describe('buildPrompt: determinism and uniqueness', () => {
  it('is deterministic in (seed, runId, requestIndex)', () => {
    for (const endpoint of PROMPT_ENDPOINTS) {
      const a = build({ tokens: 3000, endpoint });
      const b = build({ tokens: 3000, endpoint });
      expect(b).toEqual(a);
    }
  });

  it('starts with the unique prefix, and another request or run differs within the first 16 tokens', () => {
    const p = build({ tokens: 500 });
    expect(p.prefix).toBe(promptPrefix('7f3a', 12));
    expect(p.prefix).toMatch(/^\[[0-9a-f]{8} run 7f3a request 12\]$/);
    expect(p.text.startsWith(`${p.prefix} `)).toBe(true);
    const first16 = (options: Partial<BuildPromptOptions>) => build({ tokens: 500, ...options }).tokenIds.slice(0, 16);
    const seen = new Set<string>();
    for (const runId of [
      '7f3a',
      '7f3b',
      'run-2025-01-02T03:04:05Z-long-suffix-a',
      'run-2025-01-02T03:04:05Z-long-suffix-b',
    ]) {
      for (let requestIndex = 0; requestIndex < 50; requestIndex++) {
        seen.add(first16({ runId, requestIndex }).join(','));
      }
    }
    expect(seen.size).toBe(200);
    // Within a run, the prompts share no cacheable prefix at all: they differ from the first token.
    const firsts = new Set(Array.from({ length: 50 }, (_, i) => first16({ requestIndex: i })[0]));
    expect(firsts.size).toBeGreaterThan(1);
  });

  it('the body depends on (seed, requestIndex) only: A/B arms with different runIds get the same content', () => {
    const dense = build({ tokens: 2000, runId: 'dense-1' });
    const skip = build({ tokens: 2000, runId: 'skip-1' });
    const body = (text: string, prefix: string) => text.slice(prefix.length, prefix.length + 400);
    expect(body(skip.text, skip.prefix)).toBe(body(dense.text, dense.prefix));
    const otherSeed = build({ tokens: 2000, runId: 'dense-1', seed: 2 });
    expect(body(otherSeed.text, otherSeed.prefix)).not.toBe(body(dense.text, dense.prefix));
    const otherRequest = build({ tokens: 2000, runId: 'dense-1', requestIndex: 13 });
    expect(body(otherRequest.text, otherRequest.prefix)).not.toBe(body(dense.text, dense.prefix));
  });
});

describe('buildPrompt: validation', () => {
  it('rejects bad parameters with SKB_CONFIG naming the field', () => {
    const cases: Array<[Partial<BuildPromptOptions> & { tokens: number }, string]> = [
      [{ tokens: 0 }, 'tokens'],
      [{ tokens: 1.5 }, 'tokens'],
      [{ tokens: 2_097_153 }, 'tokens'],
      [{ tokens: 10, seed: -1 }, 'seed'],
      [{ tokens: 10, requestIndex: 0.5 }, 'requestIndex'],
      [{ tokens: 10, runId: '' }, 'runId'],
      [{ tokens: 10, runId: 'has space' }, 'runId'],
      [{ tokens: 10, runId: '<|eot_id|>' }, 'runId'],
      [{ tokens: 10, endpoint: 'embeddings' as never }, 'endpoint'],
      [{ tokens: 10, count: 'bytes' as never }, 'count'],
    ];
    for (const [options, field] of cases) {
      expect(errorOf(() => build(options))).toMatchObject({ code: 'SKB_CONFIG', field });
    }
  });
});
