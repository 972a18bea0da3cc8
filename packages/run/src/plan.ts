import {
  E3Error,
  durationMs,
  runDirPaths,
  thinkTimeMs,
  threadMachines,
  threadName,
  type RunFile,
  type StackMachines,
  type ThinkTimeMs,
} from '@e3/model';

/** One stage of a thread, with the experiment's defaults applied. */
export interface StagePlan {
  index: number;
  clients?: number;
  rate?: number;
  durationMs: number;
  workload: string;
  /** Closed model only: the stage's, else the thread's, else the experiment's think time. */
  thinkTimeMs?: ThinkTimeMs;
}

/** One thread of the run: its system under test, its workers and its stages. */
export interface ThreadPlan {
  index: number;
  name: string;
  sut: StackMachines;
  workers: StackMachines;
  stages: StagePlan[];
}

/** The stages of thread `ti`; throws E3_INVALID_FILE naming the run file for a stage without duration or workload. */
export function planStages(runDir: string, runFile: RunFile, ti: number): StagePlan[] {
  const t = runFile.threads[ti]!;
  return t.stages.map((s, si) => {
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
  });
}

/** Every thread of a provisioned run with its machines (from the run directory) and stages. */
export async function plan(home: string, runDir: string, runFile: RunFile): Promise<ThreadPlan[]> {
  return Promise.all(
    runFile.threads.map(async (t, ti) => ({
      index: ti,
      name: threadName(t, ti),
      sut: await threadMachines(home, runDir, runFile, ti, 'instance'),
      workers: await threadMachines(home, runDir, runFile, ti, 'worker'),
      stages: planStages(runDir, runFile, ti),
    })),
  );
}

/** The snapshot a thread's instance serves, if any. */
export const snapshotOf = (p: ThreadPlan, runFile: RunFile): string | undefined => p.sut.instance.snapshot ?? runFile.threads[p.index]!.instance.snapshot;
