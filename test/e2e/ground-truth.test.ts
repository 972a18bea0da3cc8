import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { nodePaths, readSamples, readStages, runDirPaths, type SampleRow, type StageRecord } from '@e3/model';
import { makeTmpDir, repoRoot, runE3, startSlotServer, writeTree, type SlotCompletion, type SlotServer } from '@e3/test-utils';

// Capacity 20/s: 2 slots × 100 ms. Each stage loads for 10 s; the default 5 s grace follows. A window holds
// 200 completions at capacity: the count's own granularity (one per slot at each edge) and the agents'
// first connections stay well inside the 3 % tolerances.
const SLOTS = 2;
const SERVICE_MS = 100;
const DURATION_MS = 10_000;
const RUN = 'truth-20261205T000000Z';

interface Row {
  stage: number;
  op: string;
  kind: string;
  count: number;
  tps: number | null;
  p95: number;
  cut?: number;
}
interface StageOut {
  index: number;
  scheduled?: number;
  started?: number;
  late?: number;
  dropped?: number;
  completed?: number;
  cut?: number;
}

let server: SlotServer;
let home: string;
let rows: Row[];
let stages: StageRecord[];
let stageSummaries: StageOut[];

/** Runs one e3 command; a failure (an exit code not in `ok`) shows the command's stderr tail. */
async function e3(args: string[], inHome = home, ok = [0]): Promise<void> {
  const r = await runE3(repoRoot, [...args, '--home', inHome], { timeoutMs: 180_000 });
  if (!ok.includes(r.code ?? -1)) throw new Error(`e3 ${args.join(' ')} exited ${r.code}; its stderr ends:\n${r.stderr.slice(-3000)}`);
}

/** The load window of a stage as stages.json records it (`start`/`end` where it records no load window). */
function loadWindow(s: StageRecord): [number, number] {
  const rec = s as StageRecord & { loadStart?: number; loadEnd?: number };
  return [rec.loadStart ?? s.start!, rec.loadEnd ?? s.end!];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The shared test files of an e3 home: the workload (with a slow teardown) and the snapshot. */
const homeFiles = {
  'workloads/work.json': [{ script: 'scripts/work.mjs', description: 'Work', weight: 1 }],
  // A teardown that takes time, as E³'s push scripts delete their branches: it is not load.
  'workloads/scripts/work.mjs': [
    "export const script = { name: 'truth.Work',",
    "  async run(ctx) { await ctx.http.get('/work', { accept: 'none' }); },",
    '  async teardown(ctx) { await new Promise((r) => setTimeout(r, 3000)); } };',
    '',
  ].join('\n'),
  'snapshots/s.json': { name: 's', projects: [{ name: 'P', repos: [{ name: 'r', weight: 1, branches: [{ id: 'refs/heads/master', displayId: 'master' }] }] }], users: [{ username: 'u', password: 'p' }] },
};

beforeAll(async () => {
  server = await startSlotServer({ slots: SLOTS, serviceMs: SERVICE_MS });
  home = await makeTmpDir('e3-truth-');
  await writeTree(home, {
    ...homeFiles,
    [`runs/${RUN}/${RUN}.json`]: {
      run_name: RUN, duration: DURATION_MS, workload: 'work',
      threads: [{
        name: 'truth',
        instance: { snapshot: 's', stack: { Name: 'sut', ClusterNodes: ['localhost'], URL: server.url, reset: 'none' } },
        worker: { stack: { Name: 'w', ClusterNodes: ['localhost'] } },
        // Closed at saturation (8 clients on 2 slots), open at 0.5× and 2× capacity.
        stages: [{ clients: 8 }, { rate: server.capacity / 2 }, { rate: server.capacity * 2 }],
      }],
    },
  });
  await e3(['run', '-r', RUN]);
  await e3(['gather', '-r', RUN]);
  await e3(['analyze', '-r', RUN]);
  const runDir = join(home, 'runs', RUN);
  stages = (await readStages(runDir, 0))!.stages;
  const summary = JSON.parse(await readFile(join(runDir, 'analysis/summary.json'), 'utf8'));
  rows = summary.rows.filter((r: Row & { thread: number }) => r.thread === 0);
  stageSummaries = summary.threads[0].stages;
}, 600_000);

afterAll(async () => {
  await server?.close();
});

describe('e3 against a server that counts its own completions', () => {
  it.each([
    ['closed model at saturation', 0],
    ['open model at 0.5× capacity', 1],
    ['open model at 2× capacity', 2],
  ])('%s: e3 throughput is within 3 %% of the server count over the load window', (_name, stage) => {
    const [from, to] = loadWindow(stages[stage]!);
    const truth = server.completedBetween(from, to).length / ((to - from) / 1000);
    const row = rows.find((r) => r.stage === stage && r.op === 'GET /work' && r.kind === 'request')!;
    expect(row).toBeDefined();
    expect(row.tps).not.toBeNull();
    expect(Math.abs(row.tps! - truth) / truth).toBeLessThanOrEqual(0.03);
  });

  it('the load window is the planned duration of real load: the saturated stages show the server at its capacity', () => {
    for (const stage of [0, 2]) {
      const [from, to] = loadWindow(stages[stage]!);
      expect(Math.abs(to - from - DURATION_MS)).toBeLessThanOrEqual(0.01 * DURATION_MS);
      // Saturated from the first to the last moment of the window: the server completes exactly its capacity.
      const truth = server.completedBetween(from, to).length / ((to - from) / 1000);
      expect(Math.abs(truth - server.capacity) / server.capacity).toBeLessThanOrEqual(0.03);
      const row = rows.find((r) => r.stage === stage && r.op === 'GET /work' && r.kind === 'request')!;
      expect(Math.abs(row.tps! - server.capacity) / server.capacity).toBeLessThanOrEqual(0.03);
    }
  });

  it('at 2× capacity every scheduled arrival is completed, cut or dropped, exactly once', () => {
    const s = stageSummaries[2]!;
    expect(s.scheduled).toBeGreaterThan(0);
    expect(s.completed! + s.cut! + s.dropped!).toBe(s.scheduled);
    // Arrivals at 2× capacity for the whole window: rate × duration, give or take the last one.
    expect(Math.abs(s.scheduled! - server.capacity * 2 * (DURATION_MS / 1000))).toBeLessThanOrEqual(2);
    // The server saw every started request: those completed plus those cut in flight.
    expect(s.completed).toBe(server.completions.filter((c) => c.arrived >= stages[2]!.start! - 1).length);
  });

  it('at 2× capacity p95 reflects the queueing the server measured', () => {
    const [from, to] = loadWindow(stages[2]!);
    // Arrivals are due every 1/rate s from the first; both queues (the agent's pool, the server's slots) are
    // first come first served, so the k-th request the server took is the k-th arrival.
    const taken = server.completions.filter((c: SlotCompletion) => c.arrived >= from - 50 && c.arrived < to + 30_000).sort((a, b) => a.arrived - b.arrived);
    const due = (k: number) => taken[0]!.arrived + (k * 1000) / (server.capacity * 2);
    const truth = percentile(taken.map((c, k) => c.ended - due(k)), 95);
    // The backlog grows at (2C − C) per second and drains at C, so an arrival t s into the stage waits ≈ t s.
    expect(truth).toBeGreaterThan(0.5 * (DURATION_MS - 1000));
    const row = rows.find((r) => r.stage === 2 && r.op === 'GET /work' && r.kind === 'request')!;
    expect(Math.abs(row.p95 - truth) / truth).toBeLessThanOrEqual(0.1);
    const calm = rows.find((r) => r.stage === 1 && r.op === 'GET /work' && r.kind === 'request')!;
    expect(calm.p95).toBeLessThan(4 * SERVICE_MS);
  });
});

describe('e3 when one of two agents is killed with SIGKILL mid-stage', () => {
  const DEAD_RUN = 'dead-20261205T000000Z';
  const DEAD_MS = 8000;
  let deadServer: SlotServer;
  let deadHome: string;
  let killedAt: number;
  let deadStage: StageRecord;
  let perWorker: SampleRow[][];
  let deadRows: Row[];

  /** Waits (bounded) until stages.json shows stage 0 running, and returns its start. */
  async function stageStart(runDir: string): Promise<number> {
    for (let i = 0; i < 600; i++) {
      const s = await readStages(runDir, 0).catch(() => undefined);
      const st = s?.stages[0];
      if (st?.status === 'running' && st.start !== undefined) return st.start;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('stage 0 never started');
  }

  beforeAll(async () => {
    deadServer = await startSlotServer({ slots: SLOTS, serviceMs: SERVICE_MS });
    deadHome = await makeTmpDir('e3-truth-dead-');
    await writeTree(deadHome, {
      ...homeFiles,
      [`runs/${DEAD_RUN}/${DEAD_RUN}.json`]: {
        run_name: DEAD_RUN, duration: DEAD_MS, workload: 'work',
        threads: [{
          name: 'dead',
          instance: { snapshot: 's', stack: { Name: 'sut', ClusterNodes: ['localhost'], URL: deadServer.url, reset: 'none' } },
          worker: { stack: { Name: 'w', ClusterNodes: ['localhost', 'localhost'] } },
          stages: [{ clients: 8 }],
        }],
      },
    });
    const runDir = join(deadHome, 'runs', DEAD_RUN);
    // A degraded stage makes the run partial: e3 run exits 0 or 4 (run failed), never with a bug or input error.
    const running = e3(['run', '-r', DEAD_RUN], deadHome, [0, 4]);
    const start = await stageStart(runDir);
    await new Promise((r) => setTimeout(r, Math.max(0, start + DEAD_MS / 2 - Date.now())));
    const pid = Number((await readFile(nodePaths(join(tmpdir(), 'e3'), DEAD_RUN).pidFile(0, 1), 'utf8')).trim());
    killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await running;
    await e3(['gather', '-r', DEAD_RUN], deadHome);
    await e3(['analyze', '-r', DEAD_RUN], deadHome);
    deadStage = (await readStages(runDir, 0))!.stages[0]!;
    perWorker = [];
    for (const w of [0, 1]) {
      const rows: SampleRow[] = [];
      for await (const r of readSamples(runDirPaths(runDir).samplesFile(0, w, 0))) rows.push(r);
      perWorker.push(rows);
    }
    deadRows = JSON.parse(await readFile(join(runDir, 'analysis/summary.json'), 'utf8')).rows;
  }, 300_000);

  afterAll(async () => {
    await deadServer?.close();
  });

  it('marks the stage degraded and the killed worker lost', () => {
    expect(deadStage.status).toBe('degraded');
    expect(deadStage.workers.map((w) => w.status)).toEqual(['succeeded', 'degraded']);
  });

  it("keeps every sample of the killed agent older than one second before the kill", () => {
    const cutoff = killedAt - 1000;
    const requests = (rows: SampleRow[]) => rows.filter((r) => r.kind === 'request' && r.op === 'GET /work' && r.start + r.duration < cutoff);
    const killed = requests(perWorker[1]!);
    const survivor = requests(perWorker[0]!);
    // It had written samples until shortly before the kill (it ran with half the clients for 4 s).
    expect(killed.length).toBeGreaterThan(0);
    expect(Math.max(...killed.map((r) => r.start + r.duration))).toBeGreaterThan(cutoff - 1000);
    // Every request the server completed before the cutoff is in one of the two files (the client sees the
    // end a little after the server does, hence 50 ms of slack).
    expect(killed.length + survivor.length).toBeGreaterThanOrEqual(deadServer.completedBetween(0, cutoff - 50).length);
  });

  it("gathers the killed agent's samples and counts them in the analysis", () => {
    const row = deadRows.find((r) => r.stage === 0 && r.op === 'GET /work' && r.kind === 'request')!;
    const done = (rows: SampleRow[]) => rows.filter((r) => r.kind === 'request' && r.op === 'GET /work' && !(r.error ?? '').startsWith('cut')).length;
    expect(done(perWorker[1]!)).toBeGreaterThan(0);
    expect(row.count).toBe(done(perWorker[0]!) + done(perWorker[1]!));
  });
});
