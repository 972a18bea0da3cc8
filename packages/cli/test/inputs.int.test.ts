import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { makeTree, repoRoot, runE3 } from '@e3/test-utils';

const e3 = (args: string[], options?: Parameters<typeof runE3>[2]) => runE3(repoRoot, args, options);

/** Every path under `dir` outside `except`, with its mtime: what a command wrote there changes it. */
async function listing(dir: string, except: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    if (p === except || p.startsWith(`${except}/`)) continue;
    out.push(`${p} ${(await stat(p)).mtimeMs}`);
  }
  return out.sort();
}

const stage = [{ clients: 1 }];

describe('names that become paths', () => {
  it('refuses "../" in every referenced name and every -r with a coded error, and nothing is written outside e3-home', async () => {
    const root = await makeTree({
      'package.json': { name: 'outside-package' },
      'outside/outside.json': { run_name: 'outside', duration: 1000, workload: 'mixed', threads: [{ instance: { stack: { Name: 'x' } }, worker: { stack: { Name: 'x' } }, stages: stage }] },
      'outside/evil.json': { ClusterNodes: ['localhost'] },
      'e3-home/workloads/mixed.json': [{ script: 'bitbucket.scm.GitCloneOverSsh', description: 'Clone', weight: 1 }],
      'e3-home/experiments/escape.json': {
        duration: 1000,
        workload: '../../package',
        threads: [
          { instance: { stack: { Name: '../../outside/evil' } }, worker: { stack: { Name: '../../outside/evil' } }, stages: [{ clients: 1, workload: '../x' }] },
          { instance: { template: 'BitbucketServer', snapshot: '../../outside/evil' }, worker: { template: 'WorkerCluster' }, stages: stage },
        ],
      },
    });
    const home = join(root, 'e3-home');
    const before = await listing(root, home);

    const v = await e3(['validate', '--home', home, join(home, 'experiments/escape.json')]);
    expect(v.code).toBe(2);
    const unsafe = v.stdout.split('\n').filter((l) => l.includes('is not a safe name (E3_UNSAFE_NAME)'));
    expect(unsafe.map((l) => l.replace(/^.*escape\.json: (\S+): .*$/, '$1'))).toEqual([
      '/workload',
      '/threads/0/instance/stack/Name',
      '/threads/0/worker/stack/Name',
      '/threads/0/stages/0/workload',
      '/threads/1/instance/snapshot',
    ]);
    expect(v.stdout).not.toContain('outside-package');

    const p = await e3(['provision', '--home', home, '-e', 'escape', '--run', 'r1']);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('[E3_INVALID_FILE]');
    expect(p.stderr).toContain('E3_UNSAFE_NAME');

    for (const args of [['deprovision', '-r', '../../outside'], ['deprovision', '-r', '../outside'], ['run', '-r', '../../outside'], ['gather', '-r', '../../outside']]) {
      const r = await e3([...args, '--home', home]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain('[E3_UNSAFE_NAME]');
    }
    expect(await listing(root, home)).toEqual(before);
  });
});
