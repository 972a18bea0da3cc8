import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { E3Error } from '@e3/model';

import { restoreStateWith, saveStateWith, openDataDb } from './state.js';
import { controlTokenFile, readRuntimeInfo, type TargetRuntimeInfo } from './target.js';

export interface DataOptions {
  /** The target's data folder. */
  data: string;
}

async function callRunning(info: TargetRuntimeInfo, data: string, path: string): Promise<unknown> {
  const token = readFileSync(controlTokenFile(data), 'utf8').trim();
  const res = await fetch(`${info.url}${path}`, { method: 'POST', headers: { 'x-e3-control-token': token } });
  const body = (await res.json().catch(() => ({}))) as { errors?: { message: string }[] };
  if (!res.ok) throw new E3Error('TARGET', `the running target answered ${res.status} to POST ${path}: ${body.errors?.[0]?.message ?? ''}`);
  return body;
}

/** Saves repos and database to `<data>/state/`. Works offline, or live when no git operation is running. */
export async function saveState(options: DataOptions): Promise<{ dir: string }> {
  const data = resolve(options.data);
  const db = openDataDb(data);
  try {
    return await saveStateWith(data, db);
  } finally {
    db.close();
  }
}

/**
 * Puts repos and database back to the state saved by `seed` or `save-state`. On a running target it calls
 * `POST /rest/e3/1.0/state/restore` with the local control token; otherwise it works on the files.
 */
export async function restoreState(options: DataOptions): Promise<{ live: boolean; durationMs: number }> {
  const data = resolve(options.data);
  const started = Date.now();
  const info = readRuntimeInfo(data);
  if (info) {
    await callRunning(info, data, '/rest/e3/1.0/state/restore');
    return { live: true, durationMs: Date.now() - started };
  }
  const db = openDataDb(data);
  try {
    await restoreStateWith(data, db);
  } finally {
    db.close();
  }
  return { live: false, durationMs: Date.now() - started };
}

/** Stops the target running on `data` (SIGTERM to the pid in `<data>/target.json`), waiting up to `timeoutMs`. */
export async function stopTarget(options: DataOptions & { timeoutMs?: number }): Promise<{ stopped: boolean; pid?: number }> {
  const data = resolve(options.data);
  const info = readRuntimeInfo(data);
  if (!info) return { stopped: false };
  process.kill(info.pid, 'SIGTERM');
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    try {
      process.kill(info.pid, 0);
    } catch {
      return { stopped: true, pid: info.pid };
    }
    await sleep(100);
  }
  throw new E3Error('TARGET', `the target (pid ${info.pid}) did not stop within ${Math.round((options.timeoutMs ?? 15_000) / 1000)} s`, { hint: `kill ${info.pid}` });
}

/** Polls `<url>/status` until `{"state":"RUNNING"}` or the timeout (E3_HEALTH_TIMEOUT). */
export async function waitForRunning(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/status`);
      if (res.ok && ((await res.json()) as { state?: string }).state === 'RUNNING') return;
    } catch {
      /* not up yet */
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 1000);
  }
  throw new E3Error('HEALTH_TIMEOUT', `${url}/status did not report RUNNING within ${Math.round(timeoutMs / 1000)} s`);
}
