/**
 * Chunk interpretation on the real llama.cpp captures (usage on the last text event for completions, on a separate
 * `choices: []` chunk for chat) and on the other shapes OpenAI-style servers send.
 */
import { describe, expect, it } from 'vitest';
import { type ChunkInfo, interpretChunk, interpretEvent, type StreamChunk } from '../../../harness/server/chunks.js';
import { SseParser } from '../../../harness/server/sse.js';
import { readFixture } from './loopback.js';

function interpretFixture(name: string): ChunkInfo[] {
  const parser = new SseParser();
  return [...parser.push(readFixture(name)), ...parser.end()].map(interpretEvent);
}

function asChunk(info: ChunkInfo): StreamChunk {
  if (info.kind !== 'chunk') throw new Error(`expected a chunk, got ${info.kind}`);
  return info;
}

const event = (data: string, type = 'message') => ({ event: type, data, id: '', done: false });

describe('chat-stream.sse', () => {
  const infos = interpretFixture('chat-stream.sse');

  it('does not count the role-only first chunk as a token', () => {
    expect(asChunk(infos[0])).toMatchObject({ tokenBearing: false, tokens: 0, text: '' });
  });

  it('has 8 token-bearing content chunks, a finish chunk, a usage chunk and [DONE]', () => {
    const bearing = infos.filter((i) => i.kind === 'chunk' && i.tokenBearing).map(asChunk);
    expect(bearing.map((c) => c.text).join('')).toBe('veedorveedorveedorveedor Cem Cem Cem clap');
    expect(bearing.map((c) => c.tokens)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(asChunk(infos[9])).toMatchObject({ tokenBearing: false, finishReason: 'length' });
    expect(infos[11]).toEqual({ kind: 'done' });
  });

  it('reads usage and timings from the choices: [] chunk', () => {
    const usageChunk = asChunk(infos[10]);
    expect(usageChunk.tokenBearing).toBe(false);
    expect(usageChunk.usage).toEqual({ promptTokens: 14, completionTokens: 8, totalTokens: 22, cachedTokens: 0 });
    expect(usageChunk.timings).toEqual({
      cache_n: 0,
      prompt_n: 14,
      prompt_ms: 8.442,
      prompt_per_token_ms: 0.603,
      prompt_per_second: 1658.374792703151,
      predicted_n: 8,
      predicted_ms: 33.673,
      predicted_per_token_ms: 4.810428571428572,
      predicted_per_second: 207.88168562349657,
    });
  });
});

describe('completions-stream.sse', () => {
  const infos = interpretFixture('completions-stream.sse');

  it('has 8 token-bearing text events, then an empty-text event carrying usage, then [DONE]', () => {
    expect(infos.slice(0, 8).every((i) => asChunk(i).tokenBearing)).toBe(true);
    const last = asChunk(infos[8]);
    expect(last).toMatchObject({ tokenBearing: false, text: '', finishReason: 'length' });
    expect(last.usage).toEqual({ promptTokens: 5, completionTokens: 8, totalTokens: 13, cachedTokens: 0 });
    expect(last.timings).toMatchObject({ cache_n: 0, prompt_n: 5, prompt_ms: 40.719, predicted_n: 8 });
    expect(last.timings?.predicted_ms).toBe(36.916);
    expect(last.timings?.predicted_per_token_ms).toBe(5.273714285714285);
    expect(infos[9]).toEqual({ kind: 'done' });
  });
});

describe('interpretEvent / interpretChunk', () => {
  it('counts data that is not a JSON object as malformed', () => {
    expect(interpretEvent(event('{"choices": [')).kind).toBe('malformed');
    expect(interpretEvent(event('42')).kind).toBe('malformed');
    expect(interpretEvent(event('[1, 2]')).kind).toBe('malformed');
  });

  it('treats an empty data line and a choice-less object as keep-alives', () => {
    expect(interpretEvent(event(''))).toMatchObject({ kind: 'chunk', tokenBearing: false });
    expect(interpretEvent(event('{}'))).toMatchObject({ kind: 'chunk', tokenBearing: false });
    expect(interpretChunk({ choices: [{ delta: { content: '' } }] })).toMatchObject({ tokenBearing: false });
  });

  it('reports errors sent inside the stream', () => {
    expect(interpretEvent(event('{"error": {"message": "out of memory", "code": 500}}'))).toEqual({
      kind: 'error',
      message: 'out of memory',
    });
    expect(interpretEvent(event('{"message": "boom"}', 'error'))).toEqual({ kind: 'error', message: 'boom' });
  });

  it('counts tokens from logprobs when a chunk carries several', () => {
    const chat = { choices: [{ delta: { content: 'ab' }, logprobs: { content: [{}, {}, {}] } }] };
    expect(interpretChunk(chat)).toMatchObject({ tokenBearing: true, tokens: 3, text: 'ab' });
    const completion = { choices: [{ text: 'xy', logprobs: { tokens: ['x', 'y'] } }] };
    expect(interpretChunk(completion)).toMatchObject({ tokenBearing: true, tokens: 2 });
  });

  it('counts reasoning and tool-call deltas as generated tokens', () => {
    expect(interpretChunk({ choices: [{ delta: { reasoning_content: 'hmm' } }] })).toMatchObject({ tokens: 1 });
    expect(interpretChunk({ choices: [{ delta: { tool_calls: [{ index: 0 }] } }] })).toMatchObject({ tokens: 1 });
  });

  it('ignores usage: null and invalid counts', () => {
    expect(asChunk(interpretChunk({ choices: [], usage: null })).usage).toBeUndefined();
    expect(asChunk(interpretChunk({ choices: [], usage: { completion_tokens: -1, prompt_tokens: 3 } })).usage).toEqual({
      promptTokens: 3,
    });
  });
});
