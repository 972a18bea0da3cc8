import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { repoRoot } from '@e3/test-utils';

import { commands } from './commands.js';
import { renderCliDocs, renderErrorDocs } from './docs.js';

describe('generated docs', () => {
  it('docs/cli.md matches the command definitions (run `pnpm gen:docs` when this fails)', async () => {
    expect(await readFile(join(repoRoot, 'docs/cli.md'), 'utf8')).toBe(await renderCliDocs(commands));
  });
  it('each command has one description: `e3 --help` lists the one its own --help shows', async () => {
    const pairs = await Promise.all(commands.map(async (c) => [c.name, c.description, (await c.load()).description]));
    expect(pairs.filter(([, listed, own]) => listed !== own)).toEqual([]);
    expect(new Set(pairs.map(([, d]) => d)).size).toBe(commands.length);
  });
  it('docs/errors.md matches the error catalogue (run `pnpm gen:docs` when this fails)', async () => {
    expect(await readFile(join(repoRoot, 'docs/errors.md'), 'utf8')).toBe(renderErrorDocs());
  });
});
