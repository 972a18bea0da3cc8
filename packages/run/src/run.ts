import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import {
  DEFAULT_NODE_DATA_DIR,
  bundleUserScript,
  E3_VERSION,
  E3Error,
  durationMs,
  findHomeFile,
  isE3Error,
  isUserScriptPath,
  loadFile,
  nodePaths,
  readRunFile,
  readStages,
  homeRunDir,
  resolveHome,
  runDirPaths,
  splitClients,
  clientOffsets,
  stageKey,
  thinkTimeMs,
  threadMachines,
  threadName,
  workloadJobs,
  writePhaseStatus,
  writeStages,
  type RunFile,
  type Snapshot,
  type StackMachines,
  type StageRecord,
  type ThinkTimeMs,
  type TickMessage,
  type WorkloadFile,
} from '@e3/model';
import { createStackConnector, shellQuote, stopByPidFile, type NodeHandle } from '@e3/remote';

import { openChannel, type AgentChannel } from './channel.js';
import { combineTicks, type ThreadProgress } from './progress.js';
import { resetInstance } from './reset.js';
import { removeRunScratch } from './scratch.js';

export interface RunOptions {
  /** The run name (a folder of e3-home/runs). */
  run: string;
  home?: string;
  cwd?: string;
  /** The agent bundle (`e3-agent.cjs`) on this machine; shipped to workers that lack it. */
  agentBundle: string;
  /** Start at the first stage that did not finish (succeeded or degraded) in an earlier attempt. */
  resume?: boolean;
  /** Stop the run at the first lost worker instead of marking the stage degraded. */
  failFast?: boolean;
  /** Skip SSH host-key checks (never the default). */
  insecureHostKeys?: boolean;
  /** How long in-flight operations may finish after a stage ends (ms, default 5000). */
  graceMs?: number;
  /** Overrides each instance's health timeout (ms). */
  healthTimeoutMs?: number;
  signal?: AbortSignal;
  log?(message: string): void;
  /** Live progress of each thread (about once a second while load runs). */
  onProgress?(progress: ThreadProgress): void;
}

export interface RunResult {
  run: string;
  runDir: string;
  status: 'succeeded' | 'partial' | 'failed' | 'aborted';
  threads: Array<{ name: string; stages: StageRecord[] }>;
}

type Machines = StackMachines;

interface ThreadPlan {
  index: number;
  name: string;
  sut: Machines;
  workers: Machines;
  /** `thinkTimeMs`: closed model only, the stage's, else the thread's, else the experiment's. */
  stages: Array<{ index: number; clients?: number; rate?: number; durationMs: number; workload: string; thinkTimeMs?: ThinkTimeMs }>;
}

const HELLO_TIMEOUT_MS = 60_000;
const PREPARE_TIMEOUT_MS = 120_000;

async function plan(home: string, runDir: string, runFile: RunFile): Promise<ThreadPlan[]> {
  return Promise.all(
    runFile.threads.map(async (t, ti) => ({
      index: ti,
      name: threadName(t, ti),
      sut: await threadMachines(home, runDir, runFile, ti, 'instance'),
      workers: await threadMachines(home, runDir, runFile, ti, 'worker'),
      stages: t.stages.map((s, si) => {
        const duration = s.duration ?? runFile.duration;
        const workload = s.workload ?? runFile.workload;
        if (duration === undefined || workload === undefined) {
          throw new E3Error('INVALID_FILE', `${runDirPaths(runDir).runFile}: /threads/${ti}/stages/${si}: no ${duration === undefined ? 'duration' : 'workload'}`, {
            hint: 'Set it on the stage or at the top level of the experiment, then provision again',
          });
        }
        const thinkTime = s.thinkTime ?? t.thinkTime ?? runFile.thinkTime;
        return {
          index: si, clients: s.clients, rate: s.rate, durationMs: durationMs(duration), workload,
          ...(thinkTime !== undefined && s.clients !== undefined ? { thinkTimeMs: thinkTimeMs(thinkTime) } : {}),
        };
      }),
    })),
  );
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Checks Node ≥ 20 and git on a worker; throws E3_ENVIRONMENT naming the node and what is missing. */
export async function checkWorker(handle: NodeHandle, signal?: AbortSignal): Promise<void> {
  const r = await handle.exec('node --version; git --version', { timeoutMs: 30_000, signal });
  const nodeVersion = /^v(\d+)\./m.exec(r.stdout);
  const problems: string[] = [];
  if (!nodeVersion) problems.push('node is missing');
  else if (Number(nodeVersion[1]) < 20) problems.push(`node ${nodeVersion[0]}x is older than 20`);
  if (!/^git version/m.test(r.stdout)) problems.push('git is missing');
  if (problems.length) {
    throw new E3Error('ENVIRONMENT', `worker ${handle.node}: ${problems.join(', ')}`, {
      hint: `Install Node ≥ 20 and git on ${handle.node} (\`e3 nodes setup\` does it)`,
    });
  }
}

/** Ships the agent bundle unless the worker already has the same bytes. Returns its path there. */
async function shipAgent(handle: NodeHandle, bundle: { path: string; hash: string }, dataDir: string, run: string, signal?: AbortSignal): Promise<string> {
  if (handle.kind === 'local') return bundle.path;
  const target = nodePaths(dataDir, run).agentBundle;
  const have = await handle.exec(`sha256sum ${shellQuote(target)} 2>/dev/null || true`, { signal });
  if (have.stdout.split(/\s/)[0] !== bundle.hash) {
    await handle.mkdir(target.slice(0, target.lastIndexOf('/')));
    await handle.putFile(bundle.path, target, { mode: 0o644, signal });
  }
  return target;
}

interface LiveWorker {
  index: number;
  node: string;
  handle: NodeHandle;
  channel: AgentChannel;
  pidFile: string;
  clients?: number;
  rate?: number;
  clientOffset: number;
  status: StageRecord['workers'][number]['status'];
  error?: string;
  lostAt?: number;
  lastTick?: TickMessage;
}

/** Splits a barrier-synchronised stage start across threads. */
function createBarrier(parties: number) {
  const arrived = new Map<number, { count: number; release: () => void; done: Promise<void> }>();
  let left = parties;
  const entry = (stage: number) => {
    let e = arrived.get(stage);
    if (!e) {
      let release!: () => void;
      const done = new Promise<void>((r) => (release = r));
      e = { count: 0, release, done };
      arrived.set(stage, e);
    }
    return e;
  };
  return {
    async arrive(stage: number): Promise<void> {
      const e = entry(stage);
      e.count++;
      if (e.count >= left) e.release();
      await e.done;
    },
    /** A thread that has no more stages (or failed) stops counting. */
    leave() {
      left--;
      for (const e of arrived.values()) if (e.count >= left) e.release();
    },
  };
}

/**
 * Runs every thread of a provisioned run, stage by stage, on its workers (ARCHITECTURE "Load model").
 * Reads the run file; writes `phases/run.json` (running first, its outcome last) and
 * `thread-NNN/stages.json` after every stage change; agents write samples into the worker stage dirs
 * (directly into the run dir for `localhost` workers). Throws E3_PHASE_NOT_READY, E3_NODE_* (before any
 * load), E3_ENVIRONMENT, E3_INTERRUPTED (after stopping every agent; data kept).
 */
export async function runExperiment(options: RunOptions): Promise<RunResult> {
  const log = options.log ?? (() => undefined);
  const home = resolveHome({ home: options.home, cwd: options.cwd });
  const runDir = homeRunDir(home, options.run);
  const runFile = await readRunFile(runDir);
  const plans = await plan(home, runDir, runFile);
  const startedAt = new Date().toISOString();
  const signal = options.signal;
  const connector = createStackConnector({
    insecure: options.insecureHostKeys,
    onPinned: (node, fp) => log(`pinned the host key of ${node}: ${fp}`),
    keyDirs: [runDirPaths(runDir).instancesDir],
    signal,
  });
  if (options.insecureHostKeys) log('--insecure-host-keys: SSH host keys are NOT checked');

  let bundle: { path: string; hash: string };
  try {
    const bytes = await readFile(options.agentBundle);
    bundle = { path: options.agentBundle, hash: sha256(bytes) };
  } catch (err) {
    throw new E3Error('ENVIRONMENT', `the agent bundle ${options.agentBundle} is missing`, { cause: err, hint: 'Build it with `pnpm build`' });
  }

  const workloads = new Map<string, Array<{ script: string }>>();
  const userScripts = new Map<string, Record<string, string>>();
  const snapshots = new Map<string, Snapshot>();
  const loadWorkload = async (name: string) => {
    if (!workloads.has(name)) {
      const file = findHomeFile(home, 'workload', name);
      if (!file) throw new E3Error('FILE_NOT_FOUND', `workload "${name}" not found in ${home}/workloads`, { hint: `Create e3-home/workloads/${name}.json` });
      const jobs = workloadJobs(await loadFile<WorkloadFile>('workload', file));
      workloads.set(name, jobs);
      // User scripts (a job's script is a .ts/.js file, relative to the workload file) are bundled here
      // once and travel to every agent in `prepare`.
      const scripts: Record<string, string> = {};
      for (const job of jobs) {
        if (isUserScriptPath(job.script) && !scripts[job.script]) scripts[job.script] = await bundleUserScript(resolve(dirname(file), job.script));
      }
      userScripts.set(name, scripts);
    }
    return workloads.get(name)!;
  };
  const loadSnapshot = async (name: string) => {
    if (!snapshots.has(name)) {
      const file = findHomeFile(home, 'snapshot', name);
      if (!file) throw new E3Error('FILE_NOT_FOUND', `snapshot "${name}" not found in ${home}/snapshots`, { hint: `Create it with \`e3 snapshot --name ${name}\`` });
      snapshots.set(name, await loadFile<Snapshot>('snapshot', file));
    }
    return snapshots.get(name)!;
  };

  // Before any load: every worker reachable with Node ≥ 20 and git; every file a stage needs loads.
  try {
    const checks = plans.flatMap((p) => p.workers.instance.ClusterNodes.map(async (node) => checkWorker(await connector.connect(p.workers, node), signal)));
    const results = await Promise.allSettled(checks);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    if (failures.length) throw failures.length === 1 ? failures[0] : combine(failures);
    for (const p of plans) {
      for (const s of p.stages) await loadWorkload(s.workload);
      const snap = p.sut.instance.snapshot ?? runFile.threads[p.index]!.instance.snapshot;
      if (snap) await loadSnapshot(snap);
    }
  } catch (err) {
    await connector.closeAll();
    throw err;
  }

  await writePhaseStatus(runDir, { phase: 'run', status: 'running', startedAt, version: E3_VERSION, pid: process.pid });
  const barrier = runFile.barrier ? createBarrier(plans.length) : undefined;
  const records: StageRecord[][] = [];

  const runThread = async (p: ThreadPlan): Promise<void> => {
    const previous = options.resume ? await readStages(runDir, p.index) : undefined;
    const stages: StageRecord[] = p.stages.map((s) => {
      const old = previous?.stages[s.index];
      if (old && (old.status === 'succeeded' || old.status === 'degraded')) return old;
      return {
        index: s.index,
        key: stageKey(s.index),
        workload: s.workload,
        duration: s.durationMs,
        ...(s.clients !== undefined ? { clients: s.clients } : { rate: s.rate }),
        workers: [],
        status: 'pending',
      };
    });
    records[p.index] = stages;
    const save = () => writeStages(runDir, { thread: p.index, name: p.name, stages });
    await save();
    const snapshotName = p.sut.instance.snapshot ?? runFile.threads[p.index]!.instance.snapshot;
    const snapshot = snapshotName ? await loadSnapshot(snapshotName) : { name: 'none', projects: [], users: [] };
    let lastEnd: number | undefined;

    try {
      for (const s of p.stages) {
        const record = stages[s.index]!;
        if (record.status === 'succeeded' || record.status === 'degraded') continue;
        if (signal?.aborted) throw new E3Error('INTERRUPTED', 'interrupted');
        const prepStart = Date.now();
        const progress = (phase: ThreadProgress['phase'], extra: Partial<ThreadProgress> = {}) =>
          options.onProgress?.({
            thread: p.index, name: p.name, stage: s.index, stages: p.stages.length,
            load: s.clients !== undefined ? `${s.clients} clients` : `${s.rate}/s`, phase, elapsedMs: 0, durationMs: s.durationMs,
            tps: 0, errorRate: 0, p95: 0, workersLost: 0, ...extra,
          });
        progress('reset');
        record.resetMs = Math.round(
          await resetInstance({
            instance: p.sut.instance,
            stack: p.sut.stack,
            clusterNodes: () => Promise.all(p.sut.instance.ClusterNodes.map((n) => connector.connect(p.sut, n))),
            signal,
            healthTimeoutMs: options.healthTimeoutMs,
          }),
        );
        progress('starting');
        const live = await startAgents(p, s, snapshot, record);
        try {
          if (barrier) await barrier.arrive(s.index);
          const startAt = Date.now() + 100;
          record.start = startAt;
          record.overheadMs = Math.max(0, startAt - (lastEnd ?? prepStart) - record.resetMs);
          record.status = 'running';
          await save();
          await driveStage(p, s, live, record, startAt, progress);
        } finally {
          for (const w of live) w.channel.end();
          await Promise.all(live.map((w) => Promise.race([w.channel.closed, delay(5000)])));
          await Promise.all(live.map((w) => stopByPidFile(w.handle, w.pidFile, { graceMs: 2000 }).catch(() => undefined)));
        }
        lastEnd = record.end;
        await save();
        if ((record.status as StageRecord['status']) === 'failed') throw new E3Error('RUN_FAILED', `stage ${s.index} of thread "${p.name}" failed: ${record.workers.map((w) => w.error).filter(Boolean).join('; ')}`, {
          hint: `See the agent logs under ${runDirPaths(runDir).threadDir(p.index)}; \`e3 run -r ${options.run} --resume\` retries from this stage`,
        });
        progress('done');
      }
    } catch (err) {
      // The stage that was running ends aborted (interrupt) or failed; later stages stay pending for --resume.
      const interruptedHere = isE3Error(err) && err.code === 'E3_INTERRUPTED';
      for (const st of stages) if (st.status === 'running') st.status = interruptedHere ? 'aborted' : 'failed';
      await save();
      throw err;
    } finally {
      barrier?.leave();
    }
  };

  const startAgents = async (p: ThreadPlan, s: ThreadPlan['stages'][number], snapshot: Snapshot, record: StageRecord): Promise<LiveWorker[]> => {
    const nodes = p.workers.instance.ClusterNodes;
    const shares = s.clients !== undefined ? splitClients(s.clients, nodes.length) : nodes.map(() => 0);
    const offsets = clientOffsets(shares);
    const rates = s.rate !== undefined ? nodes.map(() => s.rate! / nodes.length) : undefined;
    const workload = await loadWorkload(s.workload);
    const paths = runDirPaths(runDir);
    const live: LiveWorker[] = [];
    try {
      await Promise.all(
        nodes.map(async (node, wi) => {
          const handle = await connector.connect(p.workers, node);
          const local = handle.kind === 'local';
          const dataDir = p.workers.instance.dataDir ?? (local ? join(tmpdir(), 'e3') : DEFAULT_NODE_DATA_DIR);
          const np = nodePaths(dataDir, options.run);
          const pidFile = np.pidFile(p.index, wi);
          await stopByPidFile(handle, pidFile, { graceMs: 2000 }).catch(() => undefined);
          const stageDir = local ? paths.stageDir(p.index, wi, s.index) : np.stageDir(p.index, wi, s.index);
          if (local) await rm(stageDir, { recursive: true, force: true });
          else await handle.exec(`rm -rf ${shellQuote(stageDir)}`, { signal, check: true });
          await handle.mkdir(np.pidDir);
          const agentPath = await shipAgent(handle, bundle, dataDir, options.run, signal);
          const nodeBin = local ? process.execPath : 'node';
          const proc = handle.spawn(`echo $$ > ${shellQuote(pidFile)}; exec ${shellQuote(nodeBin)} ${shellQuote(agentPath)} --stdio`, { signal });
          const channel = openChannel(proc, node);
          const w: LiveWorker = { index: wi, node, handle, channel, pidFile, clientOffset: offsets[wi]!, status: 'running' };
          if (s.clients !== undefined) w.clients = shares[wi];
          if (rates) w.rate = rates[wi];
          live.push(w);
          await channel.waitFor('hello', { timeoutMs: HELLO_TIMEOUT_MS, signal });
          channel.send({
            type: 'prepare',
            stageDir,
            workDir: np.workDir(p.index, wi),
            workload: workload as never,
            instance: p.sut.instance as Record<string, unknown>,
            snapshot: snapshot as unknown as Record<string, unknown>,
            worker: `${p.workers.stack}/${node}`,
            ...(Object.keys(userScripts.get(s.workload) ?? {}).length ? { scripts: userScripts.get(s.workload) } : {}),
          });
          await channel.waitFor('ready', { timeoutMs: PREPARE_TIMEOUT_MS, signal });
        }),
      );
    } catch (err) {
      for (const w of live) {
        w.channel.end();
        w.channel.process.kill('TERM');
      }
      throw err;
    }
    live.sort((a, b) => a.index - b.index);
    record.workers = live.map((w) => ({
      node: w.node, index: w.index, status: 'running' as const, clientOffset: w.clientOffset,
      ...(w.clients !== undefined ? { clients: w.clients } : {}), ...(w.rate !== undefined ? { rate: w.rate } : {}),
    }));
    return live;
  };

  const driveStage = async (
    p: ThreadPlan, s: ThreadPlan['stages'][number], live: LiveWorker[], record: StageRecord, startAt: number,
    progress: (phase: ThreadProgress['phase'], extra?: Partial<ThreadProgress>) => void,
  ) => {
    const total = s.clients ?? 0;
    for (const w of live) {
      w.channel.onMessage((m) => {
        if (m.type === 'tick') w.lastTick = m;
        else if (m.type === 'log' && (m.level === 'warn' || m.level === 'error')) log(`${w.node}: ${m.message}`);
      });
      w.channel.send({
        type: 'start',
        durationMs: s.durationMs,
        ...(w.clients !== undefined ? { clients: w.clients, clientOffset: w.clientOffset, totalClients: total } : {}),
        ...(w.rate !== undefined ? { rate: w.rate } : {}),
        assignment: runFile.assignment ?? 'weighted',
        ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
        ...(s.thinkTimeMs ? { thinkTimeMs: s.thinkTimeMs } : {}),
        startAt,
      });
    }
    let stopping = false;
    const onAbort = () => {
      stopping = true;
      for (const w of live) w.channel.send({ type: 'stop', reason: 'interrupted' });
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const ticker = setInterval(() => {
      const ticks = live.filter((w) => w.status === 'running' && w.lastTick).map((w) => w.lastTick!);
      const c = combineTicks(ticks);
      progress(stopping || Date.now() - startAt >= s.durationMs ? 'stopping' : 'load', {
        elapsedMs: Math.min(s.durationMs, Date.now() - startAt), ...c, workersLost: live.filter((w) => w.status === 'degraded' || w.status === 'failed').length,
      });
    }, 1000);
    try {
      await Promise.all(
        live.map(async (w) => {
          try {
            await w.channel.waitFor('done', { timeoutMs: s.durationMs + 120_000 + (startAt - Date.now()) });
            w.status = signal?.aborted ? 'aborted' : 'succeeded';
          } catch (err) {
            w.status = signal?.aborted ? 'aborted' : 'degraded';
            w.error = (err as Error).message;
            w.lostAt = Date.now();
            log(`worker ${w.node} lost in stage ${s.index} of thread "${p.name}": ${w.error}`);
            if (options.failFast && !signal?.aborted) {
              for (const other of live) other.channel.send({ type: 'stop', reason: `fail-fast: ${w.node} lost` });
            }
          }
        }),
      );
    } finally {
      clearInterval(ticker);
      signal?.removeEventListener('abort', onAbort);
    }
    record.end = Date.now();
    record.workers = live.map((w) => ({
      node: w.node, index: w.index, status: w.status, clientOffset: w.clientOffset,
      ...(w.clients !== undefined ? { clients: w.clients } : {}), ...(w.rate !== undefined ? { rate: w.rate } : {}),
      ...(w.error ? { error: w.error } : {}), ...(w.lostAt ? { lostAt: w.lostAt } : {}),
    }));
    const lost = live.filter((w) => w.status === 'degraded');
    if (signal?.aborted) record.status = 'aborted';
    else if (lost.length === live.length || (lost.length && options.failFast)) record.status = 'failed';
    else record.status = lost.length ? 'degraded' : 'succeeded';
    if (signal?.aborted) throw new E3Error('INTERRUPTED', 'interrupted');
  };

  let failure: unknown;
  let interrupted: boolean;
  try {
    const results = await Promise.allSettled(plans.map(runThread));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    interrupted = Boolean(signal?.aborted) || failed.some((e) => isE3Error(e) && e.code === 'E3_INTERRUPTED');
    if (failed.length) failure = interrupted ? new E3Error('INTERRUPTED', `run ${options.run} interrupted; every agent was stopped and the data so far is kept`, { hint: `Continue with \`e3 run -r ${options.run} --resume\`` }) : failed.length === 1 ? failed[0] : combine(failed);
  } finally {
    await removeRunScratch(plans.map((p) => p.workers), options.run, (m, node) => connector.connect(m, node), log);
    await connector.closeAll();
  }
  const all = records.flat();
  const status: RunResult['status'] = interrupted ? 'aborted' : failure ? 'failed' : all.some((r) => r.status === 'degraded') ? 'partial' : 'succeeded';
  const err = failure && isE3Error(failure) ? { code: failure.code, message: failure.message, ...(failure.hint ? { hint: failure.hint } : {}) } : failure ? { code: 'E3_BUG', message: String(failure) } : undefined;
  await writePhaseStatus(runDir, { phase: 'run', status, startedAt, finishedAt: new Date().toISOString(), version: E3_VERSION, ...(err ? { error: err } : {}) });
  if (failure) throw failure;
  return { run: options.run, runDir, status, threads: plans.map((p) => ({ name: p.name, stages: records[p.index]! })) };
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

function combine(errors: unknown[]): E3Error {
  const coded = errors.filter(isE3Error);
  const first = coded[0];
  return new E3Error(first?.code ?? 'RUN_FAILED', errors.map((e) => (e as Error).message).join('\n'), { hint: first?.hint });
}
