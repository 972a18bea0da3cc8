import { assignJobs, thinkTimeMs } from '@e3/model';

import type { StageRun } from './context.js';
import { makeVu, runPass } from './vu.js';

/** The pause after a pass of each job: its own thinkTime, else the stage's; drawn uniformly in [min, max]. */
function thinkTimes(run: StageRun): (job: number) => number {
  const thinks = run.jobs.map((j) => (j.thinkTime !== undefined ? thinkTimeMs(j.thinkTime) : run.options.thinkTimeMs));
  return (job) => {
    const t = thinks[job];
    return t ? t.min + run.random() * (t.max - t.min) : 0;
  };
}

/**
 * The closed model: global clients `offset … offset+clients−1` each loop the job `assignJobs` gives them
 * until the stage ends, pausing for the think time after each pass. Returns one promise per client,
 * settled when its last pass ended.
 */
export function runClosed(run: StageRun): Promise<unknown>[] {
  const assignment = assignJobs(run.jobs.map((j) => j.weight), run.total, run.mode);
  const thinkFor = thinkTimes(run);
  const running: Promise<unknown>[] = [];
  for (let i = 0; i < run.clients; i++) {
    const client = run.offset + i;
    const job = assignment[client] ?? 0;
    run.counts[job]!++;
    const vu = makeVu(run, client, job);
    run.vus.push(vu);
    running.push(
      (async () => {
        while (!run.stop.aborted) {
          const ok = await runPass(run, vu);
          const think = thinkFor(job);
          if (think > 0) await run.clock.sleep(think, run.stop);
          // Passes that take no time yield to the event loop now and then.
          else if (!ok || vu.iteration % 64 === 0) await new Promise((r) => setImmediate(r));
        }
      })(),
    );
  }
  return running;
}
