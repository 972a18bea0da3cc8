import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

import { E3Error } from '../errors/e3-error.js';
import { HOME_DIRS } from '../schemas/index.js';
import { suggest } from '../validate/rules.js';
import { ARCHIVE_DIR, runFileName } from './layout.js';
import { isSafeName } from './naming.js';

/** True when `dir` is a folder holding its run file `<basename>.json`. */
function isRunDir(dir: string): boolean {
  try {
    return statSync(dir).isDirectory() && statSync(join(dir, runFileName(basename(dir)))).isFile();
  } catch {
    return false;
  }
}

function runNames(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return [];
  }
}

/**
 * The one way from a `-r` argument to a run directory (absolute). `nameOrPath` is a run name found in
 * `<home>/runs/` or else `<home>/archive/`, or a path (relative to `cwd` or absolute) of a folder that holds
 * its run file `<folder>.json`. Only a safe name (no slash, no `..`) is looked up in e3-home; anything else
 * is taken as a path. Throws E3_RUN_NOT_FOUND with the closest run name when there is one.
 */
export function resolveRunDir(home: string, nameOrPath: string, options: { cwd?: string } = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const runsDir = join(home, HOME_DIRS.run);
  const archiveDir = join(home, ARCHIVE_DIR);
  const named = isSafeName(nameOrPath);
  if (named) {
    for (const dir of [join(runsDir, nameOrPath), join(archiveDir, nameOrPath)]) if (isRunDir(dir)) return dir;
  }
  const asPath = resolve(cwd, nameOrPath);
  if (isRunDir(asPath)) return asPath;
  const known = [...runNames(runsDir), ...runNames(archiveDir)];
  const looked = named ? `${runsDir}, ${archiveDir} or ${asPath}` : asPath;
  throw new E3Error('RUN_NOT_FOUND', `run "${nameOrPath}" not found: no run folder (holding ${runFileName(basename(asPath))}) in ${looked}${suggest(basename(nameOrPath), known)}`, {
    hint: 'Run `e3 list runs` to see the runs in e3-home, or pass the path of a run folder',
  });
}

/** True when the run directory `runDir` is in `<home>/archive/` (deprovisioned). */
export function isArchivedRunDir(home: string, runDir: string): boolean {
  return dirname(resolve(runDir)) === resolve(home, ARCHIVE_DIR);
}
