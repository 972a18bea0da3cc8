import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { computeAnalysis } from '@e3/analyze';
import { gather } from '@e3/gather';
import { checkNodes, setupNodes } from '@e3/nodes';
import { runExperiment } from '@e3/run';
import { repoRoot, writeTree } from '@e3/test-utils';

// `e3 nodes setup` for real on this machine's localhost node: it installs collectd-core with apt when it
// is missing, installs e3's worker config as /etc/collectd/collectd.conf and starts collectd, which is
// stopped again afterwards unless it ran before.
const collectdPid = (): number | undefined => {
  try {
    return Number(execFileSync('pidof', ['collectd'], { encoding: 'utf8' }).trim().split(/\s+/)[0]);
  } catch {
    return undefined;
  }
};
const ranBefore = collectdPid() !== undefined;
let home: string;
let server: Server;
let url: string;
let setupAt = Date.now();

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'e3-nodes-e2e-'));
  server = createServer((_q, s) => s.end('{"state":"RUNNING"}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await writeTree(home, {
    'instances/local-workers.json': { ClusterNodes: ['localhost'], dataDir: join(home, 'node-data') },
    'workloads/status.json': [{ script: 'bitbucket.web.Status', description: 'Status', weight: 1 }],
    'snapshots/s.json': { name: 's', projects: [{ name: 'P', repos: [{ name: 'r', weight: 1, branches: [{ id: 'refs/heads/master', displayId: 'master' }] }] }], users: [{ username: 'u', password: 'p' }] },
  });
});

afterAll(async () => {
  server?.close();
  if (!ranBefore && collectdPid() !== undefined) {
    if (existsSync('/etc/init.d/collectd')) execFileSync('/etc/init.d/collectd', ['stop'], { stdio: 'ignore' });
    const pid = collectdPid();
    if (pid) process.kill(pid, 'SIGTERM');
  }
  if (home && process.env.E3_KEEP_TMP !== '1') await rm(home, { recursive: true, force: true });
}, 30_000);

describe('e3 nodes setup on this machine', () => {
  it('installs and starts collectd with e3’s worker config; check then passes; a second setup changes nothing', async () => {
    setupAt = Date.now();
    const first = await setupNodes({ instances: ['local-workers'], home });
    expect(first.nodes[0]!.error).toBeUndefined();
    expect(first.nodes[0]!.problems).toEqual([]);
    expect(first.ok).toBe(true);
    expect(first.nodes[0]!.steps.map((s) => s.id)).toContain('data-dir');
    expect(collectdPid()).toBeDefined();
    expect(await readFile('/etc/collectd/collectd.conf', 'utf8')).toBe(await readFile(join(repoRoot, 'e3-home/config/collectd-worker.conf'), 'utf8'));

    const check = await checkNodes({ instances: ['local-workers'], home });
    expect(check.nodes[0]!.requirements.filter((r) => r.status !== 'ok' && r.status !== 'skipped' && !r.optional)).toEqual([]);
    expect(check.ok).toBe(true);

    const second = await setupNodes({ instances: ['local-workers'], home });
    expect(second).toMatchObject({ changed: false, ok: true });
    expect(second.nodes[0]!.steps).toEqual([]);
  }, 60_000);

  it('a short run’s gather brings that node’s collectd CSV, and the analysis has its cpu chart', async () => {
    // collectd writes every 5 s; a cpu rate needs two rows since it started, and its cpu aggregation (which
    // the analysis prefers) starts a few intervals later.
    const since = async (plugin: string) => {
      const dir = join('/var/lib/collectd/csv/localhost', plugin);
      const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.startsWith('cpu-user-')).sort();
      if (!files.length) return 0;
      const lines = (await readFile(join(dir, files.pop()!), 'utf8')).trim().split('\n').slice(1);
      return lines.filter((l) => Number(l.split(',')[0]) * 1000 >= setupAt).length;
    };
    for (let i = 0; i < 100 && ((await since('cpu-0')) < 2 || (await since('aggregation-cpu-average')) < 2); i++) await sleep(500);
    expect(await since('aggregation-cpu-average')).toBeGreaterThanOrEqual(2);

    const run = 'byo-20261125T000000Z';
    await writeTree(home, {
      [`runs/${run}/${run}.json`]: {
        run_name: run,
        duration: 2000,
        workload: 'status',
        threads: [{ name: 't', instance: { snapshot: 's', stack: { Name: 'sut', ClusterNodes: ['localhost'], URL: url, reset: 'none', logDirs: [join(home, 'sut-log')] } }, worker: { stack: { Name: 'local-workers' } }, stages: [{ clients: 1 }] }],
      },
    });
    await runExperiment({ run, home, agentBundle: join(repoRoot, 'packages/agent/dist/e3-agent.cjs'), graceMs: 300 });
    expect((await gather({ run, home })).status).toBe('succeeded');
    const csv = join(home, 'runs', run, 'thread-001/worker-node-001/collectd-csv/localhost');
    expect(await readdir(csv)).toEqual(expect.arrayContaining(['cpu-0', 'memory', 'load']));

    const analysis = await computeAnalysis(join(home, 'runs', run), { workers: 0 });
    const worker = analysis.metrics.find((m) => m.node === 'worker-node-001');
    expect(worker?.source).toBe('csv');
    const cpu = worker!.strips.find((s) => s.id === 'cpu');
    expect(cpu?.series.length).toBeGreaterThan(0);
    expect(cpu!.series.some((s) => s.points.length > 0)).toBe(true);
  }, 60_000);
});
