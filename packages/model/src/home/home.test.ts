import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { makeTree, repoRoot } from '@e3/test-utils';

import { findHomeFile, listHome, resolveHome } from './home.js';

describe('resolveHome', () => {
  it('prefers --home, then E3_HOME, then the nearest e3-home upwards, then the repository default', async () => {
    const root = await makeTree({ 'a/e3-home/experiments/x.json': '{}', 'b/e3-home/.keep': '', 'a/deep/er/.keep': '' });
    const env = { E3_HOME: join(root, 'b/e3-home') };
    expect(resolveHome({ home: join(root, 'a/e3-home'), env, cwd: root })).toBe(join(root, 'a/e3-home'));
    expect(resolveHome({ env, cwd: join(root, 'a/deep/er') })).toBe(join(root, 'b/e3-home'));
    expect(resolveHome({ env: {}, cwd: join(root, 'a/deep/er') })).toBe(join(root, 'a/e3-home'));
    expect(resolveHome({ env: {}, cwd: '/' })).toBe(join(repoRoot, 'e3-home'));
  });

  it('fails with a coded error naming the folder when the given home is missing', () => {
    expect(() => resolveHome({ home: '/nonexistent/e3-home', env: {} })).toThrow(
      expect.objectContaining({ code: 'E3_HOME_NOT_FOUND', message: 'e3-home /nonexistent/e3-home does not exist (from --home)' }),
    );
  });
});

describe('listHome', () => {
  it('lists runs that hold their run file, E³ names with colons included', async () => {
    const home = await makeTree({
      'runs/mixed-2017-03-01T10:11:12/mixed-2017-03-01T10:11:12.json': '{}',
      'runs/x-20261125T101112Z/x-20261125T101112Z.json': '{}',
      'runs/empty/other.json': '{}',
      'experiments/b.json': '{}',
      'experiments/a.json': '{}',
      'experiments/notes.txt': '',
    });
    await mkdir(join(home, 'keys'));
    expect(await listHome(home, 'run')).toEqual(['mixed-2017-03-01T10:11:12', 'x-20261125T101112Z']);
    expect(await listHome(home, 'experiment')).toEqual(['a', 'b']);
    expect(await listHome(home, 'keys')).toEqual([]);
    expect(await listHome(home, 'snapshot')).toEqual([]);
  });

  it("finds a workload in e3's built-in home when the user's home lacks it", async () => {
    const home = await makeTree({ 'workloads/mine.json': '[]' });
    expect(findHomeFile(home, 'workload', 'mine')).toBe(join(home, 'workloads/mine.json'));
    expect(findHomeFile(home, 'workload', 'build-load')).toBe(join(repoRoot, 'e3-home/workloads/build-load.json'));
    expect(findHomeFile(home, 'workload', 'nope')).toBeUndefined();
  });
});
