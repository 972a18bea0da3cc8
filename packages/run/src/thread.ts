import { E3Error, isE3Error, readStages, runDirPaths, stageKey, writeStages, type Snapshot, type StageRecord } from '@e3/model';

import { startAgents, stopAgents } from './agents.js';
import type { RunContext } from './context.js';
import { snapshotOf, type StagePlan, type ThreadPlan } from './plan.js';
import type { ThreadProgress } from './progress.js';
import { resetInstance } from './reset.js';
import { driveStage, type ProgressFn } from './stage.js';

const finished = (r: StageRecord) => r.status === 'succeeded' || r.status === 'degraded';

/** The thread's stage records: fresh `pending` ones, or with `resume` the finished ones of the last attempt kept. */
async function initialRecords(ctx: RunContext, p: ThreadPlan): Promise<StageRecord[]> {
  const previous = ctx.resume ? await readStages(ctx.runDir, p.index) : undefined;
  return p.stages.map((s) => {
    const old = previous?.stages[s.index];
    if (old && finished(old)) return old;
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
}

function progressOf(ctx: RunContext, p: ThreadPlan, s: StagePlan): ProgressFn {
  return (phase: ThreadProgress['phase'], extra: Partial<ThreadProgress> = {}) =>
    ctx.onProgress?.({
      thread: p.index, name: p.name, stage: s.index, stages: p.stages.length,
      load: s.clients !== undefined ? `${s.clients} clients` : `${s.rate}/s`, phase, elapsedMs: 0, durationMs: s.durationMs,
      laterLoadMs: p.stages.slice(s.index + 1).reduce((a, later) => a + later.durationMs, 0),
      tps: 0, errorRate: 0, p95: 0, workersLost: 0, ...extra,
    });
}

interface ThreadState {
  p: ThreadPlan;
  snapshot: Snapshot;
  /** When the previous stage of this attempt ended (epoch ms). */
  lastEnd?: number;
  save(): Promise<void>;
}

/** Resets the instance, starts the agents, meets the barrier and drives one stage; saves stages.json around it. */
async function runOneStage(ctx: RunContext, t: ThreadState, s: StagePlan, record: StageRecord): Promise<void> {
  const { p } = t;
  const prepStart = ctx.clock.now();
  const progress = progressOf(ctx, p, s);
  progress('reset');
  record.resetMs = Math.round(
    await resetInstance({
      instance: p.sut.instance,
      stack: p.sut.stack,
      clusterNodes: () => Promise.all(p.sut.instance.ClusterNodes.map((n) => ctx.connector.connect(p.sut, n))),
      signal: ctx.signal,
      healthTimeoutMs: ctx.healthTimeoutMs,
    }),
  );
  progress('starting');
  const live = await startAgents(ctx, p, s, t.snapshot, record);
  try {
    if (ctx.barrier) await ctx.barrier.arrive(s.index);
    const startAt = ctx.clock.now() + 100;
    record.start = startAt;
    record.overheadMs = Math.max(0, startAt - (t.lastEnd ?? prepStart) - record.resetMs);
    record.status = 'running';
    await t.save();
    await driveStage(ctx, p.name, s, live, record, startAt, progress);
  } finally {
    await stopAgents(live);
  }
  t.lastEnd = record.end;
  await t.save();
  if ((record.status as StageRecord['status']) === 'failed') throw new E3Error('RUN_FAILED', `stage ${stageKey(s.index)} of thread "${p.name}" failed: ${record.workers.map((w) => w.error).filter(Boolean).join('; ')}`, {
    hint: `See the agent logs under ${runDirPaths(ctx.runDir).threadDir(p.index)}; \`e3 run -r ${ctx.run} --resume\` retries from this stage`,
  });
  progress('done');
}

/**
 * Runs a thread's stages in order (skipping those a resumed attempt finished) and writes its stages.json
 * after every change; `records[p.index]` holds its records. The stage that was running when an error
 * came ends `aborted` (interrupt) or `failed`; later stages stay `pending` for --resume. Leaves the barrier.
 */
export async function runThread(ctx: RunContext, p: ThreadPlan, records: StageRecord[][]): Promise<void> {
  const stages = await initialRecords(ctx, p);
  records[p.index] = stages;
  const save = () => writeStages(ctx.runDir, { thread: p.index, name: p.name, stages });
  await save();
  const snapshotName = snapshotOf(p, ctx.runFile);
  const snapshot = snapshotName ? await ctx.inputs.snapshot(snapshotName) : { name: 'none', projects: [], users: [] };
  const state: ThreadState = { p, snapshot, save };
  try {
    for (const s of p.stages) {
      const record = stages[s.index]!;
      if (finished(record)) continue;
      if (ctx.signal?.aborted) throw new E3Error('INTERRUPTED', 'interrupted');
      await runOneStage(ctx, state, s, record);
    }
  } catch (err) {
    const interruptedHere = isE3Error(err) && err.code === 'E3_INTERRUPTED';
    for (const st of stages) if (st.status === 'running') st.status = interruptedHere ? 'aborted' : 'failed';
    await save();
    throw err;
  } finally {
    ctx.barrier?.leave();
  }
}
