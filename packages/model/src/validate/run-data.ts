import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';

import { ANALYSIS_SUMMARY_FILE } from '../run-dir/analysis-layout.js';
import { ANALYSIS_DIR, GATHER_MANIFEST_FILE, PHASES_DIR, SAMPLES_FILE, STAGE_SUMMARY_FILE, STAGES_FILE, runFileName } from '../run-dir/layout.js';
import { SAMPLES_HEADER, parseSample } from '../samples/codec.js';
import type { FileKind } from '../schemas/index.js';
import type { RuleContext } from './rules.js';
import { validateWithReferences } from './tree.js';
import { validateFile, validateValue, type ValidationResult } from './validate.js';

/** Errors beyond this many in one samples file are counted, not listed. */
const MAX_SAMPLE_ERRORS = 20;

/** Validates a samples.csv: its header, then every row (fields and schema), each problem with its line. */
export async function validateSamplesFile(file: string): Promise<ValidationResult> {
  const result: ValidationResult = { file, kind: 'sample', errors: [], warnings: [] };
  let lineNo = 0;
  let more = 0;
  const error = (message: string) => (result.errors.length < MAX_SAMPLE_ERRORS ? result.errors.push(`${file}: line ${lineNo}: ${message}`) : more++);
  try {
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of lines) {
      lineNo++;
      if (lineNo === 1) {
        if (line !== SAMPLES_HEADER) error(`not a samples file: the header must be ${SAMPLES_HEADER}`);
        continue;
      }
      if (line === '') continue;
      try {
        const row = parseSample(line);
        for (const e of validateValue('sample', row, '').errors) error(e.replace(/^: /, ''));
      } catch (err) {
        error((err as Error).message);
      }
    }
  } catch (err) {
    return { ...result, errors: [`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${(err as Error).message}`}`] };
  }
  if (lineNo === 0) result.errors.push(`${file}: empty: a samples file starts with the header line`);
  if (more) result.errors.push(`${file}: … and ${more} more problem(s)`);
  return result;
}

const list = (dir: string): Promise<string[]> => readdir(dir).then((n) => n.sort(), () => []);
const isDir = (p: string): Promise<boolean> => stat(p).then((s) => s.isDirectory(), () => false);

/** True when `dir` is a run directory: it holds `<its name>.json`. */
export async function isRunDir(dir: string): Promise<boolean> {
  return stat(join(dir, runFileName(basename(dir)))).then((s) => s.isFile(), () => false);
}

/**
 * Validates a run directory as a whole: the run file (with the files it names), phases/*.json,
 * gather.json, every thread's stages.json, the stage summaries and samples the workers wrote, and
 * analysis/summary.json. Files a run has not written yet are not required.
 */
export async function validateRunDir(dir: string, options: { home: string; context?: RuleContext; seen?: Set<string> }): Promise<ValidationResult[]> {
  const results = await validateWithReferences('run', join(dir, runFileName(basename(dir))), options);
  const add = async (kind: FileKind, file: string) => {
    if (await stat(file).then((s) => s.isFile(), () => false)) results.push(await validateFile(kind, file));
  };
  for (const f of await list(join(dir, PHASES_DIR))) if (f.endsWith('.json')) await add('phase', join(dir, PHASES_DIR, f));
  await add('gather', join(dir, GATHER_MANIFEST_FILE));
  for (const t of (await list(dir)).filter((n) => /^thread-\d{3}$/.test(n))) {
    await add('stages', join(dir, t, STAGES_FILE));
    for (const node of await list(join(dir, t))) {
      if (!(await isDir(join(dir, t, node)))) continue;
      for (const s of (await list(join(dir, t, node))).filter((n) => /^stage-\d{3}$/.test(n))) {
        await add('stage-summary', join(dir, t, node, s, STAGE_SUMMARY_FILE));
        const samples = join(dir, t, node, s, SAMPLES_FILE);
        if (await stat(samples).then(() => true, () => false)) results.push(await validateSamplesFile(samples));
      }
    }
  }
  await add('analysis-summary', join(dir, ANALYSIS_DIR, ANALYSIS_SUMMARY_FILE));
  return results;
}
