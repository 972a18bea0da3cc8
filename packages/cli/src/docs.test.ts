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
  it('docs/errors.md matches the error catalogue (run `pnpm gen:docs` when this fails)', async () => {
    expect(await readFile(join(repoRoot, 'docs/errors.md'), 'utf8')).toBe(renderErrorDocs());
  });
});
