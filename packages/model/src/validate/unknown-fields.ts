import type { TSchema } from '@sinclair/typebox';

import { FILE_KINDS, type FileKind } from '../schemas/index.js';
import { WorkloadJobs, WorkloadObject } from '../schemas/workload.js';
import { suggest, type Problems } from './rules.js';

/** Where fields beyond the schema are expected: a stack holds a copy of an instance file. */
const OPEN_FIELDS = new Set(['stack']);

/** Marks warnings that `--strict` turns into errors. */
export const UNKNOWN_FIELD = 'unknown field';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The named properties a schema allows (an intersection's members merged); undefined when it has none. */
function propertiesOf(schema: TSchema): Record<string, TSchema> | undefined {
  if (schema.properties) return schema.properties as Record<string, TSchema>;
  if (Array.isArray(schema.allOf)) {
    const merged = Object.assign({}, ...(schema.allOf as TSchema[]).map((s) => propertiesOf(s) ?? {})) as Record<string, TSchema>;
    return Object.keys(merged).length ? merged : undefined;
  }
  return undefined;
}

function walk(schema: TSchema, value: unknown, at: string, p: Problems): void {
  if (Array.isArray(schema.anyOf)) {
    const branch = (schema.anyOf as TSchema[]).find((b) => (isObject(value) ? propertiesOf(b) : Array.isArray(value) && b.items));
    if (branch) walk(branch, value, at, p);
    return;
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) => walk(schema.items as TSchema, v, `${at}/${i}`, p));
    return;
  }
  const props = propertiesOf(schema);
  if (!props || !isObject(value)) return;
  const known = Object.keys(props);
  for (const [key, v] of Object.entries(value)) {
    const child = props[key];
    if (child) {
      if (!OPEN_FIELDS.has(key)) walk(child, v, `${at}/${key}`, p);
    } else {
      p.warning(`${at}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, `${UNKNOWN_FIELD} "${key}" is ignored${suggest(key, known)}`);
    }
  }
}

/** Warns about each field of an experiment, run or workload file that e3 does not read (a typo, most often), with a did-you-mean. */
export function unknownFields(kind: FileKind, value: unknown, p: Problems): void {
  const schema: TSchema = kind === 'workload' ? (Array.isArray(value) ? WorkloadJobs : WorkloadObject) : FILE_KINDS[kind].schema;
  walk(schema, value, '', p);
}
