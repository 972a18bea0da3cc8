import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { repoRoot } from '@e3/test-utils';

import { jsonSchemas } from './index.js';

describe('generated JSON Schemas', () => {
  it('match the committed schemas/ (run `pnpm gen:schemas` when this fails)', async () => {
    const generated = jsonSchemas();
    const dir = join(repoRoot, 'schemas');
    expect((await readdir(dir)).sort()).toEqual(Object.keys(generated).sort());
    for (const [file, schema] of Object.entries(generated)) {
      const committed = JSON.parse(await readFile(join(dir, file), 'utf8'));
      expect({ file, schema: committed }).toEqual({ file, schema: JSON.parse(JSON.stringify(schema)) });
    }
  });

  it('give every field a description', () => {
    const missing: string[] = [];
    const walk = (s: unknown, path: string): void => {
      if (typeof s !== 'object' || s === null) return;
      const o = s as Record<string, unknown>;
      if (o.properties) {
        for (const [k, v] of Object.entries(o.properties as Record<string, Record<string, unknown>>)) {
          if (k !== '$schema' && !v.description && !(v.anyOf && v.description)) missing.push(`${path}/${k}`);
          walk(v, `${path}/${k}`);
        }
      }
      for (const key of ['items', 'anyOf', 'allOf', 'additionalProperties', 'patternProperties']) if (o[key]) walk(o[key], `${path}/${key}`);
      if (Array.isArray(s)) s.forEach((x, i) => walk(x, `${path}/${i}`));
    };
    for (const [file, schema] of Object.entries(jsonSchemas())) walk(schema, file);
    expect(missing).toEqual([]);
  });
});
