import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { beforeAll, describe, expect, it } from '@jest/globals';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(pkg, 'dist', 'e3-agent.cjs');
let buildOutput = '';

beforeAll(() => {
  buildOutput = execFileSync(process.execPath, [join(pkg, 'scripts', 'bundle.mjs')], { stdio: 'pipe' }).toString();
});

describe('the agent bundle (dist/e3-agent.cjs)', () => {
  it('carries no command-line tooling: no yargs, yargs-parser, cliui or y18n', () => {
    const text = readFileSync(bundle, 'utf8');
    // Each of these names is in the bundle when @e3/model's CLI runner is pulled in (yargs' YError class,
    // its parser, its layout and i18n modules).
    for (const signature of ['yargs', 'YError', 'cliui', 'y18n']) expect({ signature, found: text.includes(signature) }).toEqual({ signature, found: false });
  });

  it('the build prints the bundle size in bytes, as the file system counts them', () => {
    const bytes = statSync(bundle).size;
    expect(buildOutput).toContain(`dist/e3-agent.cjs: ${bytes.toLocaleString('en-US')} bytes`);
  });
});
