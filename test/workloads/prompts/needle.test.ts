/** Needle prompts: exact length, keys hidden at the depth asked, unique per request; the grader on canned answers. */
import { describe, expect, it } from 'vitest';
import { buildNeedlePrompt, gradePasskey, llama3Tokenizer } from '../../../workloads/prompts/index.js';

const tokenizer = llama3Tokenizer();
const base = { seed: 3, runId: 'needle', endpoint: 'completions' as const, tokenizer };

describe('buildNeedlePrompt', () => {
  it.each([
    [300, 0.1, 1],
    [1000, 0.5, 1],
    [4096, 0.9, 3],
    [2048, 0, 2],
    [2048, 1, 1],
  ])('%i tokens, depth %f, %i key(s): exact length, keys inside at that depth', (tokens, depth, keys) => {
    const p = buildNeedlePrompt({ ...base, tokens, depth, keys, requestIndex: 7 });
    expect(tokenizer.encode(p.text).length + 1).toBe(tokens); // + BOS on completions
    expect(p.promptTokens).toBe(tokens);
    expect(p.answers).toHaveLength(keys);
    const at = p.text.indexOf(`is ${p.answers[0]}.`);
    expect(at).toBeGreaterThan(0);
    expect(Math.abs(at / p.text.length - depth)).toBeLessThan(0.08);
    expect(p.text).toMatch(/Answer: the secret pass keys? (for \w+ )?(is|are)$/);
  });

  it('chat prompts count the template; every request is unique and deterministic', () => {
    const chat = buildNeedlePrompt({ ...base, endpoint: 'chat', tokens: 800, depth: 0.5, keys: 1, requestIndex: 1 });
    expect(tokenizer.encode(chat.text).length + tokenizer.chatOverhead()).toBe(800);
    expect(chat.messages?.[0].content).toBe(chat.text);
    const a = buildNeedlePrompt({ ...base, tokens: 800, depth: 0.5, keys: 1, requestIndex: 1 });
    const b = buildNeedlePrompt({ ...base, tokens: 800, depth: 0.5, keys: 1, requestIndex: 2 });
    expect(a.text).toBe(buildNeedlePrompt({ ...base, tokens: 800, depth: 0.5, keys: 1, requestIndex: 1 }).text);
    expect(a.text.slice(0, 40)).not.toBe(b.text.slice(0, 40));
  });

  it('rejects a depth outside [0, 1] and a context too short for the task', () => {
    expect(() => buildNeedlePrompt({ ...base, tokens: 500, depth: 1.5, keys: 1, requestIndex: 0 })).toThrow(
      expect.objectContaining({ code: 'SKB_CONFIG', field: 'depth' }),
    );
    expect(() => buildNeedlePrompt({ ...base, tokens: 30, depth: 0.5, keys: 1, requestIndex: 0 })).toThrow(
      expect.objectContaining({ code: 'SKB_CONFIG', field: 'tokens' }),
    );
  });
});

describe('gradePasskey', () => {
  it('grades exact, partial, wrong and empty answers', () => {
    expect(gradePasskey(' 48213. It was easy.', ['48213'])).toEqual({ grade: 'exact', score: 1 });
    expect(gradePasskey('48213 and 55555', ['48213', '77777'])).toEqual({ grade: 'partial', score: 0.5 });
    expect(gradePasskey('I do not remember, maybe 12345', ['48213'])).toEqual({ grade: 'wrong', score: 0 });
    expect(gradePasskey('  \n', ['48213'])).toEqual({ grade: 'empty', score: 0 });
    // a key inside a longer number is not the key
    expect(gradePasskey('482130', ['48213']).grade).toBe('wrong');
  });
});
