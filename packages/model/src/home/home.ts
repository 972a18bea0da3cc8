import { existsSync, readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { E3Error } from '../errors/e3-error.js';
import { runFileName } from '../run-dir/layout.js';
import { assertSafeName } from '../run-dir/naming.js';
import { HOME_DIRS, type HomeKind } from '../schemas/index.js';
import { workloadJobs, type Workload, type WorkloadFile } from '../schemas/workload.js';
import { suggest, type RuleContext } from '../validate/rules.js';
import { validateText } from '../validate/validate.js';

export const HOME_DIR_NAME = 'e3-home';

/** The e3 repository root: the nearest folder above this module holding pnpm-workspace.yaml. */
function repoRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml')) && existsSync(join(dir, HOME_DIR_NAME))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** e3's own e3-home (shipped experiments, workloads, configs): the fallback for names not in the user's home. */
export function builtinHome(): string | undefined {
  const root = repoRoot();
  return root ? join(root, HOME_DIR_NAME) : undefined;
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

export interface ResolveHomeOptions {
  /** `--home` */
  home?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The e3-home folder: `--home` > `E3_HOME` > the nearest `e3-home/` walking up from the working
 * directory > the repository's `e3-home/`. Throws E3_HOME_NOT_FOUND when the chosen folder is missing.
 */
export function resolveHome(options: ResolveHomeOptions = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const given = options.home ?? env.E3_HOME;
  if (given) {
    const abs = resolve(cwd, given);
    if (!isDir(abs)) {
      throw new E3Error('HOME_NOT_FOUND', `e3-home ${abs} does not exist (from ${options.home ? '--home' : 'E3_HOME'})`, {
        hint: `Create it with \`mkdir -p ${abs}/experiments\`, or pass an existing folder with --home`,
      });
    }
    return abs;
  }
  let dir = resolve(cwd);
  for (;;) {
    if (isDir(join(dir, HOME_DIR_NAME))) return join(dir, HOME_DIR_NAME);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const builtin = builtinHome();
  if (builtin && isDir(builtin)) return builtin;
  throw new E3Error('HOME_NOT_FOUND', `no e3-home found from ${cwd}`, { hint: 'Pass --home <dir> or set E3_HOME' });
}

/** Path of a named file of `kind` in `home` (a run: runs/<name>/<name>.json). Existence not checked; throws E3_UNSAFE_NAME for a name that could leave `home`. */
export function homeFilePath(home: string, kind: HomeKind, name: string): string {
  assertSafeName(name, `${kind} name`);
  const dir = join(home, HOME_DIRS[kind]);
  return kind === 'run' ? join(dir, name, runFileName(name)) : join(dir, `${name}.json`);
}

/**
 * Finds a named file: the user's home first, then e3's built-in home (for experiments, workloads,
 * snapshots and keys). Undefined when neither has it.
 */
export function findHomeFile(home: string, kind: HomeKind, name: string): string | undefined {
  const own = homeFilePath(home, kind, name);
  if (existsSync(own)) return own;
  if (kind === 'run' || kind === 'instance') return undefined;
  const builtin = builtinHome();
  if (builtin && resolve(builtin) !== resolve(home)) {
    const p = homeFilePath(builtin, kind, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * `findHomeFile`, or E3_FILE_NOT_FOUND naming where it looked and the closest name of that kind in `home`
 * and e3's own e3-home (`-e local-dem` → did you mean "local-demo"?).
 */
export function requireHomeFile(home: string, kind: Exclude<HomeKind, 'run'>, name: string): string {
  const found = findHomeFile(home, kind, name);
  if (found) return found;
  const names = new Set<string>();
  const builtin = kind === 'instance' ? undefined : builtinHome();
  for (const h of [home, builtin]) {
    if (!h) continue;
    try {
      for (const f of readdirSync(join(h, HOME_DIRS[kind]))) if (f.endsWith('.json')) names.add(f.slice(0, -5));
    } catch {
      /* folder absent */
    }
  }
  throw new E3Error('FILE_NOT_FOUND', `${kind} "${name}" not found in ${join(home, HOME_DIRS[kind])}${suggest(name, [...names].sort())}`, {
    hint: `Run \`e3 list ${HOME_DIRS[kind]}\` to see the names, or pass the path of a file`,
  });
}

/**
 * Names of the files of `kind` in `home`, sorted. Runs are folders `runs/<d>` holding `<d>.json`
 * (E³ names with colons included); everything else is `*.json` without the suffix.
 */
export async function listHome(home: string, kind: HomeKind): Promise<string[]> {
  const dir = join(home, HOME_DIRS[kind]);
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new E3Error('IO', `cannot list ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const names =
    kind === 'run'
      ? entries.filter((e) => e.isDirectory() && existsSync(join(dir, e.name, runFileName(e.name)))).map((e) => e.name)
      : entries.filter((e) => e.isFile() && e.name.endsWith('.json') && !e.name.startsWith('.')).map((e) => e.name.slice(0, -5));
  return names.sort();
}

/** `runs/<run>` in `home`; throws E3_UNSAFE_NAME for a run name that could leave `home`. */
export function homeRunDir(home: string, run: string): string {
  assertSafeName(run, 'run name');
  return join(home, HOME_DIRS.run, run);
}

/** The context semantic rules use to check references from files in `home`. */
export function homeRuleContext(home: string): RuleContext {
  const names = (kind: 'workload' | 'snapshot' | 'instance'): string[] => {
    const out = new Set<string>();
    for (const h of [home, kind === 'instance' ? undefined : builtinHome()]) {
      if (!h) continue;
      try {
        for (const f of readdirSync(join(h, HOME_DIRS[kind]))) if (f.endsWith('.json')) out.add(f.slice(0, -5));
      } catch {
        /* folder absent */
      }
    }
    return [...out].sort();
  };
  const workloads = new Map<string, Workload | undefined>();
  return {
    resolve: (kind, name) => findHomeFile(home, kind, name),
    names,
    readWorkload(name) {
      if (!workloads.has(name)) {
        const file = findHomeFile(home, 'workload', name);
        let value: Workload | undefined;
        if (file) {
          const r = validateText<WorkloadFile>('workload', readFileSync(file, 'utf8'), file);
          if (r.errors.length === 0) value = workloadJobs(r.value!);
        }
        workloads.set(name, value);
      }
      return workloads.get(name);
    },
  };
}
