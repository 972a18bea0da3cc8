import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

import {
  E3Error,
  isE3Error,
  nodeDataDir,
  readRunFile,
  requirePhase,
  resolveHome,
  resolveRunDir,
  runDirPaths,
  withPhase,
  type RunFile,
  type StageRecord,
} from '@e3/model';
import { createStackConnector, type StackConnector } from '@e3/remote';

import { checkWorker } from './agents.js';
import { createBarrier } from './barrier.js';
import { systemClock, type AgentBundle, type RunContext } from './context.js';
import { createInputs, type RunInputs } from './inputs.js';
import { startMonitors } from './monitors.js';
import { plan, snapshotOf, type ThreadPlan } from './plan.js';
import type { ThreadProgress } from './progress.js';
import { removeRunScratch } from './scratch.js';
import { runThread } from './thread.js';

export { checkWorker } from './agents.js';

export interface RunOptions {
  /** The run: a name in e3-home/runs or archive, or the path of a run folder (resolveRunDir). */
  run: string;
  /** Run even though provision failed or is still running. */
  force?: boolean;
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

/**
 * Runs every thread of a provisioned run, stage by stage, on its workers (ARCHITECTURE "Load model").
 * Reads the run file; writes `phases/run.json` (running first, its outcome last) and
 * `thread-NNN/stages.json` after every stage change; agents write samples into the worker stage dirs
 * (directly into the run dir for `localhost` workers). Throws E3_PHASE_NOT_READY, E3_NODE_* (before any
 * load), E3_ENVIRONMENT, E3_INTERRUPTED (after stopping every agent; data kept). Needs provision not to
 * have failed nor be running (a run dir without a provision status, written by hand, is fine) unless `force`.
 */
export async function runExperiment(options: RunOptions): Promise<RunResult> {
  const home = resolveHome({ home: options.home, cwd: options.cwd });
  const runDir = resolveRunDir(home, options.run, { cwd: options.cwd });
  await requirePhase(runDir, 'provision', { next: 'run', allowMissing: true, force: options.force });
  const named = { ...options, run: basename(runDir) };
  return withPhase(runDir, 'run', () => runIn(home, runDir, named), { signal: options.signal, outcome: (r) => ({ status: r.status }) });
}

async function runIn(home: string, runDir: string, options: RunOptions): Promise<RunResult> {
  const log = options.log ?? (() => undefined);
  const runFile = await readRunFile(runDir);
  const plans = await plan(home, runDir, runFile);
  const signal = options.signal;
  const connector = createStackConnector({
    insecure: options.insecureHostKeys,
    onPinned: (node, fp) => log(`pinned the host key of ${node}: ${fp}`),
    keyDirs: [runDirPaths(runDir).instancesDir],
    signal,
  });
  if (options.insecureHostKeys) log('--insecure-host-keys: SSH host keys are NOT checked');

  const bundle = await readBundle(options.agentBundle);
  const inputs = createInputs(home);
  await preflight(plans, runFile, connector, inputs, signal);

  const records: StageRecord[][] = [];
  const ctx: RunContext = {
    run: options.run, runDir, runFile, connector, bundle, inputs, signal, log,
    resume: Boolean(options.resume), failFast: Boolean(options.failFast), graceMs: options.graceMs, healthTimeoutMs: options.healthTimeoutMs,
    assignment: runFile.assignment ?? 'weighted', clock: systemClock, onProgress: options.onProgress,
    barrier: runFile.barrier ? createBarrier(plans.length) : undefined,
    dataDir: (workers, node) => nodeDataDir(workers.instance, node),
  };

  let failure: unknown;
  let interrupted: boolean;
  try {
    const monitors = await startMonitors(ctx, plans);
    const results = await Promise.allSettled(plans.map((p) => runThread(ctx, p, records)));
    await monitors.stop();
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    interrupted = Boolean(signal?.aborted) || failed.some((e) => isE3Error(e) && e.code === 'E3_INTERRUPTED');
    if (failed.length) failure = interrupted ? new E3Error('INTERRUPTED', `run ${options.run} interrupted; every agent was stopped and the data so far is kept`, { hint: `Continue with \`e3 run -r ${options.run} --resume\`` }) : failed.length === 1 ? failed[0] : combine(failed);
  } finally {
    await removeRunScratch(plans.map((p) => p.workers), options.run, (m, node) => connector.connect(m, node), log);
    await connector.closeAll();
  }
  const all = records.flat();
  const status: RunResult['status'] = interrupted ? 'aborted' : failure ? 'failed' : all.some((r) => r.status === 'degraded') ? 'partial' : 'succeeded';
  if (failure) throw failure;
  return { run: options.run, runDir, status, threads: plans.map((p) => ({ name: p.name, stages: records[p.index]! })) };
}

function combine(errors: unknown[]): E3Error {
  const coded = errors.filter(isE3Error);
  const first = coded[0];
  return new E3Error(first?.code ?? 'RUN_FAILED', errors.map((e) => (e as Error).message).join('\n'), { hint: first?.hint });
}

async function readBundle(path: string): Promise<AgentBundle> {
  try {
    return { path, hash: createHash('sha256').update(await readFile(path)).digest('hex') };
  } catch (err) {
    throw new E3Error('ENVIRONMENT', `the agent bundle ${path} is missing`, { cause: err, hint: 'Build it with `pnpm build`' });
  }
}

/** Before any load: every worker reachable with Node ≥ 20 and git; every file a stage needs loads. Closes the connector when not. */
async function preflight(plans: ThreadPlan[], runFile: RunFile, connector: StackConnector, inputs: RunInputs, signal?: AbortSignal): Promise<void> {
  try {
    const checks = plans.flatMap((p) => p.workers.instance.ClusterNodes.map(async (node) => checkWorker(await connector.connect(p.workers, node), signal)));
    const results = await Promise.allSettled(checks);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    if (failures.length) throw failures.length === 1 ? failures[0] : combine(failures);
    for (const p of plans) {
      for (const s of p.stages) await inputs.workload(s.workload);
      const snap = snapshotOf(p, runFile);
      if (snap) await inputs.snapshot(snap);
    }
  } catch (err) {
    await connector.closeAll();
    throw err;
  }
}
