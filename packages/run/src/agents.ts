import { posix } from 'node:path';

import {
  E3Error,
  clientOffsets,
  nodePaths,
  onForcedExit,
  runDirPaths,
  splitClients,
  stageAttemptDirName,
  stageAttemptOf,
  type Snapshot,
  type StageRecord,
  type StageSummary,
  type TickMessage,
  type Workload,
} from '@e3/model';
import { shellQuote, stopByPidFile, type NodeHandle } from '@e3/remote';

import { openChannel, type AgentChannel } from './channel.js';
import type { AgentBundle, RunContext } from './context.js';
import type { StagePlan, ThreadPlan } from './plan.js';

const HELLO_TIMEOUT_MS = 60_000;
const PREPARE_TIMEOUT_MS = 120_000;

/** One worker's agent during a stage, as the stage driver sees it. */
export interface StageWorker {
  index: number;
  node: string;
  channel: Pick<AgentChannel, 'send' | 'onMessage' | 'waitFor'>;
  clients?: number;
  rate?: number;
  clientOffset: number;
  status: StageRecord['workers'][number]['status'];
  error?: string;
  lostAt?: number;
  lastTick?: TickMessage;
  /** Open model: arrivals due and dropped so far, from the worker's ticks. */
  arrivalsSoFar?: { scheduled: number; dropped: number };
  /** The summary of the worker's `done` (absent while running and for a lost worker). */
  summary?: StageSummary;
}

/** A started agent: a stage worker with the process behind it. */
export interface LiveWorker extends StageWorker {
  handle: NodeHandle;
  channel: AgentChannel;
  pidFile: string;
}

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
export async function shipAgent(handle: NodeHandle, bundle: AgentBundle, dataDir: string, run: string, signal?: AbortSignal): Promise<string> {
  if (handle.kind === 'local') return bundle.path;
  const target = nodePaths(dataDir, run).agentBundle;
  const have = await handle.exec(`sha256sum ${shellQuote(target)} 2>/dev/null || true`, { signal });
  if (have.stdout.split(/\s/)[0] !== bundle.hash) {
    await handle.mkdir(target.slice(0, target.lastIndexOf('/')));
    await handle.putFile(bundle.path, target, { mode: 0o644, signal });
  }
  return target;
}

/** The per-worker record of a stage (what stages.json keeps about each worker). */
export function workerRecords(workers: StageWorker[]): StageRecord['workers'] {
  return workers.map((w) => ({
    node: w.node, index: w.index, status: w.status, clientOffset: w.clientOffset,
    ...(w.clients !== undefined ? { clients: w.clients } : {}), ...(w.rate !== undefined ? { rate: w.rate } : {}),
    ...(w.error ? { error: w.error } : {}), ...(w.lostAt ? { lostAt: w.lostAt } : {}),
  }));
}

/** Each worker's load: its clients (closed model) or its arrival rate (open model), and its first client. */
function shares(s: StagePlan, workers: number): Array<Pick<StageWorker, 'clients' | 'rate' | 'clientOffset'>> {
  const clients = s.clients !== undefined ? splitClients(s.clients, workers) : Array.from({ length: workers }, () => 0);
  const offsets = clientOffsets(clients);
  return clients.map((c, wi) => ({
    clientOffset: offsets[wi]!,
    ...(s.clients !== undefined ? { clients: c } : {}),
    ...(s.rate !== undefined ? { rate: s.rate / workers } : {}),
  }));
}

/**
 * Moves the folder of an earlier attempt at this stage (an interrupted one, before `--resume`) aside to
 * the next free `stage-NNN.attempt-N`, so that nothing it recorded is lost and the new attempt starts empty.
 */
export async function keepEarlierAttempt(handle: NodeHandle, stageDir: string, stageIndex: number, signal?: AbortSignal): Promise<string | undefined> {
  if (!(await handle.stat(stageDir))) return undefined;
  const parent = posix.dirname(stageDir);
  const taken = (await handle.readdir(parent)).map((e) => stageAttemptOf(e.name, stageIndex) ?? 0);
  const target = posix.join(parent, stageAttemptDirName(stageIndex, Math.max(0, ...taken) + 1));
  await handle.exec(['mv', '-T', stageDir, target], { signal, check: true });
  return target;
}

interface AgentStart {
  p: ThreadPlan;
  s: StagePlan;
  snapshot: Snapshot;
  workload: Workload;
  node: string;
  wi: number;
  share: Pick<StageWorker, 'clients' | 'rate' | 'clientOffset'>;
}

/** Stops a leftover agent, empties the stage dir, ships and spawns the agent, then `hello` → `prepare` → `ready`. */
async function startAgent(ctx: RunContext, a: AgentStart, started: (w: LiveWorker) => void): Promise<void> {
  const { p, s, node, wi } = a;
  const handle = await ctx.connector.connect(p.workers, node);
  const local = handle.kind === 'local';
  const dataDir = ctx.dataDir(p.workers, node);
  const np = nodePaths(dataDir, ctx.run);
  const pidFile = np.pidFile(p.index, wi);
  await stopByPidFile(handle, pidFile, { graceMs: 2000 }).catch(() => undefined);
  const stageDir = local ? runDirPaths(ctx.runDir).stageDir(p.index, wi, s.index) : np.stageDir(p.index, wi, s.index);
  await keepEarlierAttempt(handle, stageDir, s.index, ctx.signal);
  await handle.mkdir(np.pidDir);
  const agentPath = await shipAgent(handle, ctx.bundle, dataDir, ctx.run, ctx.signal);
  const nodeBin = local ? process.execPath : 'node';
  // No abort signal: an interrupt reaches the agent as the stage's `stop` (in-flight work gets the grace
  // period, then is cut); a signal to its process group would kill its git children at once. A forced
  // exit (second Ctrl-C) kills the group, synchronously.
  const proc = handle.spawn(`echo $$ > ${shellQuote(pidFile)}; exec ${shellQuote(nodeBin)} ${shellQuote(agentPath)} --stdio`);
  const unregister = onForcedExit(() => proc.kill('KILL'));
  void proc.wait().then(unregister);
  const channel = openChannel(proc, node);
  started({ index: wi, node, handle, channel, pidFile, ...a.share, status: 'running' });
  await channel.waitFor('hello', { timeoutMs: HELLO_TIMEOUT_MS, signal: ctx.signal });
  const scripts = ctx.inputs.userScripts(s.workload);
  channel.send({
    type: 'prepare',
    stageDir,
    workDir: np.workDir(p.index, wi),
    workload: a.workload,
    instance: p.sut.instance as Record<string, unknown>,
    snapshot: a.snapshot as unknown as Record<string, unknown>,
    worker: `${p.workers.stack}/${node}`,
    ...(Object.keys(scripts).length ? { scripts } : {}),
  });
  await channel.waitFor('ready', { timeoutMs: PREPARE_TIMEOUT_MS, signal: ctx.signal });
}

/**
 * Starts one prepared agent per worker of the thread for stage `s` and sets `record.workers`.
 * If any fails, every agent started so far is killed and the error is thrown.
 */
export async function startAgents(ctx: RunContext, p: ThreadPlan, s: StagePlan, snapshot: Snapshot, record: StageRecord): Promise<LiveWorker[]> {
  const nodes = p.workers.instance.ClusterNodes;
  const share = shares(s, nodes.length);
  const workload = await ctx.inputs.workload(s.workload);
  const live: LiveWorker[] = [];
  try {
    await Promise.all(nodes.map((node, wi) => startAgent(ctx, { p, s, snapshot, workload, node, wi, share: share[wi]! }, (w) => live.push(w))));
  } catch (err) {
    for (const w of live) {
      w.channel.end();
      w.channel.process.kill('TERM');
    }
    throw err;
  }
  live.sort((a, b) => a.index - b.index);
  record.workers = workerRecords(live);
  return live;
}

/** Ends every agent's input, waits up to 5 s for each to close its output, then stops what is left by pid file. */
export async function stopAgents(live: LiveWorker[]): Promise<void> {
  for (const w of live) w.channel.end();
  await Promise.all(live.map((w) => Promise.race([w.channel.closed, delay(5000)])));
  await Promise.all(live.map((w) => stopByPidFile(w.handle, w.pidFile, { graceMs: 2000 }).catch(() => undefined)));
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
