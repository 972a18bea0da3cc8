import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { checkNodes, setupNodes, type NodeReport } from '@e3/nodes';
import { repoRoot, runE3, useNetnsHosts, writeTree } from '@e3/test-utils';

// Not makeTmpDir: the home outlives single tests. The read-only mount is made before the hosts' sshds
// start, as each host has its own copy of the mount table from then on.
const home = mkdtempSync(join(tmpdir(), 'e3-nodes-int-'));
const readOnlyDir = join(home, 'read-only');
mkdirSync(readOnlyDir);
execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', readOnlyDir]);

// Host 1 has no git on its PATH. The hosts share this machine's file system and processes.
const net = useNetnsHosts(2, { withoutCommands: { 1: ['git'] } });

let dataDir: string;
let server: Server;
let collectd: ChildProcess | undefined;

const collectdRunning = () => {
  try {
    execFileSync('pidof', ['collectd']);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  dataDir = join(home, 'data');
  await mkdir(dataDir);
  server = createServer((_q, s) => s.end('{"state":"RUNNING"}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const [h0, h1] = net.current.hosts;
  const KeyFile = net.current.keyFile;
  await writeTree(home, {
    'instances/workers.json': { ClusterNodes: [h0!.node, h1!.node], KeyFile, dataDir },
    'instances/clean.json': { ClusterNodes: [h0!.node], KeyFile, dataDir },
    'instances/ro.json': { ClusterNodes: [h0!.node], KeyFile, dataDir: readOnlyDir },
    'instances/sut.json': { ClusterNodes: [h0!.node], KeyFile, dataDir, URL: url, restartCommand: 'true', JmxPort: 1 },
    'instances/fresh.json': { ClusterNodes: [h1!.node], KeyFile, dataDir: join(dataDir, 'new') },
    'instances/nokey.json': { ClusterNodes: [h0!.node], KeyFile: 'nokey.pem', dataDir },
    'instances/gone.json': { ClusterNodes: [`root@${net.current.unusedIp}`], KeyFile, dataDir },
  });
  // A clean node runs collectd with e3's worker config: start one from a copy of it unless one runs already.
  if (!collectdRunning()) {
    const conf = join(home, 'collectd.conf');
    await copyFile(join(repoRoot, 'e3-home/config/collectd-worker.conf'), conf);
    const bin = ['/usr/sbin/collectd', '/usr/bin/collectd'].find((b) => existsSync(b));
    if (!bin) throw new Error('collectd is not installed: apt-get install -y --no-install-recommends collectd-core librrd8');
    collectd = spawn(bin, ['-f', '-C', conf], { stdio: 'ignore' });
    for (let i = 0; i < 50 && !collectdRunning(); i++) await sleep(100);
  }
}, 60_000);

afterAll(async () => {
  collectd?.kill('SIGTERM');
  if (collectd && collectd.exitCode === null) await new Promise((r) => collectd!.once('exit', r));
  server?.close();
  execFileSync('umount', [readOnlyDir]);
  if (process.env.E3_KEEP_TMP !== '1') await rm(home, { recursive: true, force: true });
});

const req = (n: NodeReport, id: string) => n.requirements.find((r) => r.id === id);

describe('e3 nodes check against namespace hosts', () => {
  it('reports each node: a clean one passes, one without git fails with the fix; host keys are pinned', async () => {
    const result = await checkNodes({ instances: ['workers'], home });
    expect(result.ok).toBe(false);
    const [n0, n1] = result.nodes;
    expect(n0!.requirements.filter((r) => r.status !== 'ok' && r.id !== 'ssh-logins').map((r) => r.id)).toEqual([]);
    expect(n0!.ok).toBe(true);
    expect(n1!.ok).toBe(false);
    expect(req(n1!, 'git')).toEqual({ id: 'git', status: 'missing', detail: 'git is not on the PATH', fix: 'e3 nodes setup -i workers (installs git)' });
    expect(n1!.requirements.filter((r) => r.status !== 'ok' && r.id !== 'ssh-logins').map((r) => r.id)).toEqual(['git']);
    const file = JSON.parse(await readFile(join(home, 'instances/workers.json'), 'utf8')) as { HostKeys: Record<string, string> };
    expect(file.HostKeys).toEqual({ [net.current.hosts[0]!.node]: net.current.hosts[0]!.hostKey, [net.current.hosts[1]!.node]: net.current.hosts[1]!.hostKey });
  });

  it('reports a read-only data dir as wrong, with its fix', async () => {
    const [n] = (await checkNodes({ instances: ['ro'], home })).nodes;
    expect(req(n!, 'data-dir')).toMatchObject({ status: 'wrong', detail: `${readOnlyDir} exists but root cannot write to it` });
    expect(req(n!, 'data-dir')!.fix).toContain('set "dataDir" in the instance file to a writable folder');
    expect(n!.ok).toBe(false);
  });

  it('checks cluster nodes for the status URL, the restart command and JMX, not Node and git', async () => {
    const [n] = (await checkNodes({ instances: ['sut'], home })).nodes;
    expect(n!.role).toBe('cluster');
    expect(n!.requirements.map((r) => `${r.id}:${r.status}`)).toEqual([
      'ssh:ok',
      'host-key:ok',
      'data-dir:ok',
      'disk:ok',
      'clock:ok',
      // The worker flavour runs here; cluster nodes want the bitbucket one.
      'collectd:wrong',
      'rsync:ok',
      // What the machine's sshd_config says (the test's sshd runs with its own -f file): a warning either way.
      expect.stringMatching(/^ssh-logins:(ok|wrong)$/),
      'restart:ok',
      'jmx:missing',
      'status-url:ok',
    ]);
  });

  it('exits 0 for a clean node and 3 for a failing one; --json lists every requirement', async () => {
    const clean = await runE3(repoRoot, ['nodes', 'check', '-i', 'clean', '--home', home]);
    expect(clean.stderr).toContain(`pinned ${net.current.hosts[0]!.node} SHA256:`);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('all 1 node(s) ok');
    const failing = await runE3(repoRoot, ['nodes', 'check', '-i', 'workers', '--home', home, '--json']);
    expect(failing.code).toBe(3);
    const data = JSON.parse(failing.stdout) as { ok: boolean; nodes: NodeReport[] };
    expect(data.ok).toBe(false);
    expect(data.nodes.map((n) => n.ok)).toEqual([true, false]);
    const gone = await runE3(repoRoot, ['nodes', 'check', '-i', 'gone', '--home', home]);
    expect(gone.code).toBe(3);
    expect(gone.stdout).toMatch(/ssh +MISSING/);
    expect((await runE3(repoRoot, ['nodes', 'check', '--home', home])).code).toBe(2);
    const [nokey] = (await checkNodes({ instances: ['nokey'], home })).nodes;
    expect(req(nokey!, 'ssh')).toMatchObject({ status: 'missing', fix: `put the node's private key at ${join(home, 'instances/nokey.pem')} (mode 0600), or set "KeyFile" in ${join(home, 'instances/nokey.json')}` });
  });

  it('setup --dry-run prints the exact commands per node and changes nothing', async () => {
    const r = await runE3(repoRoot, ['nodes', 'setup', '-i', 'fresh', '--dry-run', '--home', home]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${net.current.hosts[1]!.node} (fresh, worker): 2 step(s) planned`);
    expect(r.stdout).toContain('$ env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git');
    expect(r.stdout).toContain(`$ mkdir -p ${join(dataDir, 'new')}`);
    expect(r.stdout).toContain('dry run: nothing was changed');
    expect(existsSync(join(dataDir, 'new'))).toBe(false);
    const result = await setupNodes({ instances: ['fresh'], home, dryRun: true });
    expect(result.changed).toBe(false);
    expect(result.nodes[0]!.steps.map((s) => s.id)).toEqual(['packages', 'data-dir']);
  });
});
