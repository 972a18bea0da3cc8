import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import { E3Error } from '../errors/e3-error.js';
import { homeRuleContext, listHome } from '../home/home.js';
import { PHASES_DIR, STAGES_FILE } from '../run-dir/layout.js';
import { HOME_DIRS, type FileKind, type HomeKind } from '../schemas/index.js';
import { validateWithReferences } from './tree.js';
import { UNKNOWN_FIELD } from './unknown-fields.js';
import { validateFile, type ValidationResult } from './validate.js';

const KIND_BY_DIR: Record<string, FileKind> = Object.fromEntries(Object.entries(HOME_DIRS).map(([k, d]) => [d, k as FileKind]));

/** The kind of a file from where it lives: `experiments/x.json` → experiment, `runs/r/r.json` → run, …; undefined if unknown. */
export function kindOfPath(file: string): FileKind | undefined {
  const name = basename(file);
  const parent = basename(dirname(file));
  if (name === STAGES_FILE) return 'stages';
  if (parent === PHASES_DIR) return 'phase';
  if (basename(dirname(dirname(file))) === 'runs' && name === `${parent}.json`) return 'run';
  const kind = KIND_BY_DIR[parent];
  return kind === 'run' ? undefined : kind;
}

/** Validates the named files; a folder means every `*.json` in it. Cross-file rules check against `home`. */
export async function validatePaths(paths: string[], options: { home: string; kind?: FileKind; strict?: boolean }): Promise<ValidationResult[]> {
  const context = homeRuleContext(options.home);
  const files: string[] = [];
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined);
    if (st?.isDirectory()) {
      for (const f of (await readdir(p)).sort()) if (f.endsWith('.json')) files.push(join(p, f));
    } else files.push(p);
  }
  const results: ValidationResult[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    const kind = options.kind ?? kindOfPath(file);
    if (!kind) {
      throw new E3Error('UNKNOWN_KIND', `${file}: cannot tell what kind of e3 file this is from its folder`, {
        hint: `Pass the kind: \`e3 validate --kind experiment ${file}\` (kinds: experiment, workload, instance, snapshot, keys, run, stages, phase)`,
      });
    }
    if (seen.has(resolve(file))) continue;
    if (kind === 'experiment' || kind === 'run') results.push(...(await validateWithReferences(kind, file, { home: options.home, context, seen })));
    else {
      seen.add(resolve(file));
      results.push(await validateFile(kind, file, context));
    }
  }
  return options.strict ? strict(results) : results;
}

/** Validates every file of every kind in an e3-home. */
export async function validateHome(home: string, options: { strict?: boolean } = {}): Promise<ValidationResult[]> {
  const context = homeRuleContext(home);
  const results: ValidationResult[] = [];
  for (const kind of Object.keys(HOME_DIRS) as HomeKind[]) {
    for (const name of await listHome(home, kind)) {
      const file = kind === 'run' ? join(home, HOME_DIRS.run, name, `${name}.json`) : join(home, HOME_DIRS[kind], `${name}.json`);
      results.push(await validateFile(kind, file, context));
    }
  }
  return options.strict ? strict(results) : results;
}

/** `--strict`: unknown fields are errors, not warnings. */
function strict(results: ValidationResult[]): ValidationResult[] {
  return results.map((r) => {
    const unknown = r.warnings.filter((w) => w.includes(`: ${UNKNOWN_FIELD} "`));
    return unknown.length ? { ...r, errors: [...r.errors, ...unknown], warnings: r.warnings.filter((w) => !unknown.includes(w)) } : r;
  });
}
