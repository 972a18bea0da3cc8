/**
 * Generates run directories for tests and the bench: a run file, thread-NNN/stages.json, samples.csv per
 * worker and stage drawn from known distributions (closed model: each client runs its test's ops in a
 * loop), and collectd CSV files per node. Deterministic for a seed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  COLLECTD_CSV_DIR,
  RUN_DIR_FORMAT_VERSION,
  createSampleWriter,
  runDirPaths,
  stageKey,
  type SampleRow,
  type StageRecord,
  type StagesFile,
  type Threshold, prng } from '@e3/model';

export interface GenOp {
  op: string;
  /** Median duration, ms (log-normal). */
  medianMs: number;
  /** Log-normal sigma; 0 gives a fixed duration. */
  sigma?: number;
  errorRate?: number;
  errorMessage?: string;
}

export interface GenTest {
  test: string;
  ops: GenOp[];
  /** Record a transaction row per pass (default true). */
  transactions?: boolean;
}

export interface GenStage {
  clients: number;
  durationMs: number;
  status?: StageRecord['status'];
  /** Leave the stage out of stages.json and write no files (a run that never got there). */
  missing?: boolean;
  /** The drain after the load window, ms: stages.json end = drainEnd = loadEnd + drainMs (default 0). */
  drainMs?: number;
  /** Write stages.json as runs before the load window did: start/end only, no loadStart/loadEnd/drainEnd. */
  legacyWindow?: boolean;
  /** More stages.json fields (open-model accounting, …). */
  record?: Partial<StageRecord>;
}

export interface GenThread {
  name: string;
  workers?: number;
  clusterNodes?: number;
  stages: GenStage[];
  /** Multiplies the duration of the named ops. */
  latencyFactor?: Record<string, number>;
  thresholds?: Threshold[];
}

export interface GenerateRunOptions {
  /** Folder the run folder is created in (e.g. e3-home/runs). */
  dir: string;
  run?: string;
  threads: GenThread[];
  tests: GenTest[];
  thresholds?: Threshold[];
  seed?: number;
  /** Epoch ms of the first stage start. */
  startAt?: number;
  /** Write collectd CSV files per node (default true). */
  collectd?: boolean;
  /** Explicit rows for a worker's stage instead of the simulation. */
  rows?: (thread: number, stage: number, worker: number) => SampleRow[] | undefined;
  /** Gap between stages, ms. */
  gapMs?: number;
}

export interface GeneratedRun {
  runDir: string;
  run: string;
  samples: number;
  /** Stage windows per thread: [start, end]. */
  windows: Array<Array<[number, number]>>;
}


function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** Writes a run folder `dir/<run>` and returns where it is and how many samples it holds. */
export async function generateRun(options: GenerateRunOptions): Promise<GeneratedRun> {
  const run = options.run ?? 'gen-20261125T100000Z';
  const runDir = join(options.dir, run);
  const paths = runDirPaths(runDir, run);
  const rand = prng(options.seed ?? 1);
  const startAt = options.startAt ?? Date.UTC(2026, 10, 25, 10, 0, 0);
  const gap = options.gapMs ?? 30_000;
  let samples = 0;
  const windows: GeneratedRun['windows'] = [];

  const runFile = {
    run_name: run,
    experiment: 'gen',
    formatVersion: RUN_DIR_FORMAT_VERSION,
    description: 'generated run',
    workload: 'gen-workload',
    ...(options.thresholds ? { thresholds: options.thresholds } : {}),
    threads: options.threads.map((t) => ({
      name: t.name,
      instance: { template: 'local' },
      worker: { template: 'local' },
      stages: t.stages.map((s) => ({ clients: s.clients, duration: s.durationMs })),
      ...(t.thresholds ? { thresholds: t.thresholds } : {}),
    })),
  };
  await mkdir(runDir, { recursive: true });
  await writeFile(paths.runFile, JSON.stringify(runFile));

  for (const [ti, thread] of options.threads.entries()) {
    const workers = thread.workers ?? 2;
    const records: StageRecord[] = [];
    const threadWindows: Array<[number, number]> = [];
    let t0 = startAt;
    for (const [si, stage] of thread.stages.entries()) {
      const start = t0;
      const end = start + stage.durationMs;
      const drainEnd = end + (stage.drainMs ?? 0);
      t0 = drainEnd + gap;
      threadWindows.push([start, end]);
      if (stage.missing) continue;
      const perWorker = Array.from({ length: workers }, (_, w) => Math.floor(stage.clients / workers) + (w < stage.clients % workers ? 1 : 0));
      const offsets = perWorker.map((_, w) => perWorker.slice(0, w).reduce((a, b) => a + b, 0));
      records.push({
        index: si,
        key: stageKey(si),
        workload: 'gen-workload',
        duration: stage.durationMs,
        clients: stage.clients,
        workers: perWorker.map((c, w) => ({ node: 'localhost', index: w, clients: c, clientOffset: offsets[w], status: stage.status ?? 'succeeded' })),
        start,
        end: drainEnd,
        ...(stage.legacyWindow ? {} : { loadStart: start, loadEnd: end, drainEnd }),
        status: stage.status ?? 'succeeded',
        ...stage.record,
      });
      for (let w = 0; w < workers; w++) {
        const writer = await createSampleWriter(paths.samplesFile(ti, w, si), { bufferBytes: 1 << 20 });
        const explicit = options.rows?.(ti, si, w);
        if (explicit) {
          for (const row of explicit) await writer.write(row);
        } else {
          for (let c = 0; c < perWorker[w]!; c++) {
            const client = offsets[w]! + c;
            const test = options.tests[client % options.tests.length]!;
            let t = start + rand() * 50;
            let iteration = 0;
            while (t < end) {
              const txStart = t;
              let txOk = true;
              for (const op of test.ops) {
                const factor = thread.latencyFactor?.[op.op] ?? 1;
                const d = op.medianMs * factor * Math.exp((op.sigma ?? 0.3) * normal(rand));
                const ok = rand() >= (op.errorRate ?? 0);
                txOk &&= ok;
                const row: SampleRow = {
                  start: round3(t), duration: round3(d), test: test.test, op: op.op, kind: 'request', client, iteration,
                  ok, status: ok ? 200 : 500, bytes: 1000,
                };
                if (!ok) row.error = op.errorMessage ?? 'http 500';
                const p = writer.write(row);
                if (p) await p;
                t += d;
              }
              if (test.transactions !== false) {
                const row: SampleRow = {
                  start: round3(txStart), duration: round3(t - txStart), test: test.test, op: test.test, kind: 'transaction', client, iteration,
                  ok: txOk, status: 0, bytes: 0,
                };
                if (!txOk) row.error = 'transaction failed';
                const p = writer.write(row);
                if (p) await p;
              }
              iteration++;
            }
          }
        }
        samples += writer.count;
        await writer.close();
      }
    }
    windows.push(threadWindows);
    const stagesFile: StagesFile = { formatVersion: RUN_DIR_FORMAT_VERSION, thread: ti, name: thread.name, stages: records };
    await writeFile(paths.stagesFile(ti), JSON.stringify(stagesFile, null, 2));

    if (options.collectd !== false) {
      const from = startAt - 60_000;
      const to = t0 + 60_000;
      for (let w = 0; w < workers; w++) await writeCollectd(paths.workerNodeDir(ti, w), { from, to, rand, jmx: false });
      for (let n = 0; n < (thread.clusterNodes ?? 1); n++) await writeCollectd(paths.clusterNodeDir(ti, n), { from, to, rand, jmx: true });
    }
  }
  return { runDir, run, samples, windows };
}

async function writeCollectd(nodeDir: string, o: { from: number; to: number; rand: () => number; jmx: boolean }): Promise<void> {
  const host = join(nodeDir, COLLECTD_CSV_DIR, 'localhost');
  const date = new Date(o.from).toISOString().slice(0, 10);
  const files: Record<string, { header: string; row: (i: number, t: number) => string }> = {};
  const counters: Record<string, number> = { user: 0, system: 0, wait: 0, rx: 0, tx: 0, read: 0, write: 0 };
  const bump = (k: string, perSec: number) => (counters[k] = counters[k]! + Math.round(perSec * 10));
  files['aggregation-cpu-average/cpu-user'] = { header: 'epoch,value', row: () => String(bump('user', 30 + o.rand() * 20)) };
  files['aggregation-cpu-average/cpu-system'] = { header: 'epoch,value', row: () => String(bump('system', 5 + o.rand() * 5)) };
  files['aggregation-cpu-average/cpu-wait'] = { header: 'epoch,value', row: () => String(bump('wait', o.rand() * 3)) };
  files['memory/memory-used'] = { header: 'epoch,value', row: () => String(Math.round(2e9 + o.rand() * 1e8)) };
  files['memory/memory-cached'] = { header: 'epoch,value', row: () => String(Math.round(1e9 + o.rand() * 1e8)) };
  files['memory/memory-buffered'] = { header: 'epoch,value', row: () => String(Math.round(1e8)) };
  files['memory/memory-free'] = { header: 'epoch,value', row: () => String(Math.round(4e9)) };
  files['load/load'] = { header: 'epoch,shortterm,midterm,longterm', row: () => `${(1 + o.rand()).toFixed(2)},${(0.8).toFixed(2)},${(0.5).toFixed(2)}` };
  files['interface-eth0/if_octets'] = { header: 'epoch,rx,tx', row: () => `${bump('rx', 5e6 * o.rand())},${bump('tx', 2e7 * o.rand())}` };
  files['disk-sda/disk_octets'] = { header: 'epoch,read,write', row: () => `${bump('read', 1e6 * o.rand())},${bump('write', 3e6 * o.rand())}` };
  files['processes-git/ps_count'] = { header: 'epoch,processes,threads', row: () => `${Math.round(o.rand() * 20)},${Math.round(o.rand() * 40)}` };
  if (o.jmx) {
    files['GenericJMX-com.atlassian.bitbucket_HostingTickets/gauge-Used'] = { header: 'epoch,value', row: () => String(Math.round(o.rand() * 30)) };
    files['GenericJMX-com.atlassian.bitbucket_HostingTickets/gauge-Total'] = { header: 'epoch,value', row: () => '48' };
    files['GenericJMX-com.atlassian.bitbucket_HostingTickets/gauge-QueuedRequests'] = { header: 'epoch,value', row: () => String(Math.round(o.rand() * 3)) };
    files['GenericJMX-com.zaxxer.hikari_Poolbitbucket/gauge-ActiveConnections'] = { header: 'epoch,value', row: () => String(Math.round(o.rand() * 10)) };
  }
  const lines: Record<string, string[]> = {};
  for (const [name, f] of Object.entries(files)) lines[name] = [f.header];
  let i = 0;
  for (let t = o.from; t <= o.to; t += 10_000, i++) {
    for (const [name, f] of Object.entries(files)) lines[name]!.push(`${(t / 1000).toFixed(3)},${f.row(i, t)}`);
  }
  for (const [name, l] of Object.entries(lines)) {
    const file = join(host, `${name}-${date}`);
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, l.join('\n') + '\n');
  }
}
