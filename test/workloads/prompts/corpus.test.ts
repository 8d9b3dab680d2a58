import { describe, expect, it } from 'vitest';
import { CORPUS_CHARS_PER_TOKEN, CorpusWriter, corpusText, llama3Tokenizer } from '../../../workloads/prompts/index.js';

function segments(seed: number, count: number, stream = 0): string[] {
  const writer = new CorpusWriter(seed, stream);
  return Array.from({ length: count }, () => writer.nextSegment());
}

describe('corpus', () => {
  it('is deterministic per (seed, stream) and differs across them', () => {
    expect(segments(3, 500)).toEqual(segments(3, 500));
    expect(segments(3, 500).join('')).not.toBe(segments(4, 500).join(''));
    expect(segments(3, 500, 1).join('')).not.toBe(segments(3, 500).join(''));
    expect(corpusText(9, 2000)).toBe(corpusText(9, 2000));
    expect(corpusText(9, 2000).length).toBeGreaterThanOrEqual(2000);
    expect(corpusText(9, 2000)).toMatch(/^[A-Z][a-z]* /);
  });

  it('reads like prose: sentences, commas and paragraphs of common words, ASCII only', () => {
    const text = corpusText(1, 50_000);
    expect(text).toMatch(/^[\x20-\x7e\n]+$/);
    expect(text).toContain('\n\n');
    expect(text).toMatch(/[a-z], [a-z]/);
    expect(text).toMatch(/[a-z]\. [A-Z]/);
    const paragraphs = text.split('\n\n');
    expect(paragraphs.length).toBeGreaterThan(20);
    for (const p of paragraphs.slice(0, -1)) expect(p).toMatch(/^[A-Z][^\n]*[.?!]$/);
  });

  it('every segment is " word..." ending in a printable non-space: joins are clean splits', () => {
    for (const segment of segments(2, 20_000)) {
      expect(segment).toMatch(/^ [A-Za-z]([\x20-\x7e\n]*[\x21-\x7e])?$/);
    }
  });

  it('tokenizing segment by segment equals tokenizing the joined text (token IDs, several seeds)', () => {
    const tok = llama3Tokenizer();
    for (const seed of [0, 1, 2, 77]) {
      const parts = segments(seed, 3000);
      const text = parts.join('');
      const piecewise = parts.flatMap((part) => tok.encode(part));
      expect(piecewise).toEqual(tok.encode(text));
      // The size estimate used to pre-size text stays close to the corpus's real density.
      expect(text.length / piecewise.length).toBeGreaterThan(CORPUS_CHARS_PER_TOKEN * 0.95);
      expect(text.length / piecewise.length).toBeLessThan(CORPUS_CHARS_PER_TOKEN * 1.05);
    }
  });
});
