import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { makeTree, repoRoot } from '@e3/test-utils';

import { resolveTargets } from './targets.js';

const e3Home = join(repoRoot, 'e3-home');

describe('resolveTargets', () => {
  it('takes the byo-example experiment’s instances as cluster nodes and its workers once (reaching no host)', async () => {
    const targets = await resolveTargets({ home: e3Home, cwd: repoRoot, experiment: 'byo-example' });
    expect(targets.map((t) => [t.name, t.role, t.instance.ClusterNodes.length])).toEqual([
      ['byo-2node', 'cluster', 2],
      ['byo-workers', 'worker', 4],
      ['byo-4node', 'cluster', 4],
    ]);
  });

  it('reads -i as a name in e3-home/instances or a path; a URL makes cluster nodes unless --role says otherwise', async () => {
    const home = await makeTree({ 'instances/sut.json': { ClusterNodes: ['localhost'], URL: 'http://127.0.0.1:7990' }, 'w.json': { ClusterNodes: ['localhost'] } });
    const [sut, w] = await resolveTargets({ home, cwd: home, instances: ['sut', 'w.json'] });
    expect([sut!.role, w!.role, w!.ref]).toEqual(['cluster', 'worker', 'w.json']);
    expect((await resolveTargets({ home, cwd: home, instances: ['sut'], role: 'worker' }))[0]!.role).toBe('worker');
  });

  it('names the missing file and what to do', async () => {
    const home = await makeTree({ 'instances/.keep': '' });
    await expect(resolveTargets({ home, cwd: home, instances: ['nope'] })).rejects.toMatchObject({ code: 'E3_FILE_NOT_FOUND', message: `instance file ${join(home, 'instances/nope.json')} does not exist` });
    await expect(resolveTargets({ home, cwd: home })).rejects.toMatchObject({ code: 'E3_USAGE' });
  });
});
