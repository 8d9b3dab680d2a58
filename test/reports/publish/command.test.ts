/**
 * `skipbench publish` on real files in a temporary folder: its flags, two runs published, the same files again
 * writing nothing (byte-identical site, untouched files), a changed run replaced, a hostile run id given a safe file
 * name, and unusable input (a corrupt or foreign result, a broken runs.json, a folder that is not a site) refused
 * with exit 2 before anything is written.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PublishCommand, registerPublish, runPublish } from '../../../harness/commands/publish.js';
import { runFileName, type SiteState } from '../../../reports/publish/index.js';
import type { KernelResultFile, ResultFile } from '../../../reports/schema.js';
import { kernelResult, XSS } from '../html/fixtures.js';

let dir: string;
let kernel: KernelResultFile;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skipbench-publish-'));
  kernel = await kernelResult();
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function parse(args: string[]): PublishCommand {
  let parsed: PublishCommand | undefined;
  const quiet = { writeErr: () => {}, writeOut: () => {} };
  const program = new Command('skipbench').exitOverride().configureOutput(quiet);
  registerPublish(program, (c) => {
    parsed = c;
  });
  for (const c of program.commands) c.exitOverride().configureOutput(quiet);
  program.parse(['publish', ...args], { from: 'user' });
  return parsed!;
}

/** Writes `result` as result.json in its own folder, like the kernel target does. */
function writeResult(result: ResultFile, folder: string): string {
  const path = join(dir, folder, 'result.json');
  mkdirSync(join(dir, folder), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

function variant(id: string, startedAt: string, factor = 1): KernelResultFile {
  const r = structuredClone(kernel);
  r.run.id = id;
  r.run.startedAt = startedAt;
  for (const c of r.cells) if (c.speedup) c.speedup.medianPairedRatio /= factor;
  return r;
}

function publish(site: string, files: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runPublish({ name: 'publish', site, files }, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

/** Every file under `root`: relative path -> contents and modification time. */
function snapshot(root: string): Map<string, { bytes: string; mtimeMs: number }> {
  const files = new Map<string, { bytes: string; mtimeMs: number }>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(root, path), { bytes: readFileSync(path, 'latin1'), mtimeMs: statSync(path).mtimeMs });
    }
  };
  walk(root);
  return files;
}

describe('publish flags', () => {
  it('takes a site folder and one or more result files', () => {
    expect(parse(['--site', 'site', 'a.json', 'b.json'])).toEqual({
      name: 'publish',
      site: 'site',
      files: ['a.json', 'b.json'],
    });
    expect(() => parse(['a.json'])).toThrow(expect.objectContaining({ code: 'commander.missingMandatoryOptionValue' }));
    expect(() => parse(['--site', 'site'])).toThrow(expect.objectContaining({ code: 'commander.missingArgument' }));
  });
});

describe('skipbench publish', () => {
  it('publishes two runs, then the same files again byte-identical without writing, then replaces a changed run', () => {
    const site = join(dir, 'site');
    const b = writeResult(variant('kernel-b', '2026-02-01T00:00:00.000Z', 1.1), 'results/b');
    const a = writeResult(variant('kernel-a', '2026-01-01T00:00:00.000Z'), 'results/a');

    const first = publish(site, [b, a]);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toBe(
      'added  kernel-b  runs/kernel-b.html\n' +
        'added  kernel-a  runs/kernel-a.html\n' +
        `Index: ${join(site, 'index.html')} (2 run(s); 6 file(s) written)\n`,
    );
    const before = snapshot(site);
    expect([...before.keys()]).toEqual([
      'index.html',
      'runs/kernel-a.html',
      'runs/kernel-a.json',
      'runs/kernel-b.html',
      'runs/kernel-b.json',
      'runs.json',
    ]);
    const state = JSON.parse(before.get('runs.json')!.bytes) as SiteState;
    expect(state.runs.map((r) => r.id)).toEqual(['kernel-a', 'kernel-b']);
    expect(before.get('runs/kernel-a.json')!.bytes).toBe(readFileSync(a, 'latin1'));
    expect(before.get('index.html')!.bytes).toContain('<a href="runs/kernel-b.html">');

    const again = publish(site, [a, b]);
    expect(again.code).toBe(0);
    expect(again.out).toBe(
      'unchanged  kernel-a  runs/kernel-a.html\n' +
        'unchanged  kernel-b  runs/kernel-b.html\n' +
        `Index: ${join(site, 'index.html')} (2 run(s); 0 file(s) written)\n`,
    );
    expect(snapshot(site)).toEqual(before);

    const changed = writeResult(variant('kernel-a', '2026-01-01T00:00:00.000Z', 3), 'results/a2');
    const third = publish(site, [changed]);
    expect(third.code).toBe(0);
    expect(third.out).toMatch(/^replaced {2}kernel-a {2}runs\/kernel-a\.html\n/);
    const after = snapshot(site);
    expect([...after.keys()]).toEqual([...before.keys()]);
    expect(after.get('runs/kernel-a.json')!.bytes).toBe(readFileSync(changed, 'latin1'));
    expect(after.get('runs/kernel-b.html')).toEqual(before.get('runs/kernel-b.html'));
    expect(after.get('runs.json')!.bytes).not.toBe(before.get('runs.json')!.bytes);
  });

  it('gives a hostile run id a safe file name and shows it escaped', () => {
    const site = join(dir, 'hostile-site');
    const id = `${XSS}/../../x`;
    const file = writeResult(variant(id, '2026-01-01T00:00:00.000Z'), 'results/hostile');
    const { code, out } = publish(site, [file]);
    expect(code).toBe(0);
    const name = runFileName(id);
    expect(name).toMatch(/^[a-z0-9._-]+$/);
    expect(out).toContain(`added  ${id}  runs/${name}.html`);
    expect(readdirSync(join(site, 'runs')).sort()).toEqual([`${name}.html`, `${name}.json`]);
    expect(readdirSync(site).sort()).toEqual(['index.html', 'runs', 'runs.json']);
    const index = readFileSync(join(site, 'index.html'), 'utf8').replace(/(<script\b[^>]*>)[\s\S]*?(<\/script>)/g, '');
    expect(index).not.toContain(XSS);
    expect(index).toContain('&lt;script&gt;alert(1)&lt;/script&gt;/../../x');
  });

  it('refuses unusable input with exit 2, naming the file, and writes nothing', () => {
    const site = join(dir, 'guarded-site');
    const good = writeResult(variant('kernel-good', '2026-01-01T00:00:00.000Z'), 'results/good');
    expect(publish(site, [good]).code).toBe(0);
    const before = snapshot(site);

    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, '{"schema": "skipbench/result", "schemaV');
    const foreign = join(dir, 'foreign.json');
    writeFileSync(foreign, JSON.stringify({ schema: 'something/else', schemaVersion: 1 }));
    const broken = structuredClone(kernel) as unknown as Record<string, unknown>;
    broken.cells = 'not a list';
    const malformed = writeResult(broken as unknown as ResultFile, 'results/malformed');
    const other = writeResult(variant('kernel-other', '2026-03-01T00:00:00.000Z'), 'results/other');
    for (const bad of [corrupt, foreign, malformed, join(dir, 'missing.json')]) {
      const { code, out, err } = publish(site, [other, bad]);
      expect(code, bad).toBe(2);
      expect(out).toBe('');
      expect(err).toContain(bad);
      expect(err).toMatch(/\[SKB_RESULT\]\n$/);
      expect(snapshot(site)).toEqual(before);
    }

    // a runs.json that is not this site's
    writeFileSync(join(site, 'runs.json'), '{"schema":"skipbench/site","schemaVersion":99,"runs":[]}\n');
    const state = publish(site, [other]);
    expect(state.code).toBe(2);
    expect(state.err).toContain(join(site, 'runs.json'));

    // a folder with files but no runs.json is not a site
    const notSite = join(dir, 'not-a-site');
    mkdirSync(notSite);
    writeFileSync(join(notSite, 'notes.txt'), 'mine');
    const refused = publish(notSite, [other]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/not a skipbench site.*\[SKB_CONFIG\]\n$/);
    expect(readdirSync(notSite)).toEqual(['notes.txt']);
  });
});
