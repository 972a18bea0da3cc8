import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readPhaseStatus, readSamples, readStages, runDirPaths, validatePaths } from '@e3/model';
import { makeTmpDir, writeTree } from '@e3/test-utils';

import { removeRunDirScratch, runExperiment } from '@e3/run';

import { agentBundle, statusServer, writeRunHome } from './helpers.js';

let server: Awaited<ReturnType<typeof statusServer>>;
beforeAll(async () => {
  server = await statusServer();
});
afterAll(() => server.close());

async function sampleCount(file: string): Promise<number> {
  let n = 0;
  for await (const _ of readSamples(file)) n++;
  return n;
}

describe('e3 run on localhost workers', () => {
  it('runs 2 threads × 2 stages, splits clients exactly and records every stage', async () => {
    const home = await makeTmpDir();
    const run = 'local-20261125T000000Z';
    await writeRunHome(home, {
      run,
      url: server.url,
      durationMs: 1500,
      threads: [
        { name: 'a', workers: ['localhost', 'localhost'], stages: [{ clients: 3 }, { clients: 5 }] },
        { name: 'b', workers: ['localhost'], stages: [{ clients: 2 }, { clients: 1 }] },
      ],
    });
    const progress: string[] = [];
    const result = await runExperiment({ run, home, agentBundle, graceMs: 500, onProgress: (p) => progress.push(p.phase) });
    expect(result.status).toBe('succeeded');
    const runDir = join(home, 'runs', run);
    const paths = runDirPaths(runDir);

    const a = await readStages(runDir, 0);
    expect(a!.stages.map((s) => [s.status, s.workers.map((w) => w.clients)])).toEqual([
      ['succeeded', [2, 1]],
      ['succeeded', [3, 2]],
    ]);
    expect(a!.stages[1]!.workers.map((w) => w.clientOffset)).toEqual([0, 3]);
    for (const s of a!.stages) {
      expect(s.end! - s.start!).toBeGreaterThanOrEqual(1500);
      expect(s.overheadMs).toBeGreaterThanOrEqual(0);
    }
    for (const [t, workers] of [[0, 2], [1, 1]] as const) {
      for (let w = 0; w < workers; w++) {
        for (let s = 0; s < 2; s++) {
          expect(await sampleCount(paths.samplesFile(t, w, s))).toBeGreaterThan(0);
          const summary = JSON.parse(await readFile(paths.stageSummaryFile(t, w, s), 'utf8'));
          expect(summary.ops.find((o: { op: string }) => o.op === 'GET /status').errors).toBe(0);
        }
      }
    }
    // Clients in the samples are the global numbers of each worker's share.
    const clients = new Set<number>();
    for (const w of [0, 1]) for await (const r of readSamples(paths.samplesFile(0, w, 1))) clients.add(r.client);
    expect([...clients].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(await readPhaseStatus(runDir, 'run')).toMatchObject({ status: 'succeeded' });
    expect(progress).toContain('load');
    expect(server.count()).toBeGreaterThan(10);
  });

  it('removes the run scratch (user keys among it) from every worker at the end of the run, and removeRunDirScratch (deprovision) does again', async () => {
    const home = await makeTmpDir();
    const run = 'scratch-20261125T000000Z';
    const dataDir = join(home, 'node-data');
    await writeRunHome(home, {
      run,
      url: server.url,
      durationMs: 800,
      threads: [{ name: 'a', workers: ['localhost', 'localhost'], stages: [{ clients: 2 }], workerStack: { dataDir } }],
    });
    const key = (w: number) => join(dataDir, 'scratch', run, 'thread-001', `worker-node-00${w}`, 'homes', 'dQ', '.ssh', 'id_rsa');
    const plant = () => Promise.all([1, 2].map((w) => writeTree(dirname(key(w)), { id_rsa: '-----BEGIN OPENSSH PRIVATE KEY-----\nuser key\n-----END OPENSSH PRIVATE KEY-----\n' })));
    await plant();
    const other = join(dataDir, 'scratch', 'another-run', 'keep');
    await writeTree(dirname(other), { keep: 'x' });
    const result = await runExperiment({ run, home, agentBundle, graceMs: 300 });
    expect(result.status).toBe('succeeded');
    expect(existsSync(join(dataDir, 'scratch', run))).toBe(false);
    expect(existsSync(other)).toBe(true);

    await plant();
    expect(await removeRunDirScratch(home, join(home, 'runs', run), run)).toEqual([]);
    expect(existsSync(join(dataDir, 'scratch', run))).toBe(false);
    expect(existsSync(other)).toBe(true);

    // The run directory validates as a whole, stages.json and samples included, here and once archived.
    const runDir = join(home, 'runs', run);
    const kinds = async (dir: string) => {
      const results = await validatePaths([dir], { home });
      expect(results.flatMap((r) => r.errors)).toEqual([]);
      return results.map((r) => `${r.kind} ${relative(dir, r.file)}`);
    };
    expect(await kinds(runDir)).toEqual([
      `run ${run}.json`,
      'workload ../../workloads/status.json',
      'snapshot ../../snapshots/s.json',
      'phase phases/run.json',
      'stages thread-001/stages.json',
      'stage-summary thread-001/worker-node-001/stage-000/summary.json',
      'sample thread-001/worker-node-001/stage-000/samples.csv',
      'stage-summary thread-001/worker-node-002/stage-000/summary.json',
      'sample thread-001/worker-node-002/stage-000/samples.csv',
    ]);
    await rename(runDir, join(home, 'archive', run)).catch(async () => {
      await mkdir(join(home, 'archive'));
      await rename(runDir, join(home, 'archive', run));
    });
    expect((await kinds(join(home, 'archive', run))).length).toBe(9);
  });

  it("sends each closed stage its think time: the stage's own, else the thread's, else the experiment's", async () => {
    const home = await makeTmpDir();
    const run = 'think-20261125T000000Z';
    await writeRunHome(home, {
      run,
      url: server.url,
      durationMs: 1500,
      thinkTime: '400ms',
      threads: [
        { name: 'a', workers: ['localhost'], stages: [{ clients: 1, thinkTime: '200ms' }, { clients: 1 }] },
        { name: 'b', workers: ['localhost'], thinkTime: { min: '250ms', max: '350ms' }, stages: [{ clients: 1 }] },
      ],
    });
    await writeTree(home, {
      'workloads/status.json': [{ script: 'scripts/ping.ts', description: 'Ping', weight: 1 }],
      'workloads/scripts/ping.ts': "import { defineScript } from '@e3/agent';\nexport const script = defineScript({ name: 'Ping', async run(ctx) { await ctx.http.get('/status'); } });\n",
    });
    expect((await runExperiment({ run, home, agentBundle, graceMs: 300 })).status).toBe('succeeded');
    const paths = runDirPaths(join(home, 'runs', run));
    const passes = async (thread: number, stage: number) => {
      let n = 0;
      for await (const r of readSamples(paths.samplesFile(thread, 0, stage))) if (r.kind === 'transaction') n++;
      return n;
    };
    // 1.5 s of passes that take a millisecond: one per think time, about 8, 4 and 5.
    expect(await passes(0, 0)).toBeGreaterThanOrEqual(6);
    expect(await passes(0, 0)).toBeLessThanOrEqual(9);
    expect(await passes(0, 1)).toBeGreaterThanOrEqual(3);
    expect(await passes(0, 1)).toBeLessThanOrEqual(5);
    expect(await passes(1, 0)).toBeGreaterThanOrEqual(4);
    expect(await passes(1, 0)).toBeLessThanOrEqual(6);
  });

  it('stops every agent on abort, marks the stage aborted, and --resume finishes the rest', async () => {
    const home = await makeTmpDir();
    const run = 'abort-20261125T000000Z';
    await writeRunHome(home, { run, url: server.url, durationMs: 4000, threads: [{ name: 'a', workers: ['localhost'], stages: [{ clients: 2 }, { clients: 2 }] }] });
    const controller = new AbortController();
    // Interrupt once load runs (the first progress report of the stage), however slow the machine is.
    const onProgress = (p: { phase: string }) => p.phase === 'load' && controller.abort();
    await expect(runExperiment({ run, home, agentBundle, graceMs: 300, signal: controller.signal, onProgress })).rejects.toMatchObject({ code: 'E3_INTERRUPTED' });
    const runDir = join(home, 'runs', run);
    expect((await readStages(runDir, 0))!.stages.map((s) => s.status)).toEqual(['aborted', 'pending']);
    expect(await readPhaseStatus(runDir, 'run')).toMatchObject({ status: 'aborted' });
    expect(await sampleCount(runDirPaths(runDir).samplesFile(0, 0, 0))).toBeGreaterThan(0);
    // The agent ended its stage early on the stop, not at the end of its 4 s.
    expect(JSON.parse(await readFile(runDirPaths(runDir).stageSummaryFile(0, 0, 0), 'utf8'))).toMatchObject({ stopped: true });

    const resumed = await runExperiment({ run, home, agentBundle, graceMs: 300, resume: true });
    expect(resumed.threads[0]!.stages.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('fails before any load when a worker lacks node, naming the node', async () => {
    const home = await makeTmpDir();
    const run = 'nonode-20261125T000000Z';
    await writeRunHome(home, { run, url: server.url, durationMs: 1000, threads: [{ name: 'a', workers: ['localhost'], stages: [{ clients: 1 }] }] });
    const before = server.count();
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(runExperiment({ run, home, agentBundle })).rejects.toMatchObject({ code: 'E3_ENVIRONMENT', message: 'worker localhost: node is missing, git is missing' });
    } finally {
      process.env.PATH = path;
    }
    expect(server.count()).toBe(before);
  });

  it('bundles a user script named by the workload and ships it to every agent', async () => {
    const home = await makeTmpDir();
    const run = 'user-20261125T000000Z';
    await writeRunHome(home, { run, url: server.url, durationMs: 1500, threads: [{ name: 'a', workers: ['localhost', 'localhost'], stages: [{ clients: 2 }] }] });
    await writeTree(home, {
      'workloads/status.json': [{ script: 'scripts/ping.ts', description: 'Ping', weight: 1 }],
      'workloads/scripts/ping.ts': [
        "import { defineScript } from '@e3/agent';",
        "const path: string = '/status';",
        'export const script = defineScript({',
        "  name: 'Ping',",
        '  async run(ctx) {',
        "    const res = await ctx.http.get(path, { accept: 'json' });",
        "    ctx.check(res.json<{ state?: string }>().state === 'RUNNING', 'not running');",
        '  },',
        '});',
      ].join('\n'),
    });
    expect((await runExperiment({ run, home, agentBundle, graceMs: 300 })).status).toBe('succeeded');
    const ops = new Set<string>();
    for (const w of [0, 1]) for await (const r of readSamples(runDirPaths(join(home, 'runs', run)).samplesFile(0, w, 0))) if (r.ok) ops.add(`${r.kind} ${r.op}`);
    expect([...ops].sort()).toEqual(['request GET /status', 'transaction Ping']);
  });
});
