import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keygen } from '@e3/snapshot';
import { readRuntimeInfo, seedTarget, stopTarget } from '@e3/target';
import { repoRoot, runE3, useNetnsHosts, writeTree } from '@e3/test-utils';

const net = useNetnsHosts(3);
let home: string;
let data: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'e3-byo-'));
  data = join(home, 'target-data');
  const { hosts, controllerIp, keyFile } = net.current;
  await keygen({ home, name: 'byo-keys', count: 4 });
  await seedTarget({ data, home, name: 'byo-data', projects: 1, repos: 2, users: 4, keys: join(home, 'keys/byo-keys.json'), commits: 5, files: 5 });
  // The system under test listens on the bridge: the namespace workers reach it there.
  // (Started through the CLI: a detached daemon cannot be spawned from inside jest's VM.)
  const started = await runE3(repoRoot, ['target', 'start', '--detach', '--data', data, '--host', controllerIp, '--http-port', '0', '--ssh-port', '0']);
  if (started.code !== 0) throw new Error(started.stderr);
  const target = readRuntimeInfo(data)!;
  await writeTree(home, {
    'instances/byo-sut.json': {
      ClusterNodes: [hosts[2]!.node], KeyFile: keyFile, URL: target.url, SshPort: target.sshPort, snapshot: 'byo-data',
      RunConfig: { admin_password: 'admin' }, reset: 'restore', logDirs: [join(data, 'log')],
    },
    'instances/byo-workers.json': { ClusterNodes: [hosts[0]!.node, hosts[1]!.node], KeyFile: keyFile, dataDir: join(home, 'node-data') },
    'experiments/byo.json': {
      duration: '3s',
      workload: 'mixed',
      threads: [{ name: 'byo', instance: { stack: { Name: 'byo-sut' } }, worker: { stack: { Name: 'byo-workers' } }, stages: [{ clients: 4 }, { clients: 6 }] }],
    },
  });
}, 120_000);

afterAll(async () => {
  if (data) await stopTarget({ data }).catch(() => undefined);
  if (home && process.env.E3_KEEP_TMP !== '1') await rm(home, { recursive: true, force: true });
});

describe('a bring-your-own experiment through e3 orchestrate', () => {
  it('checks and pins every node, runs on the SSH workers, gathers the server logs, analyses and archives', async () => {
    const r = await runE3(repoRoot, ['orchestrate', '-e', 'byo', '--home', home], { timeoutMs: 240_000 });
    expect(r.stderr).not.toMatch(/This is a bug/);
    expect(r.stdout).toMatch(/^deprovision +ok$/m);
    expect(r.code).toBe(0);
    const workers = JSON.parse(await readFile(join(home, 'instances/byo-workers.json'), 'utf8'));
    expect(Object.keys(workers.HostKeys).sort()).toEqual([net.current.hosts[0]!.node, net.current.hosts[1]!.node].sort());
    const [run] = await readdir(join(home, 'archive'));
    const runDir = join(home, 'archive', run!);
    const summary = JSON.parse(await readFile(join(runDir, 'analysis/summary.json'), 'utf8'));
    expect(summary.threads[0].stages.map((s: { status: string }) => s.status)).toEqual(['succeeded', 'succeeded']);
    const errors = summary.rows.filter((row: { kind: string }) => row.kind === 'transaction').reduce((a: number, row: { errors: number }) => a + row.errors, 0);
    expect(errors).toBe(0);
    // Samples came from both SSH workers; the server's access log came from the SUT node over SSH.
    for (const w of ['worker-node-001', 'worker-node-002']) expect(existsSync(join(runDir, 'thread-001', w, 'stage-001/samples.csv'))).toBe(true);
    expect(existsSync(join(runDir, 'thread-001/cluster-node-001/log/atlassian-bitbucket-access.log'))).toBe(true);
  }, 300_000);
});
