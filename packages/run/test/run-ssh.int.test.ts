import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readPhaseStatus, readStages } from '@e3/model';
import { makeTmpDir, useNetnsHosts, writeTree } from '@e3/test-utils';

import { runExperiment } from '@e3/run';

import { agentBundle } from './helpers.js';

const net = useNetnsHosts(3);
const PORT = 18080;
let server: ChildProcess;
let sutUrl: string;

// The system under test runs in the third namespace host: a /status endpoint that counts requests.
const SERVER = `
let n = 0;
require('node:http').createServer((req, res) => {
  if (req.url === '/count') return res.end(String(n));
  n++;
  res.setHeader('content-type', 'application/json');
  res.end('{"state":"RUNNING"}');
}).listen(${PORT}, '0.0.0.0');
setTimeout(() => process.exit(0), 10 * 60 * 1000).unref();
`;

beforeAll(async () => {
  const h = net.current.hosts[2]!;
  server = spawn('ip', ['netns', 'exec', h.netns, process.execPath, '-e', SERVER], { stdio: 'ignore' });
  sutUrl = `http://${h.ip}:${PORT}`;
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${sutUrl}/count`).then((r) => r.ok, () => false)) return;
    await sleep(100);
  }
  throw new Error(`the test server in ${h.netns} did not start`);
});
afterAll(() => {
  server?.kill('SIGKILL');
});

const requests = async () => Number(await (await fetch(`${sutUrl}/count`)).text());

async function home(run: string, threads: number, stages: number[], durationMs: number) {
  const dir = await makeTmpDir();
  const dataDir = join(dir, 'node-data');
  const hosts = net.current.hosts;
  await writeTree(dir, {
    'workloads/status.json': [{ script: 'bitbucket.web.Status', description: 'Status', weight: 1 }],
    'snapshots/s.json': {
      name: 's',
      projects: [{ name: 'P', repos: [{ name: 'r', weight: 1, branches: [{ id: 'refs/heads/master', displayId: 'master', isDefault: true }] }] }],
      users: [{ username: 'u', password: 'p' }],
    },
    'instances/workers.json': { ClusterNodes: [hosts[0]!.node, hosts[1]!.node], KeyFile: net.current.keyFile, dataDir },
    [`runs/${run}/${run}.json`]: {
      run_name: run,
      duration: durationMs,
      workload: 'status',
      threads: Array.from({ length: threads }, (_, i) => ({
        name: `t${i}`,
        instance: { snapshot: 's', stack: { Name: 'sut', ClusterNodes: ['localhost'], URL: sutUrl, reset: 'none' } },
        worker: { stack: { Name: 'workers' } },
        stages: stages.map((clients) => ({ clients })),
      })),
    },
  });
  return { dir, dataDir, runDir: join(dir, 'runs', run) };
}

async function countOnWorker(host: number, file: string): Promise<number> {
  const r = await net.current.exec(host, `test -f ${file} && tail -n +2 ${file} | wc -l || echo -1`);
  return Number(r.stdout.trim());
}

describe('e3 run over SSH (namespace hosts)', () => {
  it('runs 2 threads × 2 stages on two SSH workers, pinning their host keys', async () => {
    const run = 'ssh-20261125T000000Z';
    const h = await home(run, 2, [3, 4], 1500);
    const result = await runExperiment({ run, home: h.dir, agentBundle, graceMs: 500 });
    expect(result.status).toBe('succeeded');
    for (const t of [0, 1]) {
      const stages = (await readStages(h.runDir, t))!;
      expect(stages.stages.map((s) => [s.status, s.workers.map((w) => [w.node, w.clients])])).toEqual([
        ['succeeded', [[net.current.hosts[0]!.node, 2], [net.current.hosts[1]!.node, 1]]],
        ['succeeded', [[net.current.hosts[0]!.node, 2], [net.current.hosts[1]!.node, 2]]],
      ]);
      for (const w of [0, 1]) {
        for (const s of [0, 1]) {
          const file = `${h.dataDir}/runs/${run}/thread-00${t + 1}/worker-node-00${w + 1}/stage-00${s}/samples.csv`;
          expect(await countOnWorker(w, file)).toBeGreaterThan(0);
        }
      }
    }
    // The run's scratch is gone from both workers once the run ends.
    for (const w of [0, 1]) expect((await net.current.exec(w, `test -e ${h.dataDir}/scratch/${run} && echo left || echo gone`)).stdout.trim()).toBe('gone');
    const instance = JSON.parse(await readFile(join(h.dir, 'instances/workers.json'), 'utf8'));
    expect(instance.HostKeys).toEqual({
      [net.current.hosts[0]!.node]: net.current.hosts[0]!.hostKey,
      [net.current.hosts[1]!.node]: net.current.hosts[1]!.hostKey,
    });
  });

  it('marks a stage degraded when an agent is killed, keeps the other worker, and runs the next stage', async () => {
    const run = 'kill-20261125T000000Z';
    const h = await home(run, 1, [4, 4], 3000);
    const pidFile = `${h.dataDir}/pids/${run}-thread-001-worker-node-002.pid`;
    // One second into the first stage's load, kill worker 2's agent.
    const killer = (async () => {
      for (let i = 0; i < 200; i++) {
        await sleep(100);
        if ((await readStages(h.runDir, 0).catch(() => undefined))?.stages[0]?.status === 'running') {
          await sleep(1000);
          process.kill(Number((await readFile(pidFile, 'utf8')).trim()), 'SIGKILL');
          return;
        }
      }
      throw new Error('stage 0 never started');
    })();
    const result = await runExperiment({ run, home: h.dir, agentBundle, graceMs: 500 });
    await killer;
    expect(result.status).toBe('partial');
    const stages = (await readStages(h.runDir, 0))!.stages;
    expect(stages.map((s) => s.status)).toEqual(['degraded', 'succeeded']);
    expect(stages[0]!.workers.map((w) => w.status)).toEqual(['succeeded', 'degraded']);
    expect(stages[0]!.workers[1]!.lostAt).toBeGreaterThan(stages[0]!.start!);
    expect(await countOnWorker(0, `${h.dataDir}/runs/${run}/thread-001/worker-node-001/stage-000/samples.csv`)).toBeGreaterThan(0);
    expect(await readPhaseStatus(h.runDir, 'run')).toMatchObject({ status: 'partial' });
  });

  it('leaves no agent on any worker within 5 s of an interrupt, and --resume completes the run', async () => {
    const run = 'int-20261125T000000Z';
    const h = await home(run, 1, [2, 2], 4000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 2000);
    await expect(runExperiment({ run, home: h.dir, agentBundle, graceMs: 500, signal: controller.signal })).rejects.toMatchObject({ code: 'E3_INTERRUPTED' });
    const stoppedAt = Date.now();
    let left: string;
    do {
      left = (await net.current.exec(0, `pgrep -af '${h.dataDir}/bin/[e]3-agent.cjs' || true`)).stdout.trim();
      if (!left) break;
      await sleep(200);
    } while (Date.now() - stoppedAt < 5000);
    expect(left).toBe('');
    const resumed = await runExperiment({ run, home: h.dir, agentBundle, graceMs: 500, resume: true });
    expect(resumed.threads[0]!.stages.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('refuses a worker whose host key changed, before any load', async () => {
    const run = 'hostkey-20261125T000000Z';
    const h = await home(run, 1, [2], 1000);
    await runExperiment({ run, home: h.dir, agentBundle, graceMs: 200 });
    await net.current.regenerateHostKey(1);
    const before = await requests();
    await expect(runExperiment({ run, home: h.dir, agentBundle })).rejects.toMatchObject({ code: 'E3_HOST_KEY_MISMATCH' });
    expect(await requests()).toBe(before);
  });
});
