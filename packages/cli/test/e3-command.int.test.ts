import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { describe, expect, it } from '@jest/globals';
import { makeTmpDir, makeTree, repoRoot } from '@e3/test-utils';

const exec = promisify(execFile);

/** An e3-home outside the repository with one experiment of its own, and a subfolder to stand in. */
async function userHome(): Promise<{ dir: string; sub: string }> {
  const dir = await makeTree({ 'e3-home/experiments/only-here.json': { threads: [] }, 'work/deep/.keep': '' }, 'e3-user-');
  return { dir, sub: join(dir, 'work/deep') };
}

// Child processes of these tests must not look like `pnpm e3` unless the test says so.
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  for (const k of Object.keys(env)) if (k.startsWith('npm_') || k === 'INIT_CWD') delete env[k];
  return env;
};

describe('the e3 command', () => {
  it('after `npm link` in packages/cli (the README\'s first command), `e3` from any folder honours the nearest e3-home', async () => {
    const prefix = await makeTmpDir('e3-prefix-');
    const env = { ...cleanEnv(), NPM_CONFIG_PREFIX: prefix };
    await exec('npm', ['link', '--offline', '--no-audit', '--no-fund'], { cwd: join(repoRoot, 'packages/cli'), env });
    const { sub } = await userHome();
    const r = await exec(join(prefix, 'bin/e3'), ['list', 'experiments', '--json'], { cwd: sub, env: cleanEnv() });
    expect(JSON.parse(r.stdout)).toEqual(['only-here']);
  }, 120_000);

  it('`pnpm e3` runs the built CLI from the caller\'s folder (INIT_CWD), not the repository root', async () => {
    const { sub } = await userHome();
    const r = await exec('pnpm', ['--silent', '-C', repoRoot, 'e3', 'list', 'experiments', '--json'], { cwd: sub, env: cleanEnv() });
    expect(JSON.parse(r.stdout)).toEqual(['only-here']);
    const pkg = JSON.parse((await import('node:fs')).readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.scripts.e3).toBe('node packages/cli/dist/bin.js');
  }, 120_000);

  it('the repository\'s e3-home git-ignores user instance files, private keys, key pools and runs, not its own examples', async () => {
    const ignored = async (rel: string) =>
      exec('git', ['check-ignore', '-q', join('e3-home', rel)], { cwd: repoRoot }).then(
        () => true,
        (e: { code?: number }) => (e.code === 1 ? false : Promise.reject(e)),
      );
    for (const f of ['instances/prod.json', 'instances/prod.pem', 'experiments/x.pem', 'keys/pool.json', 'keys/local-small/user_1', 'runs/a/a.json', 'archive/a/a.json']) {
      expect([f, await ignored(f)]).toEqual([f, true]);
    }
    for (const f of ['instances/byo-2node.json', 'experiments/local-demo.json', 'workloads/mixed.json']) expect([f, await ignored(f)]).toEqual([f, false]);
  });
});
