/** Renderers looked up by name; each turns a result into a string. Only the CLI writes files. */
import { ErrorCodes, invalid } from '../kernels/errors.js';
import { renderHtml } from './html/render.js';
import { renderMarkdown } from './markdown.js';
import type { ResultFile } from './schema.js';
import { renderTable } from './table.js';

export const renderers = {
  json: (result: ResultFile) => `${JSON.stringify(result, null, 2)}\n`,
  markdown: renderMarkdown,
  table: renderTable,
  html: (result: ResultFile) => renderHtml(result),
} satisfies Record<string, (result: ResultFile) => string>;

export type RendererName = keyof typeof renderers;

export function render(name: string, result: ResultFile): string {
  // own keys only: `in` would also accept inherited names such as 'toString' or 'constructor'
  if (!Object.hasOwn(renderers, name)) {
    throw invalid(ErrorCodes.CONFIG, 'format', Object.keys(renderers).join(' | '), name);
  }
  return renderers[name as RendererName](result);
}
