import { readFile } from 'node:fs/promises';

import type { TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

import { E3Error } from '../errors/e3-error.js';
import { parseJson, type DuplicateKey } from '../json/parse.js';
import { FILE_KINDS, type FileKind } from '../schemas/index.js';
import type { Experiment } from '../schemas/experiment.js';
import type { Instance } from '../schemas/instance.js';
import type { KeyPool } from '../schemas/keys.js';
import type { Snapshot } from '../schemas/snapshot.js';
import { WorkloadJobs, WorkloadObject, workloadJobs, type WorkloadFile } from '../schemas/workload.js';
import * as rules from './rules.js';

/** Every problem found in one file. Messages read `<file>: <json path>: <message>`. */
export interface ValidationResult<T = unknown> {
  file: string;
  kind: FileKind;
  /** The parsed value, when the file is JSON (set even when it breaks the schema). */
  value?: T;
  errors: string[];
  warnings: string[];
}

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const compiled = new Map<TSchema, ValidateFunction>();

/** The schema to check `value` against; a workload's two forms are told apart by shape so errors stay precise. */
function schemaFor(kind: FileKind, value: unknown): TSchema {
  if (kind === 'workload') return Array.isArray(value) ? WorkloadJobs : WorkloadObject;
  return FILE_KINDS[kind].schema;
}

function validator(schema: TSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

const truncate = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

function describe(e: ErrorObject): string {
  switch (e.keyword) {
    case 'required':
      return `missing required field "${(e.params as { missingProperty: string }).missingProperty}"`;
    case 'anyOf':
      return `must be ${String((e.parentSchema as { description?: string })?.description ?? 'one of the allowed forms').replace(/\.$/, '').replace(/^A /, 'a ')}; got ${truncate(e.data)}`;
    case 'type':
      return `must be ${(e.params as { type: string }).type}; got ${truncate(e.data)}`;
    default:
      return `${e.message ?? 'is invalid'}; got ${truncate(e.data)}`;
  }
}

/** Schema problems of `value` as `[path, message]`, one per problem (branches of a union folded into one). */
export function schemaProblems(kind: FileKind, value: unknown): Array<[string, string]> {
  const fn = validator(schemaFor(kind, value));
  if (fn(value)) return [];
  const errors = fn.errors ?? [];
  const unions = errors.filter((e) => e.keyword === 'anyOf').map((e) => ({ path: e.instancePath, schemaPath: e.schemaPath }));
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const inUnion = e.keyword !== 'anyOf' && unions.some((u) => e.schemaPath.startsWith(u.schemaPath.replace(/\/anyOf$/, '/anyOf/')) && e.instancePath.startsWith(u.path));
    if (inUnion) continue;
    const entry: [string, string] = [e.instancePath || '/', describe(e)];
    const key = entry.join('\u0000');
    if (!seen.has(key)) {
      seen.add(key);
      out.push(entry);
    }
  }
  return out;
}

/** Validates a parsed value of `kind`: schema, then the semantic rules that need no other file. */
export function validateValue<T = unknown>(kind: FileKind, value: unknown, file: string, context?: rules.RuleContext): ValidationResult<T> {
  const result: ValidationResult<T> = { file, kind, value: value as T, errors: [], warnings: [] };
  const p: rules.Problems = {
    error: (path, message) => result.errors.push(`${file}: ${path}: ${message}`),
    warning: (path, message) => result.warnings.push(`${file}: ${path}: ${message}`),
  };
  const shape = schemaProblems(kind, value);
  for (const [path, message] of shape) p.error(path, message);
  if (shape.length) return result;
  switch (kind) {
    case 'workload':
      rules.workloadWeightsSumToOne(workloadJobs(value as WorkloadFile), p, Array.isArray(value) ? '' : '/jobs');
      rules.workloadDescriptionsUnique(workloadJobs(value as WorkloadFile), p, Array.isArray(value) ? '' : '/jobs');
      rules.workloadThinkTimesOrdered(workloadJobs(value as WorkloadFile), p, Array.isArray(value) ? '' : '/jobs');
      break;
    case 'experiment':
    case 'run':
      rules.stageHasLoad(value as Experiment, p);
      rules.stageFallbacksExist(value as Experiment, p);
      rules.thinkTimesValid(value as Experiment, p);
      if (kind === 'experiment') rules.machinesDescribed(value as Experiment, p);
      if (context) {
        rules.referencesExist(value as Experiment, p, context);
        rules.everyJobGetsClients(value as Experiment, p, context);
      }
      break;
    case 'instance':
      rules.instanceHasAdminPassword(value as Instance, p);
      break;
    case 'snapshot':
      rules.snapshotUsersUsable(value as Snapshot, p);
      break;
    case 'keys':
      rules.keyCountMatches(value as KeyPool, p);
      break;
    default:
      break;
  }
  return result;
}

const STAGE_PATH = /^\/threads\/[0-9]+\/stages\/[0-9]+$/;
const STAGE_LOAD_KEYS = new Set(['clients', 'rate', 'duration']);

/** A repeated key; in a stage (E³'s README repeats "clients" to mean several stages) it says how to write them. */
function duplicateMessage(kind: FileKind, d: DuplicateKey): string {
  const plain = `key "${d.key}" appears ${d.count} times in one object (line ${d.line}); JSON keeps only the last`;
  if ((kind !== 'experiment' && kind !== 'run') || !STAGE_PATH.test(d.path) || !STAGE_LOAD_KEYS.has(d.key)) return plain;
  const example = Array.from({ length: Math.min(d.count, 3) }, (_, k) => `{"${d.key}": <level ${k + 1}>}`).join(', ');
  return (
    `key "${d.key}" appears ${d.count} times in one stage (line ${d.line}); JSON keeps only the last, so this is one stage, not ${d.count}. ` +
    `Write one stage per level: "stages": [${example}${d.count > 3 ? ', …' : ''}]`
  );
}

/** Parses JSON text and validates it; repeated keys are errors. */
export function validateText<T = unknown>(kind: FileKind, text: string, file: string, context?: rules.RuleContext): ValidationResult<T> {
  const parsed = parseJson(text);
  if (parsed.syntaxError !== undefined) {
    return { file, kind, errors: [`${file}: not valid JSON: ${parsed.syntaxError}`], warnings: [] };
  }
  const result = validateValue<T>(kind, parsed.value, file, context);
  const dupes = parsed.duplicates.map((d) => `${file}: ${d.path}: ${duplicateMessage(kind, d)}`);
  result.errors.unshift(...dupes);
  return result;
}

/** Reads and validates a file. A missing or unreadable file is an error in the result, not a throw. */
export async function validateFile<T = unknown>(kind: FileKind, file: string, context?: rules.RuleContext): Promise<ValidationResult<T>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { file, kind, errors: [`${file}: ${code === 'ENOENT' ? 'file not found' : `cannot read: ${(err as Error).message}`}`], warnings: [] };
  }
  return validateText<T>(kind, text, file, context);
}

/** Throws E3_INVALID_FILE (all problems in the message) unless the result has no errors; returns the value. */
export function assertValid<T>(result: ValidationResult<T>, hint?: string): T {
  if (result.errors.length === 0) return result.value as T;
  const notFound = result.errors.length === 1 && result.errors[0]!.endsWith(': file not found');
  if (notFound) throw new E3Error('FILE_NOT_FOUND', result.errors[0]!, { hint });
  throw new E3Error('INVALID_FILE', `${result.file} is not a valid ${result.kind} file:\n  ${result.errors.join('\n  ')}`, {
    hint: hint ?? `Edit ${result.file}, then check it with \`e3 validate ${result.file}\``,
    details: { errors: result.errors, warnings: result.warnings },
  });
}

/** Reads, validates and returns a file of `kind`; throws E3_FILE_NOT_FOUND or E3_INVALID_FILE. */
export async function loadFile<T>(kind: FileKind, file: string, context?: rules.RuleContext): Promise<T> {
  return assertValid(await validateFile<T>(kind, file, context));
}
