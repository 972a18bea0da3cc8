import { Type, type Static } from '@sinclair/typebox';

/** A duration: milliseconds as a number (E³'s form) or a string with a unit: `500ms`, `30s`, `5m`, `1h`. */
export const Duration = Type.Union(
  [
    Type.Number({ exclusiveMinimum: 0, description: 'Milliseconds (E³ form), e.g. 300000.' }),
    Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$', description: 'A number and a unit, e.g. "30s", "5m".' }),
  ],
  { description: 'A duration: milliseconds, or a string such as "30s" or "5m".' },
);
export type Duration = Static<typeof Duration>;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Milliseconds of a schema-valid Duration. */
export function durationMs(d: Duration): number {
  if (typeof d === 'number') return d;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

export const SchemaRef = Type.Optional(
  Type.String({ description: 'Path or URL of the JSON Schema this file follows (editor support only).' }),
);
