import { existsSync } from 'node:fs';

import { E3Error } from '../errors/e3-error.js';
import { homeFilePath } from '../home/home.js';
import { threadName } from '../schemas/experiment.js';
import type { Instance } from '../schemas/instance.js';
import type { RunFile } from '../schemas/run-file.js';
import { loadFile } from '../validate/validate.js';
import { runDirPaths } from './layout.js';

/** An instance file that names its nodes. */
export type NodesInstance = Instance & { ClusterNodes: string[] };

/** The machines of one side of a thread: its stack name, the instance, and the instance file in e3-home when there is one. */
export interface StackMachines {
  stack: string;
  instance: NodesInstance;
  /** e3-home/instances/<stack>.json, when it exists (host keys are pinned there). */
  file?: string;
}

/**
 * The system under test (`instance`) or the workers (`worker`) of thread `ti`: the copy of the instance
 * file that the run file keeps (so runs work after deprovision), else the named instance file.
 * Throws E3_PHASE_NOT_READY when the thread names no stack, E3_FILE_NOT_FOUND when its file is gone.
 */
export async function threadMachines(home: string, runDir: string, runFile: RunFile, ti: number, part: 'instance' | 'worker'): Promise<StackMachines> {
  const thread = runFile.threads[ti]!;
  const stack = thread[part].stack as (Partial<Instance> & { Name?: string }) | undefined;
  const name = stack?.Name;
  if (!stack || !name) {
    throw new E3Error(
      'PHASE_NOT_READY',
      `${runDirPaths(runDir).runFile}: /threads/${ti}/${part}/stack: missing; the ${part === 'instance' ? 'system under test' : 'workers'} of thread "${threadName(thread, ti)}" are not known`,
      { hint: 'Run `e3 provision -e <experiment>` (it writes the stacks), or add "stack": {"Name": "<instance file>"} to the experiment' },
    );
  }
  const file = homeFilePath(home, 'instance', name);
  const own = existsSync(file) ? file : undefined;
  if (stack.ClusterNodes) return { stack: name, instance: stack as NodesInstance, ...(own ? { file: own } : {}) };
  if (!own) {
    throw new E3Error('FILE_NOT_FOUND', `instance file ${file} (thread "${threadName(thread, ti)}", ${part}) does not exist`, {
      hint: `Create e3-home/instances/${name}.json (ClusterNodes, URL, …) or provision the run again`,
    });
  }
  const instance = await loadFile<Instance>('instance', own);
  if (!instance.ClusterNodes) {
    throw new E3Error('INVALID_FILE', `${own}: /ClusterNodes: missing; thread "${threadName(thread, ti)}" uses this stack as its ${part}, so it must name its nodes`, {
      hint: `Add "ClusterNodes": ["user@host", …] (or ["localhost"]) to ${own}`,
    });
  }
  return { stack: name, instance: instance as NodesInstance, file: own };
}
