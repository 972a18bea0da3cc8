import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  E3_VERSION,
  AGENT_LOG_FILE,
  E3Error,
  SAMPLES_FILE,
  STAGE_SUMMARY_FILE,
  STAGE_SUMMARY_FORMAT_VERSION,
  assignJobs,
  thinkTimeMs,
  writeJsonAtomic,
  type AssignmentMode,
  type Job,
  type StageSummary,
  type ThinkTimeMs,
  type Tick,
} from '@e3/model';

import { createTestData, type TestData, type User } from '../data/provider.js';
import { createGitRunner, type GitApi } from '../git/runner.js';
import { createHttpClient } from '../http/client.js';
import { isOpFailure, opFailure, redact } from '../recorder/errors.js';
import { createRecorder } from '../recorder/recorder.js';
import { now, type OpSink } from '../recorder/sink.js';
import type { Script, ScriptContext } from '../script/api.js';
import { classify } from '../script/failures.js';
import { resolveScript } from '../script/registry.js';

/** One job of a workload, as in the workload file (`Job` of @e3/model). */
export type WorkloadJob = Job;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFn = (level: LogLevel, message: string) => void;

export interface RunStageOptions {
  workload: readonly WorkloadJob[];
  /** E³ instance file content (URL with context path, RunConfig.admin_password; e3: SshPort, SshHost, DirectURL). */
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
}

export interface StageResult {
  summary: StageSummary;
  samplesFile: string;
  summaryFile: string;
}

interface Vu {
  client: number;
  iteration: number;
  job: number;
  intended: number | undefined;
  passBytes: number;
  /** Think time (ctx.sleep) of the current pass, left out of its transaction duration. */
  slept: number;
  /** Jobs this virtual user has run (their teardowns run at the end). */
  ran: Set<number>;
  httpUser: User | undefined;
  sshUser: User | undefined;
  state: Record<string, unknown>;
  ctx: ScriptContext;
  close(): Promise<void>;
}

const STAGE_ENDED = Symbol.for('e3.agent.stageEnded');

const delay = (ms: number, signal?: AbortSignal): Promise<boolean> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = Number.isFinite(ms)
      ? setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve(true);
        }, Math.max(0, ms))
      : undefined;
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

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
  const random = options.random ?? Math.random;
  const open = options.rate !== undefined;
  const jobs = options.workload;
  if (jobs.length === 0) throw new E3Error('INVALID_FILE', 'the workload has no job', { hint: 'Add jobs to the workload file in e3-home/workloads/.' });
  const scripts = jobs.map((j) => resolveScript(j.script, options.userScripts));
  /** A transaction's op: its script's last name part. */
  const txOps = scripts.map((s) => s.name.split('.').pop()!);
  const data: TestData = createTestData(options);
  const clients = options.clients ?? (open ? 64 : 0);
  const offset = options.clientOffset ?? 0;
  const total = options.totalClients ?? offset + clients;
  const mode = options.assignment ?? 'weighted';
  const weights = jobs.map((j) => j.weight);
  const graceMs = options.graceMs ?? 5000;
  const thinks = jobs.map((j) => (j.thinkTime !== undefined ? thinkTimeMs(j.thinkTime) : options.thinkTimeMs));
  const thinkFor = (job: number): number => {
    const t = thinks[job];
    return t ? t.min + random() * (t.max - t.min) : 0;
  };
  const workDir = options.workDir ?? join(tmpdir(), 'e3-agent-work');
  const runDir = join(workDir, 'clients', `${process.pid}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`);
  const sharedDir = join(workDir, 'shared');

  await mkdir(options.stageDir, { recursive: true });
  await mkdir(sharedDir, { recursive: true });
  const logStream = createWriteStream(join(options.stageDir, AGENT_LOG_FILE), { flags: 'a' });
  const log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => {
    const line = redact(message);
    logStream.write(`${new Date().toISOString()} ${level.toUpperCase()} ${line}\n`);
    options.log?.(level, line);
  };
  const recorder = await createRecorder(join(options.stageDir, SAMPLES_FILE));

  const stopCtl = new AbortController();
  const cutCtl = new AbortController();
  setMaxListeners(0, stopCtl.signal, cutCtl.signal);
  const onOuterAbort = () => stopCtl.abort();
  if (options.signal?.aborted) stopCtl.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const homeCache = new Map<string, Promise<NodeJS.ProcessEnv>>();
  const reported = new Set<string>();
  let active = 0;

  const makeVu = (client: number, job: number): Vu => {
    const vuDir = join(runDir, String(client));
    const vu = {
      client, iteration: 0, job, intended: undefined, passBytes: 0, slept: 0, ran: new Set<number>(), httpUser: undefined, sshUser: undefined, state: {},
    } as unknown as Vu;
    const sink: OpSink = (r) => {
      const intended = vu.intended;
      vu.intended = undefined;
      vu.passBytes += r.bytes;
      // Every row has every field, in one order: one object shape for the recorder and the formatter.
      recorder.record({
        start: r.start, duration: intended === undefined ? r.duration : r.start + r.duration - intended, test: jobs[vu.job]!.description,
        op: r.op, kind: 'request', client, iteration: vu.iteration, ok: r.ok, status: r.status, bytes: r.bytes, ttfb: r.ttfb,
        intended, error: r.error === undefined ? undefined : redact(r.error),
      });
    };
    const http = createHttpClient({ baseUrl: data.baseUrl, sink, signal: cutCtl.signal, ...(options.httpTimeoutMs ? { timeoutMs: options.httpTimeoutMs } : {}) });
    const git: GitApi = createGitRunner({ homesDir: join(workDir, 'homes'), sink, signal: cutCtl.signal, homeCache, ...(options.gitTimeoutMs ? { timeoutMs: options.gitTimeoutMs } : {}) });
    vu.ctx = {
      http,
      git,
      data,
      check(condition: unknown, message: string): asserts condition {
        if (!condition) throw opFailure('check', message);
      },
      async sleep(ms: number) {
        const from = now();
        const slept = await delay(ms, stopCtl.signal);
        vu.slept += now() - from;
        if (!slept) throw Object.assign(new Error('stage ended'), { [STAGE_ENDED]: true });
      },
      log: (message: string) => log('info', `client ${client}: ${message}`),
      httpUser: () => (vu.httpUser ??= data.httpUser(random)),
      sshUser: () => (vu.sshUser ??= data.sshUser(random)),
      client,
      get iteration() {
        return vu.iteration;
      },
      get test() {
        return jobs[vu.job]!.description;
      },
      workDir: vuDir,
      sharedDir,
      state: vu.state,
      get options() {
        return jobs[vu.job]!.options ?? {};
      },
      signal: cutCtl.signal,
      random,
    };
    vu.close = () => http.close();
    return vu;
  };

  const pass = async (vu: Vu, intended?: number): Promise<boolean> => {
    const job = jobs[vu.job]!;
    const script = scripts[vu.job]!;
    if (options.userPerIteration || job.options?.userPerIteration === true) {
      vu.httpUser = undefined;
      vu.sshUser = undefined;
    }
    vu.intended = intended;
    vu.passBytes = 0;
    vu.slept = 0;
    vu.ran.add(vu.job);
    const samplesBefore = recorder.count;
    active++;
    const start = now();
    let error: string | undefined;
    try {
      await script.run(vu.ctx);
    } catch (err) {
      if (cutCtl.signal.aborted || (err as Record<symbol, unknown>)?.[STAGE_ENDED]) {
        error = 'cut';
      } else {
        error = classify(err).errorText;
        if (!isOpFailure(err)) {
          const key = `${job.description}: ${(err as Error)?.message}`;
          if (!reported.has(key)) {
            reported.add(key);
            log('error', `${key}\n${(err as Error)?.stack ?? ''}`);
          }
        }
      }
    }
    active--;
    if (error === 'cut' && intended === undefined && recorder.count === samplesBefore && !cutCtl.signal.aborted) {
      // Closed model, ended during think time before any operation: nothing happened, nothing to record.
      // (An open-model arrival is always recorded, so arrivals add up.)
      vu.intended = undefined;
      return false;
    }
    const end = now();
    recorder.record({
      start, duration: end - (intended ?? start) - vu.slept, test: job.description, op: txOps[vu.job]!, kind: 'transaction',
      client: vu.client, iteration: vu.iteration, ok: error === undefined, status: 0, bytes: vu.passBytes, ttfb: undefined, intended, error,
    });
    vu.intended = undefined;
    vu.iteration++;
    return error === undefined;
  };

  // Start time (barrier) and stage end.
  if (options.startAt !== undefined && options.startAt > Date.now()) await delay(options.startAt - Date.now(), stopCtl.signal);
  const t0 = now();
  const stageTimer = setTimeout(() => stopCtl.abort(), options.durationMs);
  const thinkText = options.thinkTimeMs ? `, think time ${options.thinkTimeMs.min}..${options.thinkTimeMs.max} ms` : '';
  log('info', `stage start: ${open ? `open model, ${options.rate}/s, pool ${clients}` : `closed model, clients ${offset}..${offset + clients - 1} of ${total}${thinkText}`}, ${options.durationMs} ms, ${jobs.length} jobs`);

  // Ticks.
  const ticks: Tick[] = [];
  const arrivals = { scheduled: 0, started: 0, late: 0, dropped: 0 };
  let tickArrivals = { scheduled: 0, late: 0, dropped: 0 };
  let second = 0;
  let tickTimer: NodeJS.Timeout | undefined;
  const emitTick = (t: number) => {
    const extra = open ? { arrivals: tickArrivals.scheduled, late: tickArrivals.late, dropped: tickArrivals.dropped } : {};
    tickArrivals = { scheduled: 0, late: 0, dropped: 0 };
    const tick = recorder.tick({ t: Math.round(t), second: second++, active, ...extra });
    ticks.push(tick);
    try {
      options.onTick?.(tick);
    } catch (err) {
      log('warn', `onTick failed: ${(err as Error).message}`);
    }
  };
  const scheduleTick = () => {
    tickTimer = setTimeout(() => {
      emitTick(t0 + (second + 1) * 1000);
      scheduleTick();
    }, Math.max(0, t0 + (second + 1) * 1000 - now()));
  };
  scheduleTick();

  const vus: Vu[] = [];
  const running: Promise<unknown>[] = [];
  const counts = jobs.map(() => 0);

  if (!open) {
    const assignment = assignJobs(weights, total, mode);
    for (let i = 0; i < clients; i++) {
      const client = offset + i;
      const job = assignment[client] ?? 0;
      counts[job]!++;
      const vu = makeVu(client, job);
      vus.push(vu);
      running.push(
        (async () => {
          while (!stopCtl.signal.aborted) {
            const ok = await pass(vu);
            const think = thinkFor(job);
            if (think > 0) await delay(think, stopCtl.signal);
            else if (!ok || vu.iteration % 64 === 0) await new Promise((r) => setImmediate(r));
          }
        })(),
      );
    }
  } else {
    const rate = options.rate!;
    const cycle = assignJobs(weights, Math.max(100, jobs.length), mode);
    const lateMs = options.lateThresholdMs ?? 10;
    const maxQueue = options.maxQueue ?? 10_000;
    const free: Vu[] = [];
    for (let i = 0; i < clients; i++) {
      const vu = makeVu(offset + i, 0);
      vus.push(vu);
      free.push(vu);
    }
    const queue: { k: number; intended: number }[] = [];
    const inflight = new Set<Promise<unknown>>();
    const launch = (vu: Vu, k: number, intended: number) => {
      arrivals.started++;
      if (now() - intended > lateMs) {
        arrivals.late++;
        tickArrivals.late++;
      }
      vu.job = cycle[k % cycle.length]!;
      counts[vu.job]!++;
      const p = pass(vu, intended).then(() => {
        inflight.delete(p);
        const next = stopCtl.signal.aborted ? undefined : queue.shift();
        if (next) launch(vu, next.k, next.intended);
        else free.push(vu);
      });
      inflight.add(p);
    };
    const scheduler = (async () => {
      if (rate <= 0) return;
      const interval = 1000 / rate;
      let k = 0;
      while (!stopCtl.signal.aborted) {
        const due = t0 + k * interval;
        const wait = due - now();
        if (wait > 0.5 && !(await delay(wait, stopCtl.signal))) break;
        const limit = now();
        while (t0 + k * interval <= limit && t0 + k * interval < t0 + options.durationMs) {
          const intended = t0 + k * interval;
          arrivals.scheduled++;
          tickArrivals.scheduled++;
          const vu = free.pop();
          if (vu) launch(vu, k, intended);
          else if (queue.length < maxQueue) queue.push({ k, intended });
          else {
            arrivals.dropped++;
            tickArrivals.dropped++;
          }
          k++;
        }
        if (t0 + k * interval >= t0 + options.durationMs) await delay(Infinity, stopCtl.signal);
      }
      arrivals.dropped += queue.length;
      tickArrivals.dropped += queue.length;
      queue.length = 0;
    })();
    running.push(
      scheduler.then(async () => {
        while (inflight.size > 0) await Promise.all([...inflight]);
      }),
    );
  }

  // End: wait for the stop, then the grace period, then cut.
  await new Promise<void>((resolve) => (stopCtl.signal.aborted ? resolve() : stopCtl.signal.addEventListener('abort', () => resolve(), { once: true })));
  clearTimeout(stageTimer);
  const stopped = now() - t0 < options.durationMs - 1;
  const all = Promise.all(running);
  const graceCtl = new AbortController();
  const finishedInGrace = await Promise.race([all.then(() => true), delay(graceMs, graceCtl.signal).then(() => false)]);
  graceCtl.abort();
  if (!finishedInGrace) {
    log('warn', `grace period of ${graceMs} ms over: cutting ${active} in-flight passes`);
    cutCtl.abort();
    await all;
  }
  clearTimeout(tickTimer);
  emitTick(now());

  // Teardown (unrecorded housekeeping, e.g. deleting pushed branches), then clean up.
  const teardown = async (vu: Vu, script: Script) => {
    const tdCtl = new AbortController();
    const t = setTimeout(() => tdCtl.abort(), 60_000);
    const quietGit = createGitRunner({ homesDir: join(workDir, 'homes'), sink: () => undefined, signal: tdCtl.signal, homeCache });
    const quietHttp = createHttpClient({ baseUrl: data.baseUrl, sink: () => undefined, signal: tdCtl.signal });
    const ctx = {
      ...vu.ctx,
      git: (args, o) => quietGit(args, { ...o, unrecorded: true }),
      http: quietHttp,
      signal: tdCtl.signal,
      state: vu.state,
      sleep: (ms) => delay(ms).then(() => undefined),
    } as ScriptContext;
    try {
      await script.teardown!(ctx);
    } catch (err) {
      log('warn', `teardown of ${script.name} for client ${vu.client} failed: ${classify(err).errorText}`);
    } finally {
      clearTimeout(t);
      await quietHttp.close();
    }
  };
  for (const vu of vus) {
    if (Object.keys(vu.state).length === 0) continue;
    for (const script of new Set([...vu.ran].map((j) => scripts[j]!))) if (script.teardown) await teardown(vu, script);
  }
  await Promise.all(vus.map((v) => v.close()));
  await rm(runDir, { recursive: true, force: true }).catch(() => undefined);
  options.signal?.removeEventListener('abort', onOuterAbort);

  const ops = recorder.summaries();
  await recorder.close();
  const summary: StageSummary = {
    formatVersion: STAGE_SUMMARY_FORMAT_VERSION,
    agentVersion: E3_VERSION,
    worker: options.worker ?? hostname(),
    model: open ? 'open' : 'closed',
    clients,
    clientOffset: offset,
    totalClients: total,
    assignment: mode,
    jobs: jobs.map((j, i) => ({ test: j.description, script: scripts[i]!.name, weight: j.weight, clients: open ? 0 : counts[i]! })),
    start: Math.round(t0),
    end: Math.round(Math.max(recorder.lastEnd, t0)),
    durationMs: options.durationMs,
    stopped,
    samples: recorder.count,
    ops,
    ticks,
  };
  if (open) summary.arrivals = { rate: options.rate!, ...arrivals, lateThresholdMs: options.lateThresholdMs ?? 10 };
  const summaryFile = join(options.stageDir, STAGE_SUMMARY_FILE);
  await writeJsonAtomic(summaryFile, summary);
  log('info', `stage end: ${recorder.count} samples${stopped ? ' (stopped early)' : ''}`);
  await new Promise<void>((r) => logStream.end(() => r()));
  return { summary, samplesFile: join(options.stageDir, SAMPLES_FILE), summaryFile };
}
