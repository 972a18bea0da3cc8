import { E3Error } from '@e3/model';

/** Bitbucket-style hosting tickets: at most `max` git operations at once, the rest wait in a FIFO queue. */
export interface Tickets {
  /** Resolves with a release function once a ticket is free; rejects with E3_TARGET after `timeoutMs` in the queue. */
  acquire(): Promise<() => void>;
  /** Takes every ticket (waits for running ops to finish); used by state restore. */
  acquireAll(): Promise<() => void>;
  stats(): { used: number; queued: number; total: number; maxQueued: number; rejected: number };
}

/**
 * `latencyMs` is added to every git operation while it holds its ticket: a model of a server whose
 * storage answers slowly, so that tickets rather than the CPUs of a small machine bound git throughput.
 */
export function createTickets(options: { max: number; timeoutMs: number; latencyMs?: number }): Tickets {
  let used = 0;
  let maxQueued = 0;
  let rejected = 0;
  const queue: { need: number; grant: () => void }[] = [];
  const pump = (): void => {
    while (queue.length > 0 && used + queue[0]!.need <= options.max) {
      const next = queue.shift()!;
      used += next.need;
      next.grant();
    }
  };
  const take = (need: number, timeoutMs: number): Promise<() => void> =>
    new Promise((resolve, reject) => {
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        used -= need;
        pump();
      };
      if (queue.length === 0 && used + need <= options.max) {
        used += need;
        resolve(release);
        return;
      }
      const entry = {
        need,
        grant: () => {
          clearTimeout(timer);
          resolve(release);
        },
      };
      const timer = setTimeout(() => {
        const i = queue.indexOf(entry);
        if (i >= 0) queue.splice(i, 1);
        rejected++;
        reject(
          new E3Error('TARGET', `the target is busy: no hosting ticket became free within ${Math.round(timeoutMs / 1000)} s (max ${options.max} concurrent git operations)`),
        );
      }, timeoutMs);
      queue.push(entry);
      maxQueued = Math.max(maxQueued, queue.length);
    });
  return {
    acquire: async () => {
      const release = await take(1, options.timeoutMs);
      if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
      return release;
    },
    acquireAll: () => take(options.max, Math.max(options.timeoutMs, 60_000)),
    stats: () => ({ used, queued: queue.length, total: options.max, maxQueued, rejected }),
  };
}
