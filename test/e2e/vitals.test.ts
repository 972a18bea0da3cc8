import { createServer } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { analyze } from '@e3/analyze';
import { gather } from '@e3/gather';
import { runExperiment } from '@e3/run';
import { makeTmpDir, repoRoot, writeTree } from '@e3/test-utils';

const agentBundle = join(repoRoot, 'packages/agent/dist/e3-agent.cjs');
const server = createServer((_req, res) => res.end('{"state":"RUNNING"}'));
let url: string;
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Spins the agent's event loop for 400 ms of every pass: the agent, not the server, is the bottleneck. */
const BURNER = `export const script = {
  name: 'test.Burn',
  async run(ctx) {
    const end = Date.now() + 400;
    while (Date.now() < end) { /* burn */ }
    await ctx.http.get('/status');
  },
};
`;

describe('vital signs of a bring-your-own run on a localhost worker', () => {
  it('samples the worker with the built-in sampler, charts its CPU, memory, load and network, and flags the stage whose agent burned its CPU as generator-bound', async () => {
    const home = await makeTmpDir();
    const run = 'vitals-20261205T000000Z';
    const dataDir = join(home, 'node-data');
    await writeTree(home, {
      'workloads/status.json': [{ script: 'bitbucket.web.Status', description: 'Status', weight: 1 }],
      'workloads/burn.json': [{ script: './burn.mjs', description: 'Burn', weight: 1 }],
      'workloads/burn.mjs': BURNER,
      'snapshots/s.json': {
        name: 's',
        projects: [{ name: 'P', repos: [{ name: 'r', weight: 1, branches: [{ id: 'refs/heads/master', displayId: 'master', isDefault: true }] }] }],
        users: [{ username: 'u', password: 'p' }],
      },
      [`runs/${run}/${run}.json`]: {
        run_name: run,
        duration: 4000,
        workload: 'status',
        thinkTime: '250ms',
        threads: [{
          name: 'a',
          instance: { template: 'local', snapshot: 's', stack: { Name: 'sut', ClusterNodes: ['localhost'], URL: url, reset: 'none', RunConfig: { admin_password: 'x' } } },
          worker: { template: 'local', stack: { Name: 'workers', ClusterNodes: ['localhost'], dataDir } },
          stages: [{ clients: 1 }, { clients: 1, workload: 'burn' }],
        }],
      },
    });
    const logs: string[] = [];
    const result = await runExperiment({ run, home, agentBundle, graceMs: 1000, log: (m) => logs.push(m) });
    expect(result.status).toBe('succeeded');
    // Where no collectd writes its CSV (this machine, unless another test started one), e3's sampler wrote the
    // worker's CSV under its data dir, then was stopped by its pid file.
    if (logs.includes('sampling system metrics with e3-agent monitor on localhost')) expect((await readdir(join(dataDir, 'collectd-csv'))).length).toBe(1);
    else expect(logs).toContain('system metrics from the collectd running on localhost');
    await expect(readFile(join(dataDir, 'pids', `${run}-monitor-localhost.pid`), 'utf8')).rejects.toThrow();

    await gather({ run, home });
    const r = await analyze({ run, home, charts: false });
    const summary = r.summary;

    // The worker's own CSV (sampler, or collectd where it runs) gives its CPU, memory, load and network charts.
    const worker = summary.metrics!.nodes.filter((n) => n.thread === 0 && n.node === 'worker-node-001').flatMap((n) => n.charts.map((c) => c.id));
    expect(worker).toEqual(expect.arrayContaining(['cpu', 'memory', 'load', 'network']));
    expect(summary.metrics!.missing.map((m) => m.node)).not.toContain('worker-node-001');

    // The burner's stage is flagged with the worker and its figure; the stage without it is not.
    const bound = summary.generatorBound!;
    expect(bound.map((b) => [b.thread, b.stage, b.worker])).toEqual([[0, 1, 0]]);
    // Each pass blocks the loop for 400 ms: the median second's p99 delay is about that.
    expect(bound[0]!.eventLoopDelayMs).toBeGreaterThan(200);
    const report = await readFile(r.reportFile!, 'utf8');
    expect(report).toContain('id="generator-bound"');
    expect(report).toContain('a stage 001: worker 1 was generator-bound');
    expect(report).not.toContain('a stage 000: worker 1 was generator-bound');
  }, 180_000);
});
