import { assignJobs } from '@e3/model';

import type { StageRun, Vu } from './context.js';
import { makeVu, runPass } from './vu.js';

/** Open-model arrival counts: over the stage, and since the last tick (reset by whoever emits ticks). */
export interface ArrivalCounts {
  total: { scheduled: number; started: number; late: number; dropped: number };
  tick: { scheduled: number; late: number; dropped: number };
}

export const noArrivals = (): ArrivalCounts => ({ total: { scheduled: 0, started: 0, late: 0, dropped: 0 }, tick: { scheduled: 0, late: 0, dropped: 0 } });

interface OpenState {
  run: StageRun;
  counts: ArrivalCounts;
  cycle: number[];
  lateMs: number;
  free: Vu[];
  queue: Array<{ k: number; intended: number }>;
  inflight: Set<Promise<unknown>>;
}

/** Starts arrival `k` (due at `intended`) on `vu`; when its pass ends the vu takes the next queued arrival, or is free. */
function launch(s: OpenState, vu: Vu, k: number, intended: number): void {
  const { run, counts } = s;
  counts.total.started++;
  if (run.clock.now() - intended > s.lateMs) {
    counts.total.late++;
    counts.tick.late++;
  }
  vu.job = s.cycle[k % s.cycle.length]!;
  run.counts[vu.job]!++;
  const p = runPass(run, vu, intended).then(() => {
    s.inflight.delete(p);
    const next = run.stop.aborted ? undefined : s.queue.shift();
    if (next) launch(s, vu, next.k, next.intended);
    else s.free.push(vu);
  });
  s.inflight.add(p);
}

/** Schedules arrivals every 1/rate s from t0 until the stage's duration; queues or drops those no vu is free for. */
async function schedule(s: OpenState, rate: number): Promise<void> {
  const { run, counts } = s;
  const maxQueue = run.options.maxQueue ?? 10_000;
  const interval = 1000 / rate;
  const end = run.t0 + run.options.durationMs;
  let k = 0;
  while (!run.stop.aborted) {
    const wait = run.t0 + k * interval - run.clock.now();
    if (wait > 0.5 && !(await run.clock.sleep(wait, run.stop))) break;
    const limit = run.clock.now();
    while (run.t0 + k * interval <= limit && run.t0 + k * interval < end) {
      const intended = run.t0 + k * interval;
      counts.total.scheduled++;
      counts.tick.scheduled++;
      const vu = s.free.pop();
      if (vu) launch(s, vu, k, intended);
      else if (s.queue.length < maxQueue) s.queue.push({ k, intended });
      else {
        counts.total.dropped++;
        counts.tick.dropped++;
      }
      k++;
    }
    if (run.t0 + k * interval >= end) await run.clock.sleep(Infinity, run.stop);
  }
}

/** The open model's pool of virtual users (added to `run.vus`); made before the stage starts, so that the first arrivals do not wait for it. */
export function openPool(run: StageRun): Vu[] {
  const pool: Vu[] = [];
  for (let i = 0; i < run.clients; i++) pool.push(makeVu(run, run.offset + i, 0));
  run.vus.push(...pool);
  return pool;
}

/**
 * The open model: arrivals every 1/rate s, each run by a free virtual user of the pool; latency counts
 * from the intended start; arrivals that wait are late, those beyond `maxQueue` or still waiting at the
 * end are dropped. Resolves when the stage ended and every started pass finished.
 */
export async function runOpen(run: StageRun, counts: ArrivalCounts, pool: Vu[] = openPool(run)): Promise<void> {
  const s: OpenState = {
    run, counts, cycle: assignJobs(run.jobs.map((j) => j.weight), Math.max(100, run.jobs.length), run.mode),
    lateMs: run.options.lateThresholdMs ?? 10, free: [...pool], queue: [], inflight: new Set(),
  };
  const rate = run.options.rate!;
  if (rate > 0) {
    await schedule(s, rate);
    counts.total.dropped += s.queue.length;
    counts.tick.dropped += s.queue.length;
    s.queue.length = 0;
  }
  while (s.inflight.size > 0) await Promise.all([...s.inflight]);
}
