import { availableParallelism } from 'node:os';
import { Worker, parentPort } from 'node:worker_threads';

import { E3Error, isE3Error } from '@e3/model';

interface Reply {
  result?: unknown;
  error?: { code?: string; message: string; hint?: string };
}

/** True when this module runs compiled (.js): only then can it start worker threads from its own files. */
export const canUseWorkers: boolean = import.meta.url.endsWith('.js');

/** How many workers to use for `tasks` tasks: up to the CPU count, never more than the tasks. */
export function workerCount(tasks: number, wanted?: number): number {
  return Math.max(0, Math.min(wanted ?? availableParallelism(), tasks, 4));
}

/**
 * Runs `tasks` on `count` worker threads started from `url` (a module that calls `serve`), biggest
 * first when `weights` are given. Results come back in task order. Rejects with the first error (an
 * E3Error keeps its code and hint) or with the signal's reason, and always terminates the workers.
 */
export async function runPool<T, R>(url: URL, tasks: T[], count: number, options: { weights?: number[]; signal?: AbortSignal; onResult?: (result: R, index: number) => void } = {}): Promise<R[]> {
  const order = tasks.map((_, i) => i);
  if (options.weights) order.sort((a, b) => options.weights![b]! - options.weights![a]!);
  const results: R[] = new Array(tasks.length);
  const pool = Array.from({ length: Math.max(1, Math.min(count, tasks.length)) }, () => new Worker(url));
  let next = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      const onAbort = () => reject(options.signal!.reason);
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const feed = (w: Worker) => {
        if (next >= order.length) {
          if (running === 0) {
            options.signal?.removeEventListener('abort', onAbort);
            resolve();
          }
          return;
        }
        const i = order[next++]!;
        running++;
        w.once('message', (msg: Reply) => {
          running--;
          if (msg.error) {
            const e = msg.error;
            reject(e.code ? new E3Error(e.code as never, e.message, e.hint ? { hint: e.hint } : {}) : new Error(e.message));
            return;
          }
          results[i] = msg.result as R;
          options.onResult?.(results[i]!, i);
          feed(w);
        });
        w.postMessage(tasks[i]);
      };
      for (const w of pool) {
        w.once('error', reject);
        feed(w);
      }
    });
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return results;
}

/** Worker side of `runPool`: answers each message with `handler`'s result or error. */
export function serve<T, R>(handler: (task: T) => Promise<R> | R): void {
  parentPort!.on('message', (task: T) => {
    Promise.resolve()
      .then(() => handler(task))
      .then(
        (result) => parentPort!.postMessage({ result } satisfies Reply),
        (err: unknown) =>
          parentPort!.postMessage({
            error: { message: (err as Error).message, ...(isE3Error(err) ? { code: err.code, ...(err.hint ? { hint: err.hint } : {}) } : {}) },
          } satisfies Reply),
      );
  });
}
