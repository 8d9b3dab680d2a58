/**
 * `skipbench publish --site <dir> <results...>`: adds result files to a static site of runs (the pure build is
 * reports/publish/site.ts; this reads and writes). Prints what was added, replaced or unchanged, and the index.
 *
 * All or nothing on input: every result file and the site's runs.json are read and checked first; one unreadable,
 * foreign or malformed file names itself and exits 2 with nothing written (a nightly glob that picks up a broken
 * file must not half-update the site; fix or leave out the file and publish again). Writing is file by file, each
 * atomically, runs' pages first and index.html last, and only where the bytes differ, so publishing the same files
 * again writes nothing. A non-empty folder without runs.json is refused: it is not a site, and may be anything.
 *
 * Exit code: 0 published, 2 unusable input or a file that could not be written.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';
import type { VegaAssets } from '../../reports/html/assets.js';
import { buildSite } from '../../reports/publish/site.js';
import { parseSiteState, publishProblems, SITE_PATHS, type SiteState } from '../../reports/publish/state.js';
import type { ResultFile } from '../../reports/schema.js';
import { readResultFile } from '../result-file.js';
import { writeFileAtomic } from '../result-writer.js';

export interface PublishCommand {
  name: 'publish';
  /** The site folder (created when missing). */
  site: string;
  /** result.json files to add. */
  files: string[];
}

export function registerPublish(program: Command, done: (command: PublishCommand) => void): void {
  program
    .command('publish')
    .description(
      'Add result files to a static site: runs.json (run summaries), runs/<run id>.html and .json (the report and ' +
        'result of each run) and index.html (every run, with speedup and time trends per context length). A run ' +
        'already there is replaced; publishing the same files again changes nothing. Exit code: 0 published, ' +
        '2 unusable input (nothing is written).',
    )
    .requiredOption('--site <dir>', 'the site folder (created when missing)')
    .argument('<results...>', 'result.json files')
    .action((files: string[], o: { site: string }) => done({ name: 'publish', site: o.site, files }));
}

export interface PublishedRun {
  id: string;
  /** added: new to the site; replaced: its files changed; unchanged: published before with the same contents. */
  action: 'added' | 'replaced' | 'unchanged';
  /** The run's report, relative to the site. */
  report: string;
}

export interface PublishOutcome {
  runs: PublishedRun[];
  /** Files written (absolute), in the order written; empty when the site already held exactly this. */
  written: string[];
  /** Absolute path of index.html. */
  index: string;
  /** Runs on the site now. */
  total: number;
}

function readSiteState(site: string): SiteState | undefined {
  const path = join(site, SITE_PATHS.state);
  if (existsSync(path)) return parseSiteState(readFileSync(path, 'utf8'), path);
  if (existsSync(site)) {
    if (!statSync(site).isDirectory()) {
      throw new SkipbenchError(ErrorCodes.CONFIG, `--site ${site} is not a folder`, {
        field: '--site',
        received: site,
      });
    }
    if (readdirSync(site).length > 0) {
      throw new SkipbenchError(
        ErrorCodes.CONFIG,
        `--site ${site} is not empty and holds no ${SITE_PATHS.state}: not a skipbench site, nothing written`,
        { field: '--site', received: site },
      );
    }
  }
  return undefined;
}

function readPublishable(path: string): ResultFile {
  const result = readResultFile(path);
  const problems = publishProblems(result);
  if (problems.length) {
    throw new SkipbenchError(ErrorCodes.RESULT, `${path} cannot be published: ${problems.join('; ')}`, {
      field: path,
    });
  }
  return result;
}

const sameContents = (path: string, contents: string): boolean =>
  existsSync(path) && readFileSync(path, 'utf8') === contents;

/** Reads and checks everything, then writes what changed. Throws SkipbenchError (nothing written) on bad input. */
export function publishSite(
  site: string,
  files: readonly string[],
  options: { assets?: VegaAssets } = {},
): PublishOutcome {
  const results = files.map(readPublishable);
  const previous = readSiteState(site);
  const build = buildSite(previous, results, options);
  const written: string[] = [];
  for (const file of build.files) {
    const path = resolve(site, ...file.path.split('/'));
    if (sameContents(path, file.contents)) continue;
    writeFileAtomic(path, file.contents);
    written.push(path);
  }
  const runs = build.changes.map((c): PublishedRun => {
    const run = build.state.runs.find((r) => r.id === c.id)!;
    const touched = [run.files.result, run.files.report].some((p) => written.includes(resolve(site, ...p.split('/'))));
    return { id: c.id, action: c.action === 'replaced' && !touched ? 'unchanged' : c.action, report: run.files.report };
  });
  return { runs, written, index: resolve(site, SITE_PATHS.index), total: build.state.runs.length };
}

export interface PublishIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: PublishIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

/** Publishes and returns the exit code: 0 published, 2 unusable input (nothing written) or a write that failed. */
export function runPublish(
  command: PublishCommand,
  io: PublishIo = processIo,
  options: { assets?: VegaAssets } = {},
): number {
  let outcome: PublishOutcome;
  try {
    outcome = publishSite(command.site, command.files, options);
  } catch (error) {
    if (error instanceof SkipbenchError) {
      io.stderr(`skipbench publish: ${error.message} [${error.code}]\n`);
      return 2;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E')) {
      io.stderr(`skipbench publish: cannot update the site ${command.site}: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
  const width = Math.max(...outcome.runs.map((r) => r.action.length));
  for (const r of outcome.runs) io.stdout(`${r.action.padEnd(width)}  ${r.id}  ${r.report}\n`);
  io.stdout(`Index: ${outcome.index} (${outcome.total} run(s); ${outcome.written.length} file(s) written)\n`);
  return 0;
}
