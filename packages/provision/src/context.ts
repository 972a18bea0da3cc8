import { randomBytes } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';

import { E3Error, readRunFile, runDirPaths, writeRunFile, type RunFile } from '@e3/model';

import type { Clock } from './types.js';

/** The owner tag value: `E3_OWNER`, else the OS user. */
export function defaultOwner(env: NodeJS.ProcessEnv = process.env): string {
  if (env.E3_OWNER) return env.E3_OWNER;
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? 'e3';
  }
}

export function defaultRandomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** A run-wide memo: each key's function runs once; later callers share its promise. */
export function memo(): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const seen = new Map<string, Promise<unknown>>();
  return <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    let p = seen.get(key) as Promise<T> | undefined;
    if (!p) {
      p = fn();
      seen.set(key, p);
    }
    return p;
  };
}

const locks = new Map<string, Promise<unknown>>();
const STALE_LOCK_MS = 120_000;

/**
 * Read-modify-write of the run file under a lock: in-process calls are queued, and the lock file
 * `runs/<run>/.run-file.lock` (O_EXCL) keeps another process out; a lock older than 2 minutes is stale.
 */
export async function updateRunFile(runDir: string, mutate: (run: RunFile) => RunFile | void, clock: Clock): Promise<RunFile> {
  const prev = locks.get(runDir) ?? Promise.resolve();
  const next = prev.then(() => withLockFile(runDir, clock, async () => {
    const run = await readRunFile(runDir);
    const out = mutate(run) ?? run;
    await writeRunFile(runDir, out);
    return out;
  }));
  locks.set(runDir, next.catch(() => undefined));
  return next;
}

async function withLockFile<T>(runDir: string, clock: Clock, fn: () => Promise<T>): Promise<T> {
  const lock = runDirPaths(runDir).runFileLock;
  for (let attempt = 0; ; attempt++) {
    try {
      const h = await open(lock, 'wx');
      await h.writeFile(String(process.pid));
      await h.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new E3Error('IO', `cannot create ${lock}: ${(err as Error).message}`, { cause: err });
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STALE_LOCK_MS) await rm(lock, { force: true });
      else if (attempt > 600) {
        throw new E3Error('IO', `${lock} is held by another e3 process`, { hint: `Wait for it, or remove ${lock} if no e3 process works on this run` });
      } else await clock.sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}
