/** Number formatting shared by the text renderers. */

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(0)} µs`;
}

export function formatRatio(x: number | undefined): string {
  return x !== undefined && Number.isFinite(x) ? `${x.toFixed(2)}x` : '—';
}

export function formatPercent(x: number | undefined, digits = 1): string {
  return x !== undefined && Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : '—';
}

export function formatSci(x: number | undefined): string {
  return x !== undefined && Number.isFinite(x) ? x.toExponential(1) : '—';
}

/** 1.23e9 -> "1.23 G" (SI, for rates). */
export function formatSi(x: number, unit: string): string {
  if (!Number.isFinite(x)) return '—';
  const prefixes = ['', 'k', 'M', 'G', 'T', 'P'];
  let i = 0;
  while (Math.abs(x) >= 1000 && i < prefixes.length - 1) {
    x /= 1000;
    i++;
  }
  return `${x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2)} ${prefixes[i]}${unit}`;
}

export function formatTokens(tokens: number): string {
  if (tokens >= 1024 && tokens % 1024 === 0) return `${tokens / 1024}K`;
  return String(tokens);
}
