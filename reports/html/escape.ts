/**
 * Escaping for the HTML report. Every string interpolated into markup goes through `escapeHtml`, via the `html`
 * tagged template (only values already built by `html` pass through unescaped). JSON inside a <script> element is
 * made inert with `jsonForScript`, and inlined JavaScript bundles are checked by `scriptText`.
 */
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value -> markup that shows it verbatim (`&`, `<`, `>`, `"`, `'` become entities). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** Markup that is already safe: built by `html` from escaped parts. */
export class SafeHtml {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function part(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return value.map(part).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** Template literal tag: the literal parts are markup, every interpolated value is escaped (arrays joined). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += part(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/**
 * JSON for a <script type="application/json"> element: `<`, `>` and `&` as \u escapes (so `</script>` or `<!--` in
 * the data cannot end or change the element), and U+2028 / U+2029 escaped too. JSON.parse reads it back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * A JavaScript bundle as the text of an inline <script>: `</script` is written `<\/script` (the same string in a JS
 * string or regex literal); a bundle with `<!--` (which would change how the HTML parser reads the element) is refused.
 */
export function scriptText(name: string, code: string): string {
  if (code.includes('<!--')) {
    throw new SkipbenchError(
      ErrorCodes.BUILD_MISSING,
      `${name} contains "<!--" and cannot be inlined in a <script> element`,
      {
        field: name,
      },
    );
  }
  return code.replace(/<\/(script)/gi, '<\\/$1');
}
