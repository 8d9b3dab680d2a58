/** Parsing of human-friendly quantities on the command line and in config files. */
import { ErrorCodes, invalid } from '../kernels/errors.js';

const TOKEN_SUFFIX: Record<string, number> = { '': 1, k: 1024, m: 1024 * 1024 };

/** "4096", "4K", "128k", "1M" -> tokens (K = 1024, as context lengths are usually counted). */
export function parseTokenCount(field: string, text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(text);
  const value = match ? Number(match[1]) * TOKEN_SUFFIX[match[2].toLowerCase()] : Number.NaN;
  if (!Number.isInteger(value) || value < 1) {
    throw invalid(ErrorCodes.CONFIG, field, 'a positive whole number of tokens, e.g. 4096 or 4K (K = 1024)', text);
  }
  return value;
}

export function parseList<T>(field: string, text: string, parse: (field: string, item: string) => T): T[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw invalid(ErrorCodes.CONFIG, field, 'a non-empty comma-separated list', text);
  return items.map((item) => parse(field, item));
}

export function parseNumber(field: string, text: string, min = 0, max = Number.POSITIVE_INFINITY): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(ErrorCodes.CONFIG, field, `a number in [${min}, ${max}]`, text);
  }
  return value;
}

export function parseInteger(field: string, text: string, min: number, max: number): number {
  const value = parseNumber(field, text, min, max);
  if (!Number.isInteger(value)) throw invalid(ErrorCodes.CONFIG, field, `an integer in [${min}, ${max}]`, text);
  return value;
}
