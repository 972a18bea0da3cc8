import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  AGENT_LOG_FILE,
  E3_VERSION,
  E3Error,
  SAMPLES_FILE,
  STAGE_SUMMARY_FILE,
  STAGE_SUMMARY_FORMAT_VERSION,
  stageHealth,
  writeJsonAtomic,
  type AssignmentMode,
  type Job,
  type StageSummary,
  stageCounts,
  type ThinkTimeMs,
  type Tick,
} from '@e3/model';

import { createTestData } from '../data/provider.js';
import { redact } from '../recorder/errors.js';
import { createRecorder } from '../recorder/recorder.js';
import type { Script } from '../script/api.js';
import { resolveScript } from '../script/registry.js';
import { systemClock, type StageClock } from './clock.js';
import { runClosed } from './closed.js';
import { startHealth } from './health.js';
import type { StageRun } from './context.js';
import { noArrivals, openPool, runOpen, type ArrivalCounts } from './open.js';
import { runTeardowns } from './teardown.js';

/** One job of a workload, as in the workload file (`Job` of @e3/model). */
export type WorkloadJob = Job;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFn = (level: LogLevel, message: string) => void;

export interface RunStageOptions {
  workload: readonly WorkloadJob[];
  /** E³ instance file content (URL with context path, RunConfig.admin_password; e3: InternalURL, SshPort, SshHost, DirectURL). */
  instance: Record<string, unknown>;
  /** E³ snapshot descriptor content. */
  snapshot: Record<string, unknown>;
  /** E³ keys file content, for SSH users without a key. */
  keys?: Record<string, unknown>;
  /** Where samples.csv, summary.json and agent.log are written (created). */
  stageDir: string;
  /** Scratch space (user homes, clones, repo cache), kept across stages; default `<os tmp>/e3-agent-work`. */
  workDir?: string;
  durationMs: number;
  /** Closed model: this worker's clients. Open model: the virtual-user pool (default 64). */
  clients?: number;
  /** Open model: arrivals per second on this worker. */
  rate?: number;
  /** Global number of this worker's first client (default 0). */
  clientOffset?: number;
  /** Clients over all workers (default: clientOffset + clients). */
  totalClients?: number;
  /** Default `weighted`. */
  assignment?: AssignmentMode;
  /** In-flight operations may finish for this long after the stage ends, then are cut (default 5000 ms). */
  graceMs?: number;
  /** Closed model: after each pass a client pauses uniformly in [min, max] ms before its next one (not measured), unless its job has a `thinkTime`; default none. */
  thinkTimeMs?: ThinkTimeMs;
  /** Draw users per iteration instead of once per client (default false, as E³); a job may also set `options.userPerIteration`. */
  userPerIteration?: boolean;
  /** Open model: an arrival started this much after it was due counts as late (default 10 ms). */
  lateThresholdMs?: number;
  /** Open model: arrivals waiting for a free virtual user beyond this many are dropped (default 10 000). */
  maxQueue?: number;
  /** Scripts by name that are not in the library (user scripts, see loadUserScript). */
  userScripts?: Readonly<Record<string, Script>>;
  /** Aborting ends the stage early (in-flight work gets the grace period). */
  signal?: AbortSignal;
  /** Called once per second with that second's tick. */
  onTick?: (tick: Tick) => void;
  /** Log lines (also written to agent.log). */
  log?: LogFn;
  /** Worker name in summary.json (default: host name). */
  worker?: string;
  /** Epoch ms to start at (a barrier across workers); default now. */
  startAt?: number;
  httpTimeoutMs?: number;
  gitTimeoutMs?: number;
  /** Random source (tests pass a seeded one). */
  random?: () => number;
  /** Time for the stage loop (tests pass a fake one); default the system clock. */
  clock?: StageClock;
}

export interface StageResult {
  summary: StageSummary;
  samplesFile: string;
  summaryFile: string;
}


/** The stage's state before load starts: scripts resolved, folders made, the recorder and agent.log open. */
async function prepareStage(options: RunStageOptions, stop: AbortSignal, cut: AbortSignal): Promise<{ run: StageRun; closeLog(): Promise<void> }> {
  const open = options.rate !== undefined;
  const jobs = options.workload;
  if (jobs.length === 0) throw new E3Error('INVALID_FILE', 'the workload has no job', { hint: 'Add jobs to the workload file in e3-home/workloads/.' });
  const scripts = jobs.map((j) => resolveScript(j.script, options.userScripts));
  const data = createTestData(options);
  const clients = options.clients ?? (open ? 64 : 0);
  const offset = options.clientOffset ?? 0;
  const workDir = options.workDir ?? join(tmpdir(), 'e3-agent-work');
  const sharedDir = join(workDir, 'shared');
  await mkdir(options.stageDir, { recursive: true });
  await mkdir(sharedDir, { recursive: true });
  const logStream = createWriteStream(join(options.stageDir, AGENT_LOG_FILE), { flags: 'a' });
  const log = (level: LogLevel, message: string) => {
    const line = redact(message);
    logStream.write(`${new Date().toISOString()} ${level.toUpperCase()} ${line}\n`);
    options.log?.(level, line);
  };
  const run: StageRun = {
    options, clock: options.clock ?? systemClock, random: options.random ?? Math.random, jobs, scripts,
    txOps: scripts.map((s) => s.name.split('.').pop()!), data,
    clients, offset, total: options.totalClients ?? offset + clients, mode: options.assignment ?? 'weighted',
    workDir, sharedDir, clientsDir: join(workDir, 'clients', `${process.pid}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`),
    recorder: await createRecorder(join(options.stageDir, SAMPLES_FILE)), log, stop, cut,
    homeCache: new Map(), reported: new Set(), active: 0, vus: [], counts: jobs.map(() => 0), t0: 0,
  };
  return { run, closeLog: () => new Promise<void>((r) => logStream.end(() => r())) };
}

/** Emits a tick at the end of every second from t0 until `stop()`, which emits the last (partial) one and returns them all. */
function startTicks(run: StageRun, arrivals: ArrivalCounts | undefined): { stop(): Tick[] } {
  const ticks: Tick[] = [];
  const ended = new AbortController();
  const health = startHealth();
  const emit = (t: number) => {
    const extra = arrivals ? { arrivals: arrivals.tick.scheduled, late: arrivals.tick.late, dropped: arrivals.tick.dropped } : {};
    if (arrivals) arrivals.tick = { scheduled: 0, late: 0, dropped: 0 };
    const tick = run.recorder.tick({ t: Math.round(t), second: ticks.length, active: run.active, ...extra });
    tick.health = health.read();
    // The second's histograms go to the controller only; summary.json keeps the stage's own.
    ticks.push({ ...tick, ops: tick.ops.map(({ histogram: _histogram, ...op }) => op) });
    try {
      run.options.onTick?.(tick);
    } catch (err) {
      run.log('warn', `onTick failed: ${(err as Error).message}`);
    }
  };
  void (async () => {
    while (await run.clock.sleep(run.t0 + (ticks.length + 1) * 1000 - run.clock.now(), ended.signal)) emit(run.t0 + ticks.length * 1000 + 1000);
  })();
  return {
    stop() {
      ended.abort();
      emit(run.clock.now());
      health.stop();
      return ticks;
    },
  };
}

/** Waits for the stage to end (its duration or `stopCtl`), then up to `graceMs` for in-flight passes, then cuts them. */
async function endStage(run: StageRun, running: Promise<unknown>[], stopCtl: AbortController, cutCtl: AbortController): Promise<{ stopped: boolean }> {
  const timer = new AbortController();
  void run.clock.sleep(run.options.durationMs, timer.signal).then((elapsed) => elapsed && stopCtl.abort());
  await new Promise<void>((resolve) => (stopCtl.signal.aborted ? resolve() : stopCtl.signal.addEventListener('abort', () => resolve(), { once: true })));
  timer.abort();
  const stopped = run.clock.now() - run.t0 < run.options.durationMs - 1;
  const graceMs = run.options.graceMs ?? 5000;
  const all = Promise.all(running);
  const graceCtl = new AbortController();
  const finishedInGrace = await Promise.race([all.then(() => true), run.clock.sleep(graceMs, graceCtl.signal).then(() => false)]);
  graceCtl.abort();
  if (!finishedInGrace) {
    run.log('warn', `grace period of ${graceMs} ms over: cutting ${run.active} in-flight passes`);
    cutCtl.abort();
    await all;
  }
  return { stopped };
}

function summarize(run: StageRun, ticks: Tick[], stopped: boolean, arrivals: ArrivalCounts | undefined): StageSummary {
  const { options, jobs } = run;
  const ops = run.recorder.summaries();
  const summary: StageSummary = {
    formatVersion: STAGE_SUMMARY_FORMAT_VERSION,
    agentVersion: E3_VERSION,
    worker: options.worker ?? hostname(),
    model: arrivals ? 'open' : 'closed',
    clients: run.clients,
    clientOffset: run.offset,
    totalClients: run.total,
    assignment: run.mode,
    jobs: jobs.map((j, i) => ({ test: j.description, script: run.scripts[i]!.name, weight: j.weight, clients: arrivals ? 0 : run.counts[i]! })),
    start: Math.round(run.t0),
    end: Math.round(Math.max(run.recorder.lastEnd, run.t0)),
    durationMs: options.durationMs,
    stopped,
    samples: run.recorder.count,
    ...stageCounts(ops),
    ops,
    ticks,
  };
  if (arrivals) summary.arrivals = { rate: options.rate!, ...arrivals.total, lateThresholdMs: options.lateThresholdMs ?? 10 };
  const health = stageHealth(ticks);
  if (health) summary.health = health;
  return summary;
}

function startLine(run: StageRun): string {
  const o = run.options;
  const thinkText = o.thinkTimeMs ? `, think time ${o.thinkTimeMs.min}..${o.thinkTimeMs.max} ms` : '';
  const model = o.rate !== undefined ? `open model, ${o.rate}/s, pool ${run.clients}` : `closed model, clients ${run.offset}..${run.offset + run.clients - 1} of ${run.total}${thinkText}`;
  return `stage start: ${model}, ${o.durationMs} ms, ${run.jobs.length} jobs`;
}

/**
 * Runs one stage on this worker and returns its summary. Writes `<stageDir>/samples.csv` (every sample,
 * streamed), `summary.json` (atomically, last) and `agent.log`.
 *
 * Closed model (`clients`): global clients `clientOffset … clientOffset+clients−1` each loop the job
 * `assignJobs(weights, totalClients, assignment)` gives them until the stage ends, pausing for the think
 * time (the job's `thinkTime`, else `thinkTimeMs`, drawn from `random`) after each pass. Open model (`rate`):
 * arrivals every 1/rate s, each run by a free virtual user of the pool; latency counts from the intended
 * start; arrivals that wait are late, those beyond `maxQueue` or still waiting at the end are dropped.
 * When the stage ends, in-flight passes get `graceMs`, then are aborted and recorded as `cut`.
 *
 * Throws E3_INVALID_FILE for an unknown script or unusable test data, E3_IO when files cannot be written.
 */
export async function runStage(options: RunStageOptions): Promise<StageResult> {
  const stopCtl = new AbortController();
  const cutCtl = new AbortController();
  setMaxListeners(0, stopCtl.signal, cutCtl.signal);
  const { run, closeLog } = await prepareStage(options, stopCtl.signal, cutCtl.signal);
  const onOuterAbort = () => stopCtl.abort();
  if (options.signal?.aborted) stopCtl.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });

  // The open model's pool is made first; then the start time (barrier), then load until the stage ends.
  const { clock } = run;
  const pool = options.rate !== undefined ? openPool(run) : undefined;
  if (options.startAt !== undefined && options.startAt > clock.now()) await clock.sleep(options.startAt - clock.now(), stopCtl.signal);
  run.t0 = clock.now();
  run.log('info', startLine(run));
  const arrivals = options.rate !== undefined ? noArrivals() : undefined;
  const ticks = startTicks(run, arrivals);
  const running = arrivals ? [runOpen(run, arrivals, pool)] : runClosed(run);
  const { stopped } = await endStage(run, running, stopCtl, cutCtl);
  const tickList = ticks.stop();

  await runTeardowns(run);
  await Promise.all(run.vus.map((v) => v.close()));
  await rm(run.clientsDir, { recursive: true, force: true }).catch(() => undefined);
  options.signal?.removeEventListener('abort', onOuterAbort);

  const summary = summarize(run, tickList, stopped, arrivals);
  await run.recorder.close();
  const summaryFile = join(options.stageDir, STAGE_SUMMARY_FILE);
  await writeJsonAtomic(summaryFile, summary);
  run.log('info', `stage end: ${run.recorder.count} samples${stopped ? ' (stopped early)' : ''}`);
  await closeLog();
  return { summary, samplesFile: join(options.stageDir, SAMPLES_FILE), summaryFile };
}
