import fc from 'fast-check';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function paths(v: Json, at: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function setAt(root: Json, path: Array<string | number>, f: (parent: Json[] | Record<string, Json>, key: string | number) => void): Json {
  const copy = structuredClone(root);
  if (path.length === 0) return copy;
  let cur = copy as Json[] | Record<string, Json>;
  for (const k of path.slice(0, -1)) cur = (cur as Record<string, Json>)[k as string] as never;
  f(cur, path[path.length - 1]!);
  return copy;
}

const weird: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue() as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(1e308, -1e308, 2 ** 53 + 1, -0, 0, -1, '', '\u0000', '\u202e\ud83d\ude00 ünï', null, [], {}, true),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 1, max: 300 }).map((d) => JSON.parse('['.repeat(d) + ']'.repeat(d)) as Json),
);

/**
 * Malformed or mutated versions of a valid JSON document, as file text: a value replaced by a wrong
 * type or a weird value, a field deleted, an unknown field added, truncated text, a repeated key, deep
 * nesting, random bytes.
 */
export function mutatedJsonText(base: Json): fc.Arbitrary<string> {
  const all = paths(base);
  const text = JSON.stringify(base, null, 2);
  const path = fc.constantFrom(...all);
  const valueMutation = fc.oneof(
    fc.tuple(path, weird).map(([p, w]) => (p.length === 0 ? w : setAt(base, p, (parent, k) => ((parent as Record<string, Json>)[k as string] = w)))),
    path.filter((p) => p.length > 0).map((p) =>
      setAt(base, p, (parent, k) => (Array.isArray(parent) ? parent.splice(k as number, 1) : delete parent[k as string])),
    ),
    fc.tuple(path, fc.string(), weird).map(([p, k, w]) =>
      setAt(base, [...p, k], (parent, key) => {
        if (parent && typeof parent === 'object' && !Array.isArray(parent)) (parent as Record<string, Json>)[key as string] = w;
      }),
    ),
  );
  return fc.oneof(
    { arbitrary: valueMutation.map((v) => JSON.stringify(v, null, 2) ?? 'undefined'), weight: 6 },
    { arbitrary: fc.nat(text.length - 1).map((n) => text.slice(0, n)), weight: 2 },
    { arbitrary: fc.tuple(fc.nat(text.length), fc.string({ unit: 'binary', minLength: 1, maxLength: 5 })).map(([n, s]) => text.slice(0, n) + s + text.slice(n)), weight: 1 },
    { arbitrary: fc.constant(text.replace(/\{\s*"([^"]+)":\s*([^,}]+),/, '{"$1": $2, "$1": $2,')), weight: 1 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 1 },
  );
}
