/**
 * The example nightly workflow (.github/workflows/nightly.yml): valid YAML of the expected shape (schedule and
 * manual runs, Node 20, `npm ci`), shell steps bash can parse, and every `npx skipbench ...` it runs is a command
 * and flags the CLI accepts (parsed with the real command line, nothing run), in the order: kernel, compare, publish.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type CliCommand, createCli } from '../../../harness/cli.js';
import { registerPublish } from '../../../harness/commands/publish.js';

const PATH = fileURLToPath(new URL('../../../.github/workflows/nightly.yml', import.meta.url));

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

interface Workflow {
  on: { schedule: { cron: string }[]; workflow_dispatch: unknown };
  env: Record<string, string>;
  permissions: Record<string, string>;
  jobs: Record<string, { 'runs-on': string; steps: Step[] }>;
}

const workflow = parse(readFileSync(PATH, 'utf8')) as Workflow;
const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);

/** The shell text of a step with every `${{ ... }}` expression replaced by a plain word. */
const shell = (run: string) => run.replace(/\$\{\{[^}]*\}\}/g, 'EXPR');

/** Every `npx skipbench ...` command line, continuation lines joined, cut at the first shell operator. */
function skipbenchCalls(): { step: Step; args: string[] }[] {
  const calls: { step: Step; args: string[] }[] = [];
  for (const step of steps) {
    if (!step.run) continue;
    const text = shell(step.run).replace(/\\\n\s*/g, ' ');
    for (const m of text.matchAll(/npx skipbench ([^\n]*)/g)) {
      const line = m[1].split(/\s(?:>>|>|\|\||\||&&|;)\s?/)[0];
      calls.push({ step, args: line.trim().split(/\s+/) });
    }
  }
  return calls;
}

/** Shell words -> argv: quotes dropped, $VARS from the workflow's env, other variables and globs a sample path. */
function argv(args: string[], step: Step): string[] {
  const env = { ...workflow.env, ...step.env };
  return args.map((a) => {
    const word = a.replace(/^"(.*)"$/, '$1');
    const variable = word.match(/^\$\{?(\w+)\}?$/);
    if (variable && env[variable[1]] !== undefined && !/EXPR|\$\{\{/.test(env[variable[1]])) return env[variable[1]];
    return word.includes('$') || word.includes('*') ? 'results/run/result.json' : word;
  });
}

/** Parses argv with the whole CLI (plus publish, until harness/cli.ts registers it), running nothing. */
function parseWithCli(args: string[]): CliCommand | { name: 'publish' } | undefined {
  let parsed: CliCommand | { name: 'publish' } | undefined;
  const program: Command = createCli((c) => {
    parsed = c;
  });
  if (!program.commands.some((c) => c.name() === 'publish')) {
    registerPublish(program, (c) => {
      parsed = c;
    });
  }
  const quiet = { writeErr: () => {}, writeOut: () => {} };
  for (const c of [program, ...program.commands]) c.exitOverride().configureOutput(quiet);
  program.parse(args, { from: 'user' });
  return parsed;
}

describe('the nightly workflow', () => {
  it('runs on a schedule and by hand, on ubuntu-latest with Node 20, installing with npm ci', () => {
    expect(workflow.on.schedule[0].cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    expect(workflow.on).toHaveProperty('workflow_dispatch');
    expect(Object.values(workflow.jobs).map((j) => j['runs-on'])).toEqual(['ubuntu-latest']);
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version']).toBe(20);
    expect(steps.some((s) => /^npm ci\b/m.test(s.run ?? ''))).toBe(true);
    expect(workflow.permissions).toEqual({ contents: 'read', actions: 'read' });
    for (const s of steps.filter((x) => x.uses)) expect(s.uses).toMatch(/^actions\/[\w-]+@v\d+$/);
  });

  it('has shell steps bash can parse', () => {
    for (const step of steps.filter((s) => s.run)) {
      const r = spawnSync('bash', ['-n', '-c', shell(step.run!)], { encoding: 'utf8' });
      expect(r.status, `${step.name}: ${r.stderr}`).toBe(0);
    }
  });

  it('runs only skipbench commands and flags that exist: kernel, compare (Markdown), publish', () => {
    const calls = skipbenchCalls();
    const parsed = calls.map(({ step, args }) => {
      try {
        return parseWithCli(argv(args, step));
      } catch (error) {
        const message = error instanceof CommanderError ? error.message : String(error);
        throw new Error(`npx skipbench ${args.join(' ')}: ${message}`);
      }
    });
    expect(parsed.map((c) => c?.name)).toEqual(['kernel', 'compare', 'publish']);
    expect(parsed[1]).toMatchObject({ baseline: 'baseline/result.json', markdown: true });
    expect(parsed[2]).toMatchObject({ site: 'site' });
  });

  it('writes the verdict to the job summary, tolerates a missing baseline, and fails on a regression', () => {
    const gate = steps.find((s) => s.run?.includes('skipbench compare'))!;
    expect(gate.run).toMatch(/--markdown\s*\\?\s*>> "\$GITHUB_STEP_SUMMARY" \|\| status=\$\?/);
    expect(gate.run).toMatch(/if \[ ! -f baseline\/result.json \]/);
    const fail = steps.at(-1)!;
    expect(fail.if).toContain("steps.gate.outputs.status != '0'");
    expect(fail.run).toMatch(/exit 1/);
    // the site and the result are uploaded before the job fails
    const uploads = steps.filter((s) => s.uses?.startsWith('actions/upload-artifact@'));
    // the run's folder (a GitHub expression), then the site
    expect(uploads.map((s) => s.with?.path)).toEqual([`\${{ steps.bench.outputs.dir }}`, 'site']);
    expect(steps.indexOf(uploads[1])).toBeLessThan(steps.indexOf(fail));
    const downloads = steps.filter((s) => s.uses?.startsWith('actions/download-artifact@'));
    for (const d of downloads) expect(d.with).toHaveProperty('run-id');
  });
});
