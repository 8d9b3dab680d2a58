/** Locates files that ship with the package (the compiled kernel, the worker script) from source or from dist/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, SkipbenchError } from '../kernels/errors.js';

let root: string | undefined;

/** The folder holding skipbench's package.json, found by walking up from this module. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'skipbench') {
      root = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new SkipbenchError(ErrorCodes.BUILD_MISSING, 'cannot find the skipbench package root');
    dir = parent;
  }
}

export function packageVersion(): string {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version;
}

/** A built artifact; a clear error says how to build it when it is missing. */
export function builtFile(relative: string): string {
  const path = join(packageRoot(), relative);
  if (!existsSync(path)) {
    throw new SkipbenchError(ErrorCodes.BUILD_MISSING, `${relative} is missing: run \`npm run build\` first`, {
      field: relative,
    });
  }
  return path;
}
