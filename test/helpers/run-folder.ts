/** The one run folder a CLI run wrote under `dir`: its id, its files, and the parsed result.json. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { KernelResultFile } from '../../reports/schema.js';

export function onlyRunFolder(dir: string) {
  const folders = readdirSync(dir).filter((f) => f.startsWith('kernel-'));
  expect(folders).toHaveLength(1);
  const id = folders[0];
  const resultPath = join(dir, id, 'result.json');
  const summaryPath = join(dir, id, 'summary.md');
  expect(existsSync(summaryPath)).toBe(true);
  const result = JSON.parse(readFileSync(resultPath, 'utf8')) as KernelResultFile;
  return { id, resultPath, summaryPath, result };
}
