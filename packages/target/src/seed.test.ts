import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from '@jest/globals';
import { makeTmpDir } from '@e3/test-utils';

import { seedTarget } from './seed.js';

function keysFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'shared/fixtures/e3-original-home')) && dir !== dirname(dir)) dir = dirname(dir);
  return join(dir, 'shared/fixtures/e3-original-home/keys/100-keys.json');
}

describe('seedTarget', () => {
  it('writes E³ snapshot and instance files (mode 0600) describing what it created', async () => {
    const data = await makeTmpDir();
    const home = await makeTmpDir();
    const r = await seedTarget({ data, home, name: 'tiny', projects: 1, repos: 2, users: 2, commits: 3, files: 2, fileKb: 1, keys: keysFile(), contextPath: 'bitbucket/', httpPort: 8080, sshPort: 2222 });
    expect(r).toMatchObject({ projects: 1, repos: 2, httpUsers: 2, sshUsers: 2, pullRequests: 2 });
    const snapshot = JSON.parse(readFileSync(r.snapshotFile, 'utf8'));
    expect(snapshot.projects).toHaveLength(1);
    expect(snapshot.projects[0].repos.map((x: { name: string; branches: { displayId: string }[] }) => [x.name, x.branches.map((b) => b.displayId)])).toEqual([
      ['repo-1', ['master', 'develop', 'feature/seed-1']],
      ['repo-2', ['master', 'develop', 'feature/seed-1']],
    ]);
    expect(JSON.parse(readFileSync(r.instanceFile, 'utf8'))).toEqual({ URL: 'http://127.0.0.1:8080/bitbucket', SshPort: 2222, ClusterNodes: ['localhost'], snapshot: 'tiny', RunConfig: { admin_password: 'admin' } });
    expect(statSync(r.snapshotFile).mode & 0o777).toBe(0o600);
    expect(existsSync(join(data, 'state', 'target.db'))).toBe(true);
  });

  it('refuses a missing keys file, a bad name, bad counts and an existing dataset', async () => {
    const data = await makeTmpDir();
    const home = await makeTmpDir();
    const base = { data, home, name: 'x', projects: 1, repos: 1, users: 1, commits: 1, files: 1, fileKb: 1, keys: keysFile() };
    await expect(seedTarget({ ...base, keys: join(home, 'nope.json') })).rejects.toMatchObject({ code: 'E3_FILE_NOT_FOUND', message: `keys file ${join(home, 'nope.json')} does not exist` });
    await writeFile(join(home, 'bad.json'), '{"key_pairs": [1]}');
    await expect(seedTarget({ ...base, keys: join(home, 'bad.json') })).rejects.toMatchObject({ code: 'E3_INVALID_FILE' });
    await expect(seedTarget({ ...base, name: '../evil' })).rejects.toMatchObject({ code: 'E3_USAGE', message: `--name '../evil' must be letters, digits, ".", "_" or "-"` });
    await expect(seedTarget({ ...base, repos: 0 })).rejects.toMatchObject({ code: 'E3_USAGE', message: '--repos must be an integer ≥ 1, got 0' });
    await seedTarget(base);
    await expect(seedTarget(base)).rejects.toMatchObject({ code: 'E3_TARGET', message: `${data} already holds a dataset`, hint: 'Pass --force to replace it, or seed into an empty --data folder.' });
    await expect(seedTarget({ ...base, force: true })).resolves.toMatchObject({ repos: 1 });
  });
});
