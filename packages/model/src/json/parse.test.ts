import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { parseJson } from './parse.js';

describe('parseJson', () => {
  it('parses what JSON.parse parses, to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v, null, 1);
        const r = parseJson(text);
        expect(r.syntaxError).toBeUndefined();
        expect(r.value).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('reports every key repeated in one object, with its path and count', () => {
    const text = '{"threads":[{"stages":[{"clients":1,\n"clients":2,"clients":3,"duration":1,"duration":2}]}]}';
    const r = parseJson(text);
    expect(r.duplicates).toEqual([
      { path: '/threads/0/stages/0', key: 'clients', count: 3, line: 2 },
      { path: '/threads/0/stages/0', key: 'duration', count: 2, line: 2 },
    ]);
  });

  it('gives line and column for a syntax error', () => {
    expect(parseJson('{\n  "a": 1,\n}').syntaxError).toBe('expected a property name in double quotes at line 3, column 1 near "}"');
    expect(parseJson('[1, 2').syntaxError).toMatch(/^unexpected end of input/);
  });

  it('refuses nesting deeper than the limit instead of overflowing the stack', () => {
    expect(parseJson('['.repeat(100_000)).syntaxError).toMatch(/nesting deeper than 512 levels/);
  });

  it('keeps __proto__ as an ordinary key', () => {
    const r = parseJson('{"__proto__": {"polluted": true}}');
    expect(Object.keys(r.value as object)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
