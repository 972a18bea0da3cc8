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
import { unknownFields } from './unknown-fields.js';

/** Every problem found in one file. Messages read `<file>: <json path>: <message>`. */
export interface ValidationResult<T = unknown> {
  file: string;
  kind: FileKind;
  /** The parsed value, when the file is JSON (set even when it breaks the schema). */
  value?: T;
  errors: string[];
  warnings: string[];
  /** For a file checked because another names it: `<that file> <JSON path>`. */
  namedBy?: string;
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

const SECRET_KINDS = new Set<FileKind>(['keys', 'snapshot', 'instance', 'run']);

/** Field names whose values are secrets: an error shows their kind and length, never the value. */
const SECRET_FIELD = /pass(word|phrase)?|private_?key|secret|token|credential/i;
const PRIVATE_KEY_TEXT = /PRIVATE KEY/;

const secretShape = (kind: string, v: unknown): string =>
  `<${kind}: ${typeof v === 'string' ? `${v.length} characters` : Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}${typeof v === 'number' ? ` of ${String(v).length} digits` : ''}`}>`;

/** `v` with every secret replaced by its kind and length: fields named like secrets, and any text holding a private key. */
export function redact(v: unknown, field = ''): unknown {
  if (SECRET_FIELD.test(field)) return secretShape(/key/i.test(field) ? 'private key' : 'secret', v);
  if (typeof v === 'string') return PRIVATE_KEY_TEXT.test(v) ? secretShape('private key', v) : v;
  if (Array.isArray(v)) return v.map((x) => redact(x));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x, k)]));
  return v;
}

const truncate = (v: unknown, path = ''): string => {
  const field = path.slice(path.lastIndexOf('/') + 1);
  const r = redact(v, field);
  const s = JSON.stringify(r) ?? String(r);
  if (r !== v && typeof r === 'string') return r;
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** A number beyond the maximum of a union's number branch (a duration of 3e9 ms): says the bound, not the union. */
function numberOverMaximum(e: ErrorObject): string | undefined {
  if (typeof e.data !== 'number') return undefined;
  const branches = ((e.schema as TSchema[] | undefined) ?? []).filter((b) => b.type === 'number' && typeof b.maximum === 'number');
  const max = branches.find((b) => (e.data as number) > (b.maximum as number))?.maximum as number | undefined;
  if (max === undefined) return undefined;
  const days = max >= 86_400_000 ? ` ms (about ${+(max / 86_400_000).toFixed(1)} days): split it into several stages` : '';
  return `must be at most ${max}${days}; got ${e.data}`;
}

function describe(e: ErrorObject): string {
  switch (e.keyword) {
    case 'required':
      return `missing required field "${(e.params as { missingProperty: string }).missingProperty}"`;
    case 'anyOf': {
      const over = numberOverMaximum(e);
      if (over) return over;
      return `must be ${String((e.parentSchema as { description?: string })?.description ?? 'one of the allowed forms').replace(/\.$/, '').replace(/^A /, 'a ')}; got ${truncate(e.data, e.instancePath)}`;
    }
    case 'type':
      return `must be ${(e.params as { type: string }).type}; got ${truncate(e.data, e.instancePath)}`;
    default:
      return `${e.message ?? 'is invalid'}; got ${truncate(e.data, e.instancePath)}`;
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

/**
 * Validates a parsed value of `kind`: schema and semantic rules together, so a file's every problem shows
 * in one pass. A rule that cannot read a malformed part skips it (its shape error is already reported).
 * With `context`, references to other e3-home files and workload scripts are checked too.
 */
export function validateValue<T = unknown>(kind: FileKind, value: unknown, file: string, context?: rules.RuleContext): ValidationResult<T> {
  const result: ValidationResult<T> = { file, kind, value: value as T, errors: [], warnings: [] };
  const p: rules.Problems = {
    error: (path, message) => result.errors.push(`${file}: ${path}: ${message}`),
    warning: (path, message) => result.warnings.push(`${file}: ${path}: ${message}`),
  };
  for (const [path, message] of schemaProblems(kind, value)) p.error(path, message);
  for (const rule of rulesFor(kind, value, file, context)) {
    try {
      rule(p);
    } catch {
      /* malformed input the schema already reported */
    }
  }
  return result;
}

type Rule = (p: rules.Problems) => void;

function rulesFor(kind: FileKind, value: unknown, file: string, context: rules.RuleContext | undefined): Rule[] {
  switch (kind) {
    case 'workload': {
      const jobs = () => workloadJobs(value as WorkloadFile);
      const at = Array.isArray(value) ? '' : '/jobs';
      return [
        (p) => rules.workloadWeightsSumToOne(jobs(), p, at),
        (p) => rules.workloadDescriptionsUnique(jobs(), p, at),
        (p) => rules.workloadThinkTimesOrdered(jobs(), p, at),
        (p) => unknownFields(kind, value, p),
        ...(context ? [(p: rules.Problems) => rules.scriptsKnown(jobs(), p, at, file)] : []),
      ];
    }
    case 'experiment':
    case 'run': {
      const e = value as Experiment;
      return [
        (p) => rules.stageHasLoad(e, p),
        (p) => rules.stageFallbacksExist(e, p),
        (p) => rules.thinkTimesValid(e, p),
        (p) => rules.durationsBounded(e, p),
        (p) => unknownFields(kind, e, p),
        ...(kind === 'experiment' ? [(p: rules.Problems) => rules.machinesDescribed(e, p), (p: rules.Problems) => rules.templatesKnown(e, p)] : []),
        ...(context ? [(p: rules.Problems) => rules.referencesExist(e, p, context), (p: rules.Problems) => rules.everyJobGetsClients(e, p, context)] : []),
      ];
    }
    case 'instance':
      return [(p) => rules.instanceHasAdminPassword(value as Instance, p)];
    case 'snapshot':
      return [(p) => rules.snapshotUsersUsable(value as Snapshot, p), (p) => rules.snapshotKeysMatch(value as Snapshot, p)];
    case 'keys':
      return [(p) => rules.keyCountMatches(value as KeyPool, p), (p) => rules.keyPairsMatch(value as KeyPool, p)];
    default:
      return [];
  }
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
    // Files that hold secrets do not quote the text near the error: it may be part of a key or password.
    const message = SECRET_KINDS.has(kind) ? parsed.syntaxError.replace(/ near ".*$/s, '') : parsed.syntaxError;
    return { file, kind, errors: [`${file}: not valid JSON: ${message}`], warnings: [] };
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
