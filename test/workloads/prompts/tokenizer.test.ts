import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SkipbenchError } from '../../../kernels/errors.js';
import {
  buildPrompt,
  corpusText,
  isCleanSplit,
  LLAMA3_CHAT_TEMPLATE,
  llama3Tokenizer,
  promptDrift,
  renderLlama3Chat,
} from '../../../workloads/prompts/index.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/llamacpp/', import.meta.url));
const fixture = (name: string): string => readFileSync(FIXTURES + name, 'utf8');
const reportedPromptTokens = (name: string): number => Number(/"prompt_tokens":(\d+)/.exec(fixture(name))?.[1]);

describe('llama3Tokenizer', () => {
  const tok = llama3Tokenizer();

  it('is loaded once and round-trips text without BOS/EOS', () => {
    expect(llama3Tokenizer()).toBe(tok);
    expect(tok.name).toBe('llama3');
    expect(tok.bosId).toBe(128000);
    const ids = tok.encode('Hello world!');
    expect(ids).toEqual([9906, 1917, 0]);
    expect(tok.decode(ids)).toBe('Hello world!');
  });

  it("matches llama-server's /tokenize and usage.prompt_tokens in the captured fixtures", () => {
    // The fixture prompt is "The quick brown fox": 4 content tokens. llama.cpp reports 5 on /v1/completions
    // (content + BOS) and 14 on /v1/chat/completions (content + 10 template tokens, BOS included) - the README's
    // "adds 9 tokens (14 vs 5)" compares chat with completions, which already counts BOS.
    const content = 'The quick brown fox';
    expect(tok.encode(content)).toEqual(JSON.parse(fixture('tokenize.json')).tokens);
    const completions = buildPrompt({
      tokens: 4,
      seed: 0,
      runId: 'r',
      requestIndex: 0,
      endpoint: 'completions',
      tokenizer: tok,
    });
    expect(completions.promptTokens).toBe(5);
    expect(reportedPromptTokens('completions-stream.sse')).toBe(4 + 1);
    expect(reportedPromptTokens('completions.json')).toBe(4 + 1);
    expect(reportedPromptTokens('chat-stream.sse')).toBe(4 + tok.chatOverhead());
    expect(tok.encode(renderLlama3Chat(content))).toHaveLength(14);
  });

  it('chat overhead is what the template itself tokenizes to, for any trimmed content', () => {
    // Template without content: <|begin_of_text|> <|start_header_id|> user <|end_header_id|> \n\n <|eot_id|>
    // <|start_header_id|> assistant <|end_header_id|> \n\n  = 10 tokens.
    expect(tok.encode(LLAMA3_CHAT_TEMPLATE.replace('{content}', ''))).toHaveLength(10);
    expect(tok.chatOverhead()).toBe(10);
    for (const content of [
      'x',
      'The quick brown fox',
      '[0badf00d run a request 1] More than',
      '12 apples.',
      '"Quoted"!',
    ]) {
      expect(tok.chatOverhead(content)).toBe(10);
    }
    expect(renderLlama3Chat('$&')).toContain('\n\n$&<|eot_id|>'); // no replacement patterns
  });

  it('clean splits tokenize independently (the property prompt building relies on)', () => {
    const text = corpusText(5, 6000).replace(/ (\w)/g, (m, c, i) => (i % 7 === 0 ? ` 42, ${c}` : m));
    const whole = tok.encode(text);
    let splits = 0;
    for (let pos = 1; pos < text.length - 1 && splits < 60; pos += 3) {
      if (!isCleanSplit(text, pos)) continue;
      splits++;
      expect([...tok.encode(text.slice(0, pos)), ...tok.encode(text.slice(pos))]).toEqual(whole);
    }
    expect(splits).toBe(60);
    // Every clean split of a string full of contractions, quotes, brackets, digits and mixed whitespace.
    const odd = "It's 9am. Don't go, 'quoted' text!? (paren) x\n\n y\t z 3 Yes; [a1 b2] won't-it's A\u00e9 B... C";
    const oddIds = tok.encode(odd);
    for (let pos = 1; pos < odd.length - 1; pos++) {
      if (isCleanSplit(odd, pos)) {
        expect([...tok.encode(odd.slice(0, pos)), ...tok.encode(odd.slice(pos))]).toEqual(oddIds);
      }
    }
    expect(isCleanSplit('a b', 1)).toBe(true);
    expect(isCleanSplit('. b', 1)).toBe(true);
    expect(isCleanSplit('a  b', 2)).toBe(false); // whitespace before
    expect(isCleanSplit('a 1', 1)).toBe(false); // digit after
    expect(isCleanSplit('a b', 0)).toBe(false);
  });
});

describe('promptDrift', () => {
  it('gives the difference and the relative difference', () => {
    expect(promptDrift(100, 100)).toEqual({ expected: 100, reported: 100, diff: 0, relative: 0 });
    expect(promptDrift(100, 103)).toEqual({ expected: 100, reported: 103, diff: 3, relative: 0.03 });
    expect(promptDrift(200, 190).relative).toBeCloseTo(-0.05, 12);
    expect(promptDrift(0, 0).relative).toBe(0);
    expect(promptDrift(0, 2).relative).toBe(Number.POSITIVE_INFINITY);
  });

  it('rejects counts that are not non-negative integers', () => {
    for (const [expected, reported, field] of [
      [-1, 5, 'expected'],
      [1.5, 5, 'expected'],
      [5, Number.NaN, 'reported'],
      [5, -2, 'reported'],
    ] as const) {
      const error = (() => {
        try {
          promptDrift(expected, reported);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(SkipbenchError);
      expect(error).toMatchObject({ code: 'SKB_CONFIG', field });
    }
  });
});
