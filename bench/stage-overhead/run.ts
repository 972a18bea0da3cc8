/**
 * Runs a 5-stage experiment (localhost worker, a loopback /status server, 1 s stages) and prints the
 * controller's own time between stages (`overheadMs` in stages.json: previous stage end → next start,
 * reset excluded) next to the stage time. Goal ≤ 2 s per stage.
 * Usage: pnpm --filter @e3/bench stage-overhead
 */
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { runExperiment } from '@e3/run';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const server = createServer((_req, res) => res.end('{"state":"RUNNING"}'));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const home = mkdtempSync(join(tmpdir(), 'e3-bench-'));
const run = 'overhead-20261125T000000Z';
const write = (rel: string, v: unknown) => {
  mkdirSync(dirname(join(home, rel)), { recursive: true });
  writeFileSync(join(home, rel), JSON.stringify(v));
};
try {
  write('workloads/status.json', [{ script: 'bitbucket.web.Status', description: 'Status', weight: 1 }]);
  write('snapshots/s.json', { name: 's', projects: [{ name: 'P', repos: [{ name: 'r', weight: 1, branches: [{ id: 'refs/heads/master', displayId: 'master' }] }] }], users: [{ username: 'u', password: 'p' }] });
  write(`runs/${run}/${run}.json`, {
    run_name: run, duration: 1000, workload: 'status',
    threads: [{ name: 't', instance: { snapshot: 's', stack: { Name: 'sut', ClusterNodes: ['localhost'], URL: url, reset: 'none' } },
      worker: { stack: { Name: 'w', ClusterNodes: ['localhost'] } }, stages: [1, 2, 3, 4, 5].map((clients) => ({ clients })) }],
  });
  const result = await runExperiment({ run, home, agentBundle: join(repo, 'packages/agent/dist/e3-agent.cjs'), graceMs: 200 });
  const stages = result.threads[0]!.stages;
  for (const s of stages) {
    process.stdout.write(`stage ${s.index}: load ${((s.end! - s.start!) / 1000).toFixed(2)} s, reset+health ${s.resetMs} ms, controller overhead ${s.overheadMs} ms\n`);
  }
  const mean = stages.reduce((a, s) => a + s.overheadMs!, 0) / stages.length;
  process.stdout.write(`stage-overhead: mean ${mean.toFixed(0)} ms per stage (goal ≤ 2000 ms): ratio to goal ${(mean / 2000).toFixed(2)}\n`);
} finally {
  server.close();
  rmSync(home, { recursive: true, force: true });
}
