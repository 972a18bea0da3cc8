import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keygen } from '@e3/snapshot';
import { seedTarget } from '@e3/target';
import { expectExit, repoRoot, runE3, useNetnsHosts, writeTree } from '@e3/test-utils';

const net = useNetnsHosts(3);
let home: string;
let data: string;
let target: ChildProcess | undefined;
let seeded: Record<string, unknown>;
const SSH_PORT = 7722;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'e3-byo-'));
  data = join(home, 'target-data');
  const { hosts, keyFile } = net.current;
  await keygen({ home, name: 'byo-keys', count: 4 });
  // The system under test runs inside the third namespace host, on its own address and a non-default SSH port.
  const sut = hosts[2]!;
  await seedTarget({ data, home, name: 'byo-data', projects: 1, repos: 2, users: 4, keys: join(home, 'keys/byo-keys.json'), commits: 5, files: 5, host: sut.ip, httpPort: 7990, sshPort: SSH_PORT });
  seeded = JSON.parse(await readFile(join(home, 'instances/byo-data.json'), 'utf8'));
  target = spawn('ip', ['netns', 'exec', sut.netns, process.execPath, '--import', pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href,
    '--conditions=source', join(repoRoot, 'packages/cli/src/bin.ts'), 'target', 'start', '--data', data, '--host', sut.ip, '--http-port', '7990', '--ssh-port', String(SSH_PORT)], {
    stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' },
  });
  const url = `http://${sut.ip}:7990`;
  for (let i = 0; i < 300 && !(await fetch(`${url}/status`).then((r) => r.ok, () => false)); i++) await sleep(100);
  await writeTree(home, {
    // What `e3 target seed` wrote (URL, SshPort, snapshot, admin password), placed on the SUT's node.
    'instances/byo-sut.json': { ...seeded, ClusterNodes: [sut.node], KeyFile: keyFile, reset: 'restore', logDirs: [join(data, 'log')] },
    'instances/byo-workers.json': { ClusterNodes: [hosts[0]!.node, hosts[1]!.node], KeyFile: keyFile, dataDir: join(home, 'node-data') },
    'experiments/byo.json': {
      duration: '3s',
      workload: 'mixed',
      // Both threads share one system under test: aligned stages keep one thread's reset out of the other's load.
      barrier: true,
      threads: ['a', 'b'].map((name) => ({ name, instance: { stack: { Name: 'byo-sut' } }, worker: { stack: { Name: 'byo-workers' } }, stages: [{ clients: 4 }, { clients: 6 }] })),
    },
  });
}, 120_000);

afterAll(async () => {
  target?.kill('SIGTERM');
  if (home && process.env.E3_KEEP_TMP !== '1') await rm(home, { recursive: true, force: true });
});

describe('a bring-your-own experiment through e3 orchestrate', () => {
  it('checks and pins every node, runs 2 threads × 2 stages on the SSH workers against the target on its own host, gathers its logs, analyses and archives', async () => {
    const r = await runE3(repoRoot, ['orchestrate', '-e', 'byo', '--home', home], { timeoutMs: 240_000 });
    expect(r.stderr).not.toMatch(/This is a bug/);
    expect(r.stdout).toMatch(/^deprovision +ok$/m);
    expectExit(r, 0);
    const workers = JSON.parse(await readFile(join(home, 'instances/byo-workers.json'), 'utf8'));
    expect(Object.keys(workers.HostKeys).sort()).toEqual([net.current.hosts[0]!.node, net.current.hosts[1]!.node].sort());
    const [run] = await readdir(join(home, 'archive'));
    const runDir = join(home, 'archive', run!);
    const summary = JSON.parse(await readFile(join(runDir, 'analysis/summary.json'), 'utf8'));
    expect(summary.threads.map((t: { stages: Array<{ status: string }> }) => t.stages.map((s) => s.status))).toEqual([
      ['succeeded', 'succeeded'],
      ['succeeded', 'succeeded'],
    ]);
    // Each worker ran its exact share of each stage's clients.
    const stages = JSON.parse(await readFile(join(runDir, 'thread-002/stages.json'), 'utf8'));
    expect(stages.stages.map((s: { workers: Array<{ clients: number }> }) => s.workers.map((w) => w.clients))).toEqual([[2, 2], [3, 3]]);
    const errors = summary.rows.filter((row: { kind: string }) => row.kind === 'transaction').reduce((a: number, row: { errors: number }) => a + row.errors, 0);
    expect(errors).toBe(0);
    // Samples came from both SSH workers; the server's access log came from the SUT node over SSH.
    for (const t of ['thread-001', 'thread-002']) {
      for (const w of ['worker-node-001', 'worker-node-002']) for (const st of ['stage-000', 'stage-001']) expect(existsSync(join(runDir, t, w, st, 'samples.csv'))).toBe(true);
    }
    expect(existsSync(join(runDir, 'thread-001/cluster-node-001/log/atlassian-bitbucket-access.log'))).toBe(true);
    // The seeded instance file carried the SSH port: git over SSH ran against it, without errors.
    expect(seeded).toMatchObject({ URL: `http://${net.current.hosts[2]!.ip}:7990`, SshPort: SSH_PORT });
    const ssh = summary.rows.filter((row: { kind: string; test: string }) => row.kind === 'transaction' && /ssh/i.test(row.test));
    expect(ssh.length).toBeGreaterThan(0);
    expect(ssh.reduce((a: number, row: { count: number }) => a + row.count, 0)).toBeGreaterThan(0);
    // After the run and deprovision no user key (nor any scratch of the run) is left in the workers' data dir.
    const left = (await readdir(join(home, 'node-data'), { recursive: true })).filter((f) => /id_rsa|scratch\/./.test(String(f)));
    expect(left).toEqual([]);
  }, 300_000);
});
