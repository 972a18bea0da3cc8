import { Type, type Static } from '@sinclair/typebox';

/** The longest stage (or pause) e3 times: Node's timers hold at most 2^31 − 1 ms (about 24.9 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** A duration: milliseconds as a number (E³'s form) or a string with a unit: `500ms`, `30s`, `5m`, `1h`. */
export const Duration = Type.Union(
  [
    Type.Number({ exclusiveMinimum: 0, maximum: MAX_DURATION_MS, description: 'Milliseconds (E³ form), e.g. 300000; at most 2147483647 (about 24.9 days).' }),
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

const ThinkMs = Type.Number({ minimum: 0, maximum: MAX_DURATION_MS, description: 'Milliseconds, e.g. 1000 (0 for no pause).' });
const ThinkText = Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$', description: 'A number and a unit, e.g. "1s", "500ms".' });
const ThinkDuration = Type.Union([ThinkMs, ThinkText], { description: 'A pause: milliseconds, or a string such as "1s" or "500ms".' });

/**
 * Closed-model think time: after each pass of its job a client pauses this long before its next
 * iteration, a fixed length or uniform in `[min, max]`. The pause is not measured.
 */
export const ThinkTime = Type.Union(
  [
    ThinkMs,
    ThinkText,
    Type.Object(
      { min: ThinkDuration, max: ThinkDuration },
      { additionalProperties: false, description: 'Uniform in [min, max], drawn for every pause, e.g. {"min": "0.5s", "max": "1.5s"}.' },
    ),
  ],
  { description: 'A think time: milliseconds, a string such as "1s", or {"min": "0.5s", "max": "1.5s"}.' },
);
export type ThinkTime = Static<typeof ThinkTime>;

/** A think time in milliseconds: uniform in `[min, max]`; `min === max` for a fixed pause. */
export interface ThinkTimeMs {
  min: number;
  max: number;
}

/** Milliseconds of a schema-valid ThinkTime. */
export function thinkTimeMs(t: ThinkTime): ThinkTimeMs {
  if (typeof t === 'object') return { min: durationMs(t.min), max: durationMs(t.max) };
  const ms = durationMs(t);
  return { min: ms, max: ms };
}

export const SchemaRef = Type.Optional(
  Type.String({ description: 'Path or URL of the JSON Schema this file follows (editor support only).' }),
);
