import { E3Error, stageKey, type StageRecord } from '@e3/model';

import { workerRecords, type StageWorker } from './agents.js';
import type { StageContext } from './context.js';
import type { StagePlan } from './plan.js';
import { combineTicks, createTpsWindow, type ThreadProgress, type TpsWindow } from './progress.js';

export type ProgressFn = (phase: ThreadProgress['phase'], extra?: Partial<ThreadProgress>) => void;

/** How long past the stage's end a worker may take to send `done` before it counts as lost. */
const DONE_SLACK_MS = 120_000;

/** Sends `start` to every prepared worker; each records its ticks and forwards its warnings. */
function startWorkers(ctx: StageContext, s: StagePlan, workers: StageWorker[], startAt: number, window: TpsWindow): void {
  const total = s.clients ?? 0;
  for (const w of workers) {
    w.channel.onMessage((m) => {
      if (m.type === 'tick') {
        w.lastTick = m;
        window.add(w.index, m);
        if (m.arrivals !== undefined) {
          const so = (w.arrivalsSoFar ??= { scheduled: 0, dropped: 0 });
          so.scheduled += m.arrivals;
          so.dropped += m.dropped ?? 0;
        }
      }
      else if (m.type === 'log' && (m.level === 'warn' || m.level === 'error')) ctx.log(`${w.node}: ${m.message}`);
    });
    w.channel.send({
      type: 'start',
      durationMs: s.durationMs,
      ...(w.clients !== undefined ? { clients: w.clients, clientOffset: w.clientOffset, totalClients: total } : {}),
      ...(w.rate !== undefined ? { rate: w.rate } : {}),
      assignment: ctx.assignment,
      ...(ctx.graceMs !== undefined ? { graceMs: ctx.graceMs } : {}),
      ...(s.thinkTimeMs ? { thinkTimeMs: s.thinkTimeMs } : {}),
      startAt,
    });
  }
}

/** Waits for one worker's `done`; a worker that breaks off is lost (degraded), and with fail-fast stops the others. */
async function awaitWorker(ctx: StageContext, s: StagePlan, w: StageWorker, workers: StageWorker[], startAt: number, thread: string): Promise<void> {
  const aborted = () => Boolean(ctx.signal?.aborted);
  try {
    const done = await w.channel.waitFor('done', { timeoutMs: s.durationMs + DONE_SLACK_MS + (startAt - ctx.clock.now()) });
    w.summary = done.summary;
    w.status = aborted() ? 'aborted' : 'succeeded';
  } catch (err) {
    w.status = aborted() ? 'aborted' : 'degraded';
    w.error = (err as Error).message;
    w.lostAt = ctx.clock.now();
    ctx.log(`worker ${w.node} lost in stage ${stageKey(s.index)} of thread "${thread}": ${w.error}`);
    if (ctx.failFast && !aborted()) {
      for (const other of workers) other.channel.send({ type: 'stop', reason: `fail-fast: ${w.node} lost` });
    }
  }
}

/**
 * The load window and open-model accounting of a driven stage (docs/analyze.md#the-load-window):
 * `loadStart` is when the first agent began issuing work (its summary's `start`; the start barrier when no
 * agent reported), `loadEnd` that plus the planned duration or, earlier, when the controller stopped the
 * agents; `drainEnd` when the last agent sent `done` or was lost. Open-model counts are summed over the
 * agents that reported.
 */
export function loadWindow(s: Pick<StagePlan, 'durationMs'>, workers: StageWorker[], startAt: number, stoppedAt: number | undefined, drainEnd: number): Pick<StageRecord, 'loadStart' | 'loadEnd' | 'drainEnd' | 'scheduled' | 'started' | 'late' | 'dropped'> {
  const summaries = workers.flatMap((w) => (w.summary ? [w.summary] : []));
  const loadStart = summaries.length ? Math.min(...summaries.map((x) => x.start)) : startAt;
  const loadEnd = Math.max(loadStart, Math.min(loadStart + s.durationMs, stoppedAt ?? Infinity, drainEnd));
  const window = { loadStart, loadEnd, drainEnd: Math.max(loadEnd, drainEnd) };
  const open = summaries.filter((x) => x.arrivals);
  if (!open.length) return window;
  const sum = (k: 'scheduled' | 'started' | 'late' | 'dropped') => open.reduce((n, x) => n + x.arrivals![k], 0);
  return { ...window, scheduled: sum('scheduled'), started: sum('started'), late: sum('late'), dropped: sum('dropped') };
}

/** The stage's outcome from its workers': aborted, failed (every worker lost, or one with fail-fast), degraded or succeeded. */
export function stageStatus(ctx: Pick<StageContext, 'signal' | 'failFast'>, workers: StageWorker[]): StageRecord['status'] {
  const lost = workers.filter((w) => w.status === 'degraded');
  if (ctx.signal?.aborted) return 'aborted';
  if (lost.length === workers.length || (lost.length && ctx.failFast)) return 'failed';
  return lost.length ? 'degraded' : 'succeeded';
}

/** With fail-fast, when the first lost worker made the controller stop the others. */
function failFastAt(workers: StageWorker[], ctx: Pick<StageContext, 'failFast'>): number | undefined {
  const lost = workers.filter((w) => w.status === 'degraded' && w.lostAt !== undefined).map((w) => w.lostAt!);
  return ctx.failFast && lost.length ? Math.min(...lost) : undefined;
}

/** Open model: the share of all workers' arrivals so far that were dropped (nothing for the closed model). */
function dropRate(workers: StageWorker[]): { dropRate?: number } {
  const open = workers.filter((w) => w.arrivalsSoFar);
  if (!open.length) return {};
  const scheduled = open.reduce((n, w) => n + w.arrivalsSoFar!.scheduled, 0);
  return { dropRate: scheduled ? open.reduce((n, w) => n + w.arrivalsSoFar!.dropped, 0) / scheduled : 0 };
}

/** Reports progress every second: the latest tick of each running worker, combined. */
function startTicker(ctx: StageContext, s: StagePlan, workers: StageWorker[], startAt: number, progress: ProgressFn, stopping: () => boolean, window: TpsWindow): () => void {
  return ctx.clock.every(1000, () => {
    const running = workers.filter((w) => w.status === 'running');
    const ticks = running.filter((w) => w.lastTick).map((w) => w.lastTick!);
    const elapsed = ctx.clock.now() - startAt;
    progress(stopping() || elapsed >= s.durationMs ? 'stopping' : 'load', {
      elapsedMs: Math.min(s.durationMs, elapsed), ...combineTicks(ticks), tps: window.tps(running.map((w) => w.index)),
      ...dropRate(workers), workersLost: workers.filter((w) => w.status === 'degraded' || w.status === 'failed').length,
    });
  });
}

/**
 * Runs stage `s` on prepared workers: sends `start` (for `startAt`), reports progress every second, sends
 * `stop` on interrupt (or, with fail-fast, when a worker is lost) and waits for every worker's `done`.
 * Sets `record.end`, the load window (see loadWindow), `record.workers` and `record.status`; throws E3_INTERRUPTED after an interrupt.
 */
export async function driveStage(ctx: StageContext, thread: string, s: StagePlan, workers: StageWorker[], record: StageRecord, startAt: number, progress: ProgressFn): Promise<void> {
  const window = createTpsWindow();
  startWorkers(ctx, s, workers, startAt, window);
  let stopping = false;
  let stoppedAt: number | undefined;
  const onAbort = () => {
    stopping = true;
    stoppedAt ??= ctx.clock.now();
    for (const w of workers) w.channel.send({ type: 'stop', reason: 'interrupted' });
  };
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  const stopTicker = startTicker(ctx, s, workers, startAt, progress, () => stopping, window);
  try {
    await Promise.all(workers.map((w) => awaitWorker(ctx, s, w, workers, startAt, thread)));
  } finally {
    stopTicker();
    ctx.signal?.removeEventListener('abort', onAbort);
  }
  record.end = ctx.clock.now();
  Object.assign(record, loadWindow(s, workers, startAt, stoppedAt ?? failFastAt(workers, ctx), record.end));
  record.workers = workerRecords(workers);
  record.status = stageStatus(ctx, workers);
  if (ctx.signal?.aborted) throw new E3Error('INTERRUPTED', 'interrupted');
}
