import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import { E3Error } from '../errors/e3-error.js';
import { homeRuleContext, listHome } from '../home/home.js';
import { ANALYSIS_DIR, GATHER_MANIFEST_FILE, PHASES_DIR, SAMPLES_FILE, STAGE_SUMMARY_FILE, STAGES_FILE } from '../run-dir/layout.js';
import { HOME_DIRS, type FileKind, type HomeKind } from '../schemas/index.js';
import { isRunDir, validateRunDir, validateSamplesFile } from './run-data.js';
import { validateWithReferences } from './tree.js';
import { UNKNOWN_FIELD } from './unknown-fields.js';
import { validateFile, type ValidationResult } from './validate.js';

const KIND_BY_DIR: Record<string, FileKind> = Object.fromEntries(Object.entries(HOME_DIRS).map(([k, d]) => [d, k as FileKind]));

/** The kind of a file from where it lives: `experiments/x.json` → experiment, `runs/r/r.json` → run, …; undefined if unknown. */
export function kindOfPath(file: string): FileKind | undefined {
  const name = basename(file);
  const parent = basename(dirname(file));
  if (name === STAGES_FILE) return 'stages';
  if (name === SAMPLES_FILE || name.endsWith('.csv')) return 'sample';
  if (name === GATHER_MANIFEST_FILE) return 'gather';
  if (name === STAGE_SUMMARY_FILE && /^stage-\d{3}$/.test(parent)) return 'stage-summary';
  if (name === STAGE_SUMMARY_FILE && parent === ANALYSIS_DIR) return 'analysis-summary';
  if (parent === PHASES_DIR) return 'phase';
  if (basename(dirname(dirname(file))) === 'runs' && name === `${parent}.json`) return 'run';
  const kind = KIND_BY_DIR[parent];
  return kind === 'run' ? undefined : kind;
}

/** Validates the named files; a folder means every `*.json` in it. Cross-file rules check against `home`. */
export async function validatePaths(paths: string[], options: { home: string; kind?: FileKind; strict?: boolean }): Promise<ValidationResult[]> {
  const context = homeRuleContext(options.home);
  const files: string[] = [];
  const runDirs: string[] = [];
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined);
    if (st?.isDirectory() && (await isRunDir(p))) runDirs.push(p);
    else if (st?.isDirectory()) {
      for (const f of (await readdir(p)).sort()) if (f.endsWith('.json')) files.push(join(p, f));
    } else files.push(p);
  }
  const results: ValidationResult[] = [];
  const seen = new Set<string>();
  for (const dir of runDirs) results.push(...(await validateRunDir(dir, { home: options.home, context, seen })));
  for (const file of files) {
    const kind = options.kind ?? kindOfPath(file);
    if (!kind) {
      throw new E3Error('UNKNOWN_KIND', `${file}: cannot tell what kind of e3 file this is from its folder`, {
        hint: `Pass the kind: \`e3 validate --kind experiment ${file}\` (kinds: experiment, workload, instance, snapshot, keys, run, stages, phase)`,
      });
    }
    if (seen.has(resolve(file))) continue;
    if (kind === 'experiment' || kind === 'run') results.push(...(await validateWithReferences(kind, file, { home: options.home, context, seen })));
    else if (kind === 'sample') results.push(await validateSamplesFile(file));
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
  const seen = new Set<string>();
  for (const kind of Object.keys(HOME_DIRS) as HomeKind[]) {
    for (const name of await listHome(home, kind)) {
      if (kind === 'run') {
        results.push(...(await validateRunDir(join(home, HOME_DIRS.run, name), { home, context, seen })));
        continue;
      }
      const file = join(home, HOME_DIRS[kind], `${name}.json`);
      seen.add(resolve(file));
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
