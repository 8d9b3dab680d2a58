/**
 * The three browser bundles the HTML report inlines (vega, vega-lite, vega-embed), read once from node_modules and
 * cached. The renderer takes them as an argument, so it stays a pure function of the results and these assets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ErrorCodes, SkipbenchError } from '../../kernels/errors.js';

export interface VegaAssets {
  vega: string;
  vegaLite: string;
  vegaEmbed: string;
  /** Package versions, shown in the report's footer. */
  versions: { vega: string; vegaLite: string; vegaEmbed: string };
}

const BUNDLES = {
  vega: { pkg: 'vega', file: 'build/vega.min.js' },
  vegaLite: { pkg: 'vega-lite', file: 'build/vega-lite.min.js' },
  vegaEmbed: { pkg: 'vega-embed', file: 'build/vega-embed.min.js' },
} as const;

/**
 * The package's folder: its entry point resolved the way Node would, then up to the package.json that names it
 * (the minified bundles are not in the packages' `exports`, so they cannot be resolved directly).
 */
function packageDir(pkg: string): { dir: string; version: string } {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve(pkg));
  } catch (error) {
    throw new SkipbenchError(
      ErrorCodes.BUILD_MISSING,
      `cannot find the ${pkg} package (run npm install)`,
      { field: pkg },
      { cause: error },
    );
  }
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const json = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (json.name === pkg) return { dir, version: json.version ?? 'unknown' };
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new SkipbenchError(ErrorCodes.BUILD_MISSING, `cannot find ${pkg}/package.json`, { field: pkg });
    dir = parent;
  }
}

function readBundle(key: keyof typeof BUNDLES): { code: string; version: string } {
  const { pkg, file } = BUNDLES[key];
  const { dir, version } = packageDir(pkg);
  const path = join(dir, file);
  try {
    return { code: readFileSync(path, 'utf8'), version };
  } catch (error) {
    throw new SkipbenchError(ErrorCodes.BUILD_MISSING, `cannot read ${path}`, { field: pkg }, { cause: error });
  }
}

let cached: VegaAssets | undefined;

/** The bundles, read on the first call (about 0.8 MB) and kept for the life of the process. */
export function loadVegaAssets(): VegaAssets {
  if (!cached) {
    const vega = readBundle('vega');
    const vegaLite = readBundle('vegaLite');
    const vegaEmbed = readBundle('vegaEmbed');
    cached = {
      vega: vega.code,
      vegaLite: vegaLite.code,
      vegaEmbed: vegaEmbed.code,
      versions: { vega: vega.version, vegaLite: vegaLite.version, vegaEmbed: vegaEmbed.version },
    };
  }
  return cached;
}
