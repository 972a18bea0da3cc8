import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readSamples, readStages, runDirPaths, writeJsonAtomic } from '@e3/model';
import { runExperiment } from '@e3/run';
import { addUsers, keygen, snapshot } from '@e3/snapshot';
import { seedTarget, startTarget, type RunningTarget } from '@e3/target';
import { e3OriginalHome, repoRoot } from '@e3/test-utils';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const KEYS_FILE = join(e3OriginalHome, 'keys', '100-keys.json');
const agentBundle = join(repoRoot, 'packages/agent/dist/e3-agent.cjs');

let root: string;
let home: string;
let target: RunningTarget;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'e3-e2e-snapshot-run-'));
  home = join(root, 'e3-home');
  await mkdir(home);
  await seedTarget({ data: join(root, 'data'), home: join(root, 'seed-home'), name: 'seeded', projects: 2, repos: 2, users: 3, commits: 4, files: 3, fileKb: 1, keys: KEYS_FILE });
  target = await startTarget({ data: join(root, 'data'), httpPort: 0, sshPort: 0, log: () => undefined });
});

afterAll(async () => {
  await target?.close();
  if (process.env.E3_KEEP_TMP !== '1') await rm(root, { recursive: true, force: true });
});

describe('a snapshot from e3 snapshot drives e3 run', () => {
  it('runs bitbucket.scm.GitCloneOverSsh as users made by keygen + add-users, with no errors', async () => {
    if (!existsSync(agentBundle)) throw new Error(`build the agent first: pnpm turbo run build --filter=@e3/agent (${agentBundle} is missing)`);
    const admin = { url: target.url, username: 'admin', password: 'admin', home };
    await keygen({ count: 2, name: 'run-pool', home });
    await addUsers({ ...admin, count: 2, keys: 'run-pool', userPassword: 'pw-run', snapshot: 'users-only' });
    // No user password: only the two users whose Ed25519 keys are in the pool can act (over SSH).
    const snap = await snapshot({ ...admin, keyFile: 'run-pool', name: 'live' });
    expect(snap.snapshot.users.map((u) => u.username)).toEqual(['user_0', 'user_1']);
    expect(snap.skippedUsers).toHaveLength(6);
    const run = 'clone-20261125T000000Z';
    await writeJsonAtomic(join(home, 'workloads', 'clone-ssh.json'), [{ script: 'bitbucket.scm.GitCloneOverSsh', description: 'Clone over SSH', weight: 1 }]);
    await writeJsonAtomic(join(home, 'runs', run, `${run}.json`), {
      run_name: run,
      duration: 3000,
      workload: 'clone-ssh',
      threads: [
        {
          name: 'a',
          instance: { template: 'local', snapshot: 'live', stack: { Name: 'sut', ClusterNodes: ['localhost'], URL: target.url, SshPort: target.sshPort, reset: 'none', RunConfig: { admin_password: 'admin' } } },
          worker: { template: 'local', stack: { Name: 'workers', ClusterNodes: ['localhost'] } },
          stages: [{ clients: 2 }],
        },
      ],
    });
    const result = await runExperiment({ run, home, agentBundle, graceMs: 2000 });
    expect(result.status).toBe('succeeded');
    const runDir = join(home, 'runs', run);
    const stages = await readStages(runDir, 0);
    expect(stages!.stages[0]!.status).toBe('succeeded');
    const ok = new Map<string, number>();
    const failures: string[] = [];
    for await (const row of readSamples(runDirPaths(runDir).samplesFile(0, 0, 0))) {
      if (row.ok) ok.set(`${row.kind} ${row.op}`, (ok.get(`${row.kind} ${row.op}`) ?? 0) + 1);
      else failures.push(`${row.op} ${row.status}`);
    }
    expect(failures).toEqual([]);
    expect(ok.get('transaction GitCloneOverSsh')).toBeGreaterThan(0);
    expect(ok.get('request git clone')).toBe(ok.get('transaction GitCloneOverSsh'));
  });
});
