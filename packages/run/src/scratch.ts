import { rm } from 'node:fs/promises';

import { nodeDataDir, nodePaths, readRunFile, runDirPaths, threadMachines, type StackMachines } from '@e3/model';
import { createStackConnector, shellQuote, type NodeHandle } from '@e3/remote';

/**
 * Removes the run's scratch (`<dataDir>/scratch/<run>`: clones, user keys) from every worker of every
 * stack in `workers`. Best effort: a worker that cannot be reached is reported through `log`, and its
 * node named in the returned list.
 */
export async function removeRunScratch(
  workers: StackMachines[],
  run: string,
  connect: (m: StackMachines, node: string) => Promise<NodeHandle>,
  log: (message: string) => void = () => undefined,
): Promise<string[]> {
  const failed: string[] = [];
  const done = new Set<string>();
  for (const m of workers) {
    for (const node of m.instance.ClusterNodes) {
      try {
        const handle = await connect(m, node);
        const local = handle.kind === 'local';
        const dir = nodePaths(nodeDataDir(m.instance, node), run).scratchDir;
        if (done.has(`${node} ${dir}`)) continue;
        done.add(`${node} ${dir}`);
        if (local) await rm(dir, { recursive: true, force: true });
        else await handle.exec(`rm -rf ${shellQuote(dir)}`, { check: true });
      } catch (err) {
        failed.push(node);
        log(`could not remove the scratch of run ${run} on ${node}: ${(err as Error).message}`);
      }
    }
  }
  return failed;
}

/** `removeRunScratch` for a run directory (deprovision): the workers its run file names, over fresh connections. */
export async function removeRunDirScratch(home: string, runDir: string, run: string, log?: (message: string) => void): Promise<string[]> {
  const runFile = await readRunFile(runDir);
  const workers: StackMachines[] = [];
  for (const [ti] of runFile.threads.entries()) workers.push(await threadMachines(home, runDir, runFile, ti, 'worker'));
  const connector = createStackConnector({ keyDirs: [runDirPaths(runDir).instancesDir] });
  try {
    return await removeRunScratch(workers, run, (m, node) => connector.connect(m, node), log);
  } finally {
    await connector.closeAll();
  }
}
