import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import { E3Error, isE3Error } from '../errors/e3-error.js';
import type { PhaseStatus } from '../schemas/phase-status.js';
import { E3_VERSION } from '../version.js';
import { readPhaseStatus, writePhaseStatus } from './io.js';
import { RUN_DIR_FORMAT_VERSION, runDirPaths, type Phase } from './layout.js';

export type PhaseError = NonNullable<PhaseStatus['error']>;

/**
 * The `error` of a phase status, one convention for every phase: an E3Error gives its code, message and
 * hint; an abort (`AbortError`) gives E3_INTERRUPTED; anything else is a bug, E3_BUG with its message.
 */
export function errorRecord(err: unknown): PhaseError {
  if (isE3Error(err)) return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  if ((err as Error | undefined)?.name === 'AbortError') return { code: 'E3_INTERRUPTED', message: 'interrupted' };
  return { code: 'E3_BUG', message: err instanceof Error ? err.message : String(err) };
}

export interface WithPhaseOptions<T> {
  /** Aborted means interrupted: the phase ends `aborted` whatever it threw. */
  signal?: AbortSignal;
  /** The clock of the timestamps (ms since the epoch; default Date.now). */
  now?: () => number;
  /** The end status of a phase that returned: `succeeded` unless it says otherwise (e.g. `partial`, with its error). */
  outcome?: (result: T) => { status: Exclude<PhaseStatus['status'], 'running'>; error?: PhaseError };
  /** Hint for an E3_BUG (an error that is not an E3Error), e.g. how to clean up after it. */
  bugHint?: string;
}

interface ActivePhase {
  runDir: string;
  phase: Phase;
  startedAt: string;
}

/** Phases under way in this process, so that a forced exit can still mark them aborted. */
const active = new Set<ActivePhase>();

/**
 * Runs `fn` as `phase` of the run in `runDir`: writes `phases/<phase>.json` `running` (with this pid)
 * first, then, on every way out, `succeeded` (or the `outcome`'s `partial`), `failed` or `aborted`, with
 * `errorRecord(err)` and E3_VERSION, and rethrows. When `fn` removed the run dir (nothing was made), no
 * end status is written. A failure to write the end status never hides the phase's own error.
 */
export async function withPhase<T>(runDir: string, phase: Phase, fn: () => Promise<T>, options: WithPhaseOptions<T> = {}): Promise<T> {
  const now = options.now ?? Date.now;
  const startedAt = new Date(now()).toISOString();
  await writePhaseStatus(runDir, { phase, status: 'running', startedAt, version: E3_VERSION, pid: process.pid });
  const me: ActivePhase = { runDir, phase, startedAt };
  active.add(me);
  const end = (status: PhaseStatus['status'], error?: PhaseError) =>
    existsSync(runDir)
      ? writePhaseStatus(runDir, { phase, status, startedAt, finishedAt: new Date(now()).toISOString(), version: E3_VERSION, ...(error ? { error } : {}) })
      : Promise.resolve();
  try {
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      const error = errorRecord(err);
      const aborted = options.signal?.aborted === true || error.code === 'E3_INTERRUPTED';
      if (error.code === 'E3_BUG' && options.bugHint) error.hint = options.bugHint;
      await end(aborted ? 'aborted' : 'failed', aborted && error.code !== 'E3_INTERRUPTED' ? { code: 'E3_INTERRUPTED', message: 'interrupted' } : error).catch(() => undefined);
      throw err;
    }
    const outcome = options.outcome?.(result) ?? { status: 'succeeded' as const };
    await end(outcome.status, outcome.error);
    return result;
  } finally {
    active.delete(me);
  }
}

/** Synchronous stops of processes this process started (e.g. agents), run by a forced exit. */
const forcedStops = new Set<() => void>();

/**
 * Registers `stop`, run synchronously by {@link abortActivePhasesSync} on a forced exit, e.g. to kill an
 * agent's process group. Returns the function that unregisters it (call it once the process ended).
 */
export function onForcedExit(stop: () => void): () => void {
  forcedStops.add(stop);
  return () => forcedStops.delete(stop);
}

/**
 * Stops what {@link onForcedExit} registered, then marks every phase under way in this process `aborted`,
 * synchronously: for a forced exit (a second Ctrl-C), which leaves no time for promises. Never throws.
 */
export function abortActivePhasesSync(): void {
  for (const stop of forcedStops) {
    try {
      stop();
    } catch {
      // Best effort: the process is exiting.
    }
  }
  forcedStops.clear();
  for (const a of active) {
    try {
      if (!existsSync(a.runDir)) continue;
      const file = runDirPaths(a.runDir).phaseFile(a.phase);
      const status: PhaseStatus = {
        formatVersion: RUN_DIR_FORMAT_VERSION, phase: a.phase, status: 'aborted', startedAt: a.startedAt, finishedAt: new Date().toISOString(),
        version: E3_VERSION, error: { code: 'E3_INTERRUPTED', message: 'interrupted: forced to quit (a second Ctrl-C) before it could stop cleanly' },
      };
      const tmp = join(runDirPaths(a.runDir).phasesDir, `.${basename(file)}.${process.pid}.forced.tmp`);
      writeFileSync(tmp, JSON.stringify(status, null, 2) + '\n');
      renameSync(tmp, file);
    } catch {
      // Best effort: the process is exiting.
    }
  }
  active.clear();
}

/** True when a process with this pid lives on this machine. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RequirePhaseOptions {
  /** The command that needs it, e.g. `run` (for the hint: `e3 run -r <run> --force`). */
  next: string;
  /** Accept a phase still running (gather may copy while the run goes on). */
  allowRunning?: boolean;
  /** Accept a phase that never ran here (a run dir written by hand has no provision status). */
  allowMissing?: boolean;
  /** `--force`: check nothing, just return the status. */
  force?: boolean;
}

/**
 * The status of `phase`, which the command `next` needs. Throws E3_PHASE_NOT_READY when it `failed`, is
 * still `running` (unless `allowRunning`) or never ran (unless `allowMissing`); the hint names the command
 * to run and `--force`. A `running` status whose pid is not alive on this machine is stale (the phase was
 * killed before it could write its end): it counts as `aborted`, which is accepted, like `succeeded` and
 * `partial`. With `force` nothing is checked.
 */
export async function requirePhase(runDir: string, phase: Phase, options: RequirePhaseOptions): Promise<PhaseStatus | undefined> {
  const status = await readPhaseStatus(runDir, phase);
  if (options.force) return status;
  const run = basename(runDir);
  const file = runDirPaths(runDir).phaseFile(phase);
  const force = `or pass --force to \`e3 ${options.next} -r ${run}\` to go on anyway`;
  if (!status) {
    if (options.allowMissing) return undefined;
    throw new E3Error('PHASE_NOT_READY', `${file} does not exist: ${phase} has not run, and ${options.next} needs it`, {
      hint: `Run \`e3 ${phase} -r ${run}\` first, ${force}`,
    });
  }
  if (status.status === 'failed') {
    const why = status.error ? ` [${status.error.code}] ${status.error.message.split('\n')[0]}` : '';
    throw new E3Error('PHASE_NOT_READY', `${file}: ${phase} of ${run} failed${why}; ${options.next} needs it to have finished`, {
      hint: `${phase === 'provision' ? `Deprovision it (\`e3 deprovision -r ${run}\`) and provision again` : `Fix the cause and run \`e3 ${phase} -r ${run}\` again`}, ${force}`,
    });
  }
  if (status.status === 'running' && !options.allowRunning && status.pid !== undefined && isAlive(status.pid)) {
    throw new E3Error('PHASE_NOT_READY', `${file}: ${phase} of ${run} is still running (pid ${status.pid})`, {
      hint: `Wait for \`e3 ${phase} -r ${run}\` to finish (or stop it: \`kill ${status.pid}\`), ${force}`,
    });
  }
  return status;
}
