import { dirname, resolve } from 'node:path';

import { E3Error, findHomeFile, loadFile, workloadJobs, type Snapshot, type Workload, type WorkloadFile } from '@e3/model';
import { bundleUserScript, isUserScriptPath } from '@e3/model/bundle';

/** The workloads, bundled user scripts and snapshots a run needs, each loaded once from e3-home. */
export interface RunInputs {
  workload(name: string): Promise<Workload>;
  /** User scripts of a loaded workload by name (ESM source); empty when it has none. */
  userScripts(name: string): Record<string, string>;
  snapshot(name: string): Promise<Snapshot>;
}

export function createInputs(home: string): RunInputs {
  const workloads = new Map<string, Workload>();
  const userScripts = new Map<string, Record<string, string>>();
  const snapshots = new Map<string, Snapshot>();
  return {
    async workload(name) {
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
    },
    userScripts: (name) => userScripts.get(name) ?? {},
    async snapshot(name) {
      if (!snapshots.has(name)) {
        const file = findHomeFile(home, 'snapshot', name);
        if (!file) throw new E3Error('FILE_NOT_FOUND', `snapshot "${name}" not found in ${home}/snapshots`, { hint: `Create it with \`e3 snapshot --name ${name}\`` });
        snapshots.set(name, await loadFile<Snapshot>('snapshot', file));
      }
      return snapshots.get(name)!;
    },
  };
}
