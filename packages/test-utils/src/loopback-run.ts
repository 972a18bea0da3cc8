import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Tree } from './index.js';

/** An HTTP server on 127.0.0.1 (a free port) standing in for Bitbucket's `/status` and more. */
export interface LoopbackServer {
  url: string;
  close(): void;
}

/** Starts `handler` on 127.0.0.1; the default answers every request `{"state":"RUNNING"}`. */
export async function startLoopbackServer(handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('{"state":"RUNNING"}')): Promise<LoopbackServer> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

export interface LoopbackRunOptions {
  /** The instance's URL (a loopback server's). */
  url: string;
  /** Stage duration, ms. */
  duration: number;
  /** Clients of each stage, one stage per entry. */
  stages: number[];
  /** Workload name; `status` (the one this tree writes) by default. */
  workload?: string;
}

/**
 * A run folder written by hand in an e3-home, as E³'s README's bring-your-own way: the `status` workload
 * (`bitbucket.web.Status`), a one-repository snapshot `s`, and `runs/<run>/<run>.json` with one thread on
 * localhost (instance at `url`, no reset; worker `localhost`). No phase status.
 */
export function loopbackRunTree(run: string, options: LoopbackRunOptions): Tree {
  return {
    'workloads/status.json': [{ script: 'bitbucket.web.Status', description: 'Status', weight: 1 }],
    'snapshots/s.json': { name: 's', projects: [{ name: 'P', repos: [{ name: 'r', weight: 1, branches: [{ id: 'refs/heads/master', displayId: 'master' }] }] }], users: [{ username: 'u', password: 'p' }] },
    [`runs/${run}/${run}.json`]: {
      run_name: run,
      duration: options.duration,
      workload: options.workload ?? 'status',
      threads: [
        {
          name: 't',
          instance: { snapshot: 's', stack: { Name: 'sut', ClusterNodes: ['localhost'], URL: options.url, reset: 'none' } },
          worker: { stack: { Name: 'w', ClusterNodes: ['localhost'] } },
          stages: options.stages.map((clients) => ({ clients })),
        },
      ],
    },
  };
}
