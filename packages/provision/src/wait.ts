import { E3Error } from '@e3/model';

import type { Clock } from './types.js';

/** The real clock: Date.now and an abortable setTimeout. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export interface PollOptions<T> {
  /** What is awaited, for the timeout message: `stack stack-worker-… to be CREATE_COMPLETE`. */
  what: string;
  /** One look; returns a value when done, undefined to look again. Throws to stop. */
  probe(): Promise<T | undefined>;
  clock: Clock;
  timeoutMs: number;
  /** First delay; it grows by `factor` up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  factor?: number;
  hint?: string;
  signal?: AbortSignal;
}

/** Polls with exponential backoff until `probe` returns a value; E3_PROVISION naming `what` on timeout. */
export async function poll<T>(options: PollOptions<T>): Promise<T> {
  const { clock } = options;
  const start = clock.now();
  let delay = options.initialDelayMs ?? 5_000;
  for (;;) {
    const value = await options.probe();
    if (value !== undefined) return value;
    const elapsed = clock.now() - start;
    if (elapsed >= options.timeoutMs) {
      throw new E3Error('PROVISION', `timed out after ${Math.round(elapsed / 1000)} s waiting for ${options.what}`, { hint: options.hint });
    }
    await clock.sleep(Math.min(delay, options.timeoutMs - elapsed), options.signal);
    delay = Math.min(delay * (options.factor ?? 1.5), options.maxDelayMs ?? 30_000);
  }
}
