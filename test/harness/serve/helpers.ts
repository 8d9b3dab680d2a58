/** Shared pieces of the reference server tests: a tiny model shape, prompts of known length, JSON/SSE helpers. */
import type { ServeUserOptions } from '../../../harness/serve/options.js';
import { llama3Tokenizer } from '../../../workloads/index.js';

/**
 * Small enough that a request of a few hundred tokens takes milliseconds, big enough for many tiles per phase:
 * 16-key tiles, two layers, one GQA group of four heads (sink, sink, local, local).
 */
export const TINY: ServeUserOptions = {
  layers: 2,
  numQueryHeads: 4,
  numKvHeads: 1,
  headDim: 64,
  blockM: 16,
  blockN: 16,
  decodeBlockN: 16,
  maxContext: 8192,
  threads: 1,
  implementation: 'wasm',
};

export const tokenizer = llama3Tokenizer();

/** A parsed JSON payload under test; its fields are checked one by one with expect. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field, not typed
export type Json = any;

/** A text of about `words` tokens (plain words re-tokenize one token each after a space). */
export function promptText(words: number, salt = 0): string {
  const vocab = ['alpha', 'beta', 'gamma', 'delta', 'river', 'stone', 'cloud', 'paper', 'light', 'sound'];
  const out = [`Request ${salt}:`];
  for (let i = 0; i < words; i++) out.push(vocab[(i * 7 + salt * 3 + (i >> 3)) % vocab.length]);
  return out.join(' ');
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: Json; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** The `data:` payloads of an SSE body, parsed (the `[DONE]` sentinel kept as the string). */
export function sseData(text: string): Json[] {
  return text
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice('data: '.length))
    .map((d) => (d === '[DONE]' ? d : JSON.parse(d)));
}
