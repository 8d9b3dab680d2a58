/**
 * Run ids become file names (`runs/<name>.html`, `runs/<name>.json`). An id that is already a safe name is used as
 * it is (skipbench's own ids are: `kernel-20260101-000000-1a2b3c`); any other id gets a deterministic name built from
 * it and a hash of it, so distinct ids never share a file and the same id always gets the same file.
 *
 * Safe: lower case ASCII letters, digits, `.`, `_`, `-`; starting with a letter or digit; at most 80 characters; not
 * a Windows device name; not ending in the `--<hash>` form the derived names use. Lower case only, so two ids that
 * differ in case cannot collide on a case-insensitive file system.
 */
import { createHash } from 'node:crypto';

const SAFE = /^[a-z0-9][a-z0-9._-]{0,79}$/;
/** The suffix derived names end with: two dashes and 10 hex digits of sha256(id). */
const HASHED = /--[0-9a-f]{10}$/;
const DEVICE = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/;

const HASH_CHARS = 10;
const STEM_CHARS = 60;

/** The file name stem of a run's files: the id itself when safe, else `<readable part>--<sha256 prefix>`. */
export function runFileName(id: string): string {
  if (SAFE.test(id) && !HASHED.test(id) && !DEVICE.test(id) && !id.endsWith('.')) return id;
  const hash = createHash('sha256').update(id, 'utf8').digest('hex').slice(0, HASH_CHARS);
  const stem = id
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, STEM_CHARS)
    .replace(/[^a-z0-9]+$/, '');
  return `${stem || 'run'}--${hash}`;
}
