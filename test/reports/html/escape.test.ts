/** Escaping for the HTML report: text, the html template tag, JSON in a script element, inlined bundles. */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../kernels/errors.js';
import { escapeHtml, html, jsonForScript, SafeHtml, scriptText } from '../../../reports/html/escape.js';

describe('escapeHtml and the html tag', () => {
  it('turns every markup character into an entity', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });

  it('escapes every interpolated value, joins arrays, drops null/undefined/false, passes html-built parts through', () => {
    const inner = html`<b>${'<i>'}</b>`;
    const out = html`<p title="${'"><script>'}">${['<x>', inner, 3, null, undefined, false]}</p>`;
    expect(out).toBeInstanceOf(SafeHtml);
    expect(out.markup).toBe('<p title="&quot;&gt;&lt;script&gt;">&lt;x&gt;<b>&lt;i&gt;</b>3</p>');
  });
});

describe('jsonForScript', () => {
  it('leaves no <, >, & or line separators in the text, and parses back to the same value', () => {
    const value = { model: '</script><script>alert(1)</script>', note: '<!-- & -->', sep: 'a\u2028b\u2029c' };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('scriptText', () => {
  it('writes </script as <\\/script, which is the same string inside JS literals', () => {
    const code = 'var s = "</script>"; var r = /<\\/SCRIPT>/;';
    const text = scriptText('test', code);
    expect(text).not.toMatch(/<\/script/i);
    expect(new Function(`${text}; return s;`)()).toBe('</script>');
  });

  it('refuses a bundle with <!--', () => {
    expect(() => scriptText('test', 'var a = "<!--";')).toThrow(
      expect.objectContaining({ code: ErrorCodes.BUILD_MISSING, field: 'test' }),
    );
  });
});
