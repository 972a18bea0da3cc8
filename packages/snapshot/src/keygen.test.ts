import { readFileSync, statSync } from 'node:fs';
import { PassThrough } from 'node:stream';

import { validateValue } from '@e3/model';
import { runCli } from '@e3/model/cli';
import { makeTmpDir } from '@e3/test-utils';
import { describe, expect, it } from '@jest/globals';

import { keygenCommand } from './command.js';
import { keygen } from './keygen.js';

describe('keygen', () => {
  it('writes a valid pool in E³ format with mode 0600', async () => {
    const home = await makeTmpDir('e3-home-');
    const r = await keygen({ count: 3, name: 'pool', home });
    expect(r).toEqual({ file: `${home}/keys/pool.json`, name: 'pool', count: 3, type: 'ed25519' });
    expect(statSync(r.file).mode & 0o777).toBe(0o600);
    const pool = JSON.parse(readFileSync(r.file, 'utf8'));
    expect(Object.keys(pool)).toEqual(['name', 'count', 'key_pairs']);
    expect(validateValue('keys', pool, r.file).errors).toEqual([]);
    expect(new Set(pool.key_pairs.map((p: { public_key: string }) => p.public_key)).size).toBe(3);
  });

  it('does not replace a pool without force', async () => {
    const home = await makeTmpDir('e3-home-');
    await keygen({ count: 1, name: 'pool', home });
    await expect(keygen({ count: 1, name: 'pool', home })).rejects.toMatchObject({ code: 'E3_USAGE', message: `key pool ${home}/keys/pool.json already exists` });
    await expect(keygen({ count: 2, name: 'pool', home, force: true })).resolves.toMatchObject({ count: 2 });
  });

  it('refuses bad counts, types and names', async () => {
    const home = await makeTmpDir('e3-home-');
    await expect(keygen({ count: 0, name: 'p', home })).rejects.toMatchObject({ code: 'E3_USAGE' });
    await expect(keygen({ count: 1.5, name: 'p', home })).rejects.toMatchObject({ code: 'E3_USAGE' });
    await expect(keygen({ count: 1, name: 'p', home, type: 'dsa' as never })).rejects.toMatchObject({ code: 'E3_USAGE' });
    await expect(keygen({ count: 1, name: '../p', home })).rejects.toMatchObject({ code: 'E3_USAGE' });
  });

  it('runs as a command and prints where it wrote, never a key', async () => {
    const home = await makeTmpDir('e3-home-');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    stdout.on('data', (d) => (out += d));
    const code = await runCli({ scriptName: 'e3', version: '0', commands: [keygenCommand], argv: ['keygen', '--count', '2', '--name', 'k', '--home', home], stdout, stderr, cwd: home });
    expect(code).toBe(0);
    expect(out).toBe('wrote keys/k.json: 2 ed25519 key pair(s)\n');
  });
});
