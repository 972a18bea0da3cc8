import { now } from '../recorder/sink.js';

/** Time as the stage loop sees it: the system's in the agent, a fake one in unit tests. */
export interface StageClock {
  /** Epoch ms with sub-millisecond precision. */
  now(): number;
  /** Resolves true after `ms` (never for Infinity), or false as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
}

export const systemClock: StageClock = {
  now,
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve(false);
      const t = Number.isFinite(ms)
        ? setTimeout(() => {
            signal?.removeEventListener('abort', onAbort);
            resolve(true);
          }, Math.max(0, ms))
        : undefined;
      const onAbort = () => {
        clearTimeout(t);
        resolve(false);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
