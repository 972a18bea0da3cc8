import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { repoRoot, writeTree } from '@e3/test-utils';

export const agentBundle = join(repoRoot, 'packages/agent/dist/e3-agent.cjs');

/** A loopback server answering `/status` like Bitbucket; `stall` makes it hang, `count` counts requests. */
export async function statusServer(): Promise<{ url: string; count: () => number; close(): Promise<void>; server: Server }> {
  let n = 0;
  const server = createServer((req, res) => {
    n++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ state: 'RUNNING' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => n,
    server,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** An e3-home with a provisioned run of `threads` threads against `url`, each with the given workers and stages. */
export async function writeRunHome(home: string, options: {
  run: string;
  url: string;
  threads: Array<{ name: string; workers: string[]; stages: Array<{ clients: number; thinkTime?: unknown }>; workerStack?: Record<string, unknown>; thinkTime?: unknown }>;
  durationMs: number;
  barrier?: boolean;
  thinkTime?: unknown;
}): Promise<void> {
  await writeTree(home, {
    'workloads/status.json': [{ script: 'bitbucket.web.Status', description: 'Status', weight: 1 }],
    'snapshots/s.json': {
      name: 's',
      projects: [{ name: 'P', repos: [{ name: 'r', weight: 1, branches: [{ id: 'refs/heads/master', displayId: 'master', isDefault: true }] }] }],
      users: [{ username: 'u', password: 'p' }],
    },
    [`runs/${options.run}/${options.run}.json`]: {
      run_name: options.run,
      duration: options.durationMs,
      workload: 'status',
      ...(options.barrier ? { barrier: true } : {}),
      ...(options.thinkTime !== undefined ? { thinkTime: options.thinkTime } : {}),
      threads: options.threads.map((t, i) => ({
        name: t.name,
        ...(t.thinkTime !== undefined ? { thinkTime: t.thinkTime } : {}),
        instance: { template: 'local', snapshot: 's', stack: { Name: `sut-${i}`, ClusterNodes: ['localhost'], URL: options.url, reset: 'none', RunConfig: { admin_password: 'x' } } },
        worker: { template: 'local', stack: { Name: `workers-${i}`, ClusterNodes: t.workers, ...t.workerStack } },
        stages: t.stages,
      })),
    },
  });
}
