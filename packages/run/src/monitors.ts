import { nodeDataDir, nodePaths, onForcedExit, type StackMachines } from '@e3/model';
import { isRunning, startDetached, stopByPidFile, type NodeHandle } from '@e3/remote';

import { shipAgent } from './agents.js';
import type { RunContext } from './context.js';
import type { ThreadPlan } from './plan.js';

/** The built-in samplers e3 started for a run; `stop()` stops each once, by its pid file. */
export interface RunMonitors {
  /** Nodes sampled by e3's sampler, and nodes left to the collectd already running there. */
  started: string[];
  collectd: string[];
  stop(): Promise<void>;
}

interface Started {
  handle: NodeHandle;
  pidFile: string;
  /** Unregisters the forced-exit kill of a local sampler. */
  unregister?: () => void;
}

/**
 * How long a sampler may run at most: every stage's load time plus 15 min per stage (resets, health
 * waits, barriers) and 30 min. It stops itself then, so a controller that died without stopping it
 * (kill -9, a forced second Ctrl-C on a remote node) never leaves it sampling for ever; a resumed run
 * starts a new one.
 */
export function samplerLifetimeMs(plans: ThreadPlan[]): number {
  const threadMs = plans.map((p) => p.stages.reduce((a, s) => a + s.durationMs + 15 * 60_000, 0));
  return Math.max(0, ...threadMs) + 30 * 60_000;
}

/** collectd's CSV folder on a node, as e3's collectd configs write it and gather reads it by default. */
const COLLECTD_CSV_ROOT = '/var/lib/collectd/csv';

/**
 * Prints a file collectd wrote in the last 2 minutes when it runs (its pid probed the way `e3 nodes check`
 * does); nothing when collectd does not run or does not write its CSV where gather looks.
 */
const COLLECTD_WRITING =
  "p=$(pidof collectd 2>/dev/null | awk '{print $1}'); [ -z \"$p\" ] && command -v pgrep >/dev/null 2>&1 && p=$(pgrep -x collectd | head -n 1); " +
  `[ -n "$p" ] && find ${COLLECTD_CSV_ROOT} -type f -mmin -2 2>/dev/null | head -n 1`;

/**
 * Makes sure every machine of the run is sampled for the whole run: on each worker and cluster node
 * (once per host name, whichever thread names it first) where collectd does not run or does not write
 * its CSV to /var/lib/collectd/csv, starts
 * `e3-agent monitor` detached, writing collectd's CSV layout every second to `<dataDir>/collectd-csv`
 * (nodePaths().collectdCsvDir, where gather looks) with its pid in nodePaths().monitorPidFile. A cluster
 * node e3 cannot reach or start the sampler on is logged, never fatal: the run goes on and the report
 * names the node without metrics.
 */
export async function startMonitors(ctx: RunContext, plans: ThreadPlan[]): Promise<RunMonitors> {
  const seen = new Set<string>();
  const targets: Array<{ machines: StackMachines; node: string; role: 'worker' | 'cluster' }> = [];
  const add = (machines: StackMachines, node: string, role: 'worker' | 'cluster') => {
    if (seen.has(node)) return;
    seen.add(node);
    targets.push({ machines, node, role });
  };
  for (const p of plans) {
    for (const node of p.workers.instance.ClusterNodes) add(p.workers, node, 'worker');
    for (const node of p.sut.instance.ClusterNodes) add(p.sut, node, 'cluster');
  }
  const started: Started[] = [];
  const out: RunMonitors = { started: [], collectd: [], stop: () => stopMonitors(started) };
  await Promise.all(
    targets.map(async (t) => {
      try {
        const s = await startMonitor(ctx, t.machines, t.node, samplerLifetimeMs(plans));
        if (s) {
          started.push(s);
          out.started.push(t.node);
        } else out.collectd.push(t.node);
      } catch (err) {
        ctx.log(`${t.role} ${t.node}: no system metrics: the built-in sampler could not start (${(err as Error).message.split('\n')[0]})`);
      }
    }),
  );
  if (out.started.length) ctx.log(`sampling system metrics with e3-agent monitor on ${out.started.join(', ')}`);
  if (out.collectd.length) ctx.log(`system metrics from the collectd running on ${out.collectd.join(', ')}`);
  return out;
}

async function startMonitor(ctx: RunContext, machines: StackMachines, node: string, lifetimeMs: number): Promise<Started | undefined> {
  const handle = await ctx.connector.connect(machines, node);
  const collectd = await handle.exec(COLLECTD_WRITING, { timeoutMs: 30_000, signal: ctx.signal });
  if (collectd.stdout.trim()) return undefined;
  const dataDir = nodeDataDir(machines.instance, node);
  const np = nodePaths(dataDir, ctx.run);
  const pidFile = np.monitorPidFile(node);
  // A sampler left by an interrupted attempt of this run is replaced, so one host never has two.
  if (await isRunning(handle, pidFile)) await stopByPidFile(handle, pidFile, { graceMs: 2000 });
  const agentPath = await shipAgent(handle, ctx.bundle, dataDir, ctx.run, ctx.signal);
  const nodeBin = handle.kind === 'local' ? process.execPath : 'node';
  // Host folder: the host name, as collectd's; a remote node's own name, so nodes sharing a data dir never mix.
  const host = handle.kind === 'local' ? [] : ['--host', node.replace(/^.*@/, '').replace(/[^A-Za-z0-9._-]+/g, '_')];
  const pid = await startDetached(handle, {
    command: [nodeBin, agentPath, 'monitor', '--out', np.collectdCsvDir, '--interval', '1s', '--duration', `${Math.ceil(lifetimeMs / 1000)}s`, ...host],
    pidFile,
    logFile: pidFile.replace(/\.pid$/, '.log'),
  });
  // A forced exit leaves no time to stop it by its pid file; a local one is killed by its process group.
  const unregister = handle.kind === 'local' ? onForcedExit(() => process.kill(-pid, 'SIGKILL')) : undefined;
  return { handle, pidFile, ...(unregister ? { unregister } : {}) };
}

async function stopMonitors(started: Started[]): Promise<void> {
  const all = started.splice(0);
  await Promise.all(
    all.map(async (s) => {
      await stopByPidFile(s.handle, s.pidFile, { graceMs: 3000 }).catch(() => undefined);
      s.unregister?.();
    }),
  );
}
