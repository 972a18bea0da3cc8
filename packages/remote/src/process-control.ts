import { posix } from 'node:path';

import { E3Error } from '@e3/model';

import { describeCommand } from './collect.js';
import { shellLine, shellQuote } from './node-spec.js';
import type { NodeHandle } from './types.js';

/** Options of {@link startDetached}. */
export interface StartDetachedOptions {
  command: string | readonly string[];
  /** Written with the pid, which is also the process group id of the command. */
  pidFile: string;
  /** stdout and stderr, appended. */
  logFile: string;
  cwd?: string;
  env?: Record<string, string>;
  /** How long to wait for the pid file; 10 s by default. */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `command` on the node in its own session (`setsid`), detached from the connection, with its
 * output appended to `logFile`, and writes its pid to `pidFile` (temp + rename). Returns the pid.
 * Throws E3_ENVIRONMENT when it is already running (by that pid file) or could not start.
 */
export async function startDetached(handle: NodeHandle, options: StartDetachedOptions): Promise<number> {
  if (await isRunning(handle, options.pidFile)) {
    throw new E3Error('ENVIRONMENT', `${handle.node}: a process from ${options.pidFile} is already running`, {
      hint: 'Stop it first (e3 stops it by its pid file), or remove the stale pid file if you know it is not e3\'s',
    });
  }
  const pid = shellQuote(options.pidFile);
  const tmp = shellQuote(`${options.pidFile}.tmp`);
  const inner = `echo $$ > ${tmp} && mv -f ${tmp} ${pid} && ${shellLine(options.command, { cwd: options.cwd, env: options.env })}`;
  const dirs = [...new Set([posix.dirname(options.pidFile), posix.dirname(options.logFile)])].map(shellQuote).join(' ');
  const line =
    `mkdir -p ${dirs} && rm -f ${pid} && ` +
    `(setsid sh -c ${shellQuote(inner)} >> ${shellQuote(options.logFile)} 2>&1 < /dev/null &) && ` +
    `i=0; while [ ! -s ${pid} ] && [ $i -lt ${Math.ceil((options.timeoutMs ?? 10_000) / 50)} ]; do sleep 0.05; i=$((i+1)); done; cat ${pid}`;
  const result = await handle.exec(line, { check: true });
  const value = Number(result.stdout.trim());
  if (!Number.isInteger(value) || value <= 1) {
    throw new E3Error('ENVIRONMENT', `${handle.node}: could not start \`${describeCommand(options.command)}\`: no pid in ${options.pidFile}`, {
      hint: `Read ${options.logFile} on ${handle.node}`,
    });
  }
  return value;
}

async function readPid(handle: NodeHandle, pidFile: string): Promise<number | undefined> {
  const r = await handle.exec(`cat ${shellQuote(pidFile)} 2>/dev/null`);
  const pid = Number(r.stdout.trim());
  return r.code === 0 && Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

/** True when the pid file names a live process group. */
export async function isRunning(handle: NodeHandle, pidFile: string): Promise<boolean> {
  const pid = await readPid(handle, pidFile);
  if (pid === undefined) return false;
  return (await handle.exec(`kill -0 -${pid} 2>/dev/null`)).code === 0;
}

/**
 * Stops the process group named by `pidFile`: TERM, then KILL after `graceMs` (10 s by default), then
 * removes the pid file. Only that group is signalled. Returns what happened; a missing pid file is not an
 * error.
 */
export async function stopByPidFile(
  handle: NodeHandle,
  pidFile: string,
  options: { graceMs?: number } = {},
): Promise<{ pid?: number; wasRunning: boolean; killed: boolean }> {
  const pid = await readPid(handle, pidFile);
  if (pid === undefined) return { wasRunning: false, killed: false };
  const alive = async () => (await handle.exec(`kill -0 -${pid} 2>/dev/null`)).code === 0;
  const wasRunning = await alive();
  let killed = false;
  if (wasRunning) {
    await handle.exec(`kill -TERM -${pid} 2>/dev/null`);
    const deadline = Date.now() + (options.graceMs ?? 10_000);
    while ((await alive()) && Date.now() < deadline) await sleep(100);
    if (await alive()) {
      killed = true;
      await handle.exec(`kill -KILL -${pid} 2>/dev/null`);
      const hard = Date.now() + 5_000;
      while ((await alive()) && Date.now() < hard) await sleep(100);
      if (await alive()) throw new E3Error('ENVIRONMENT', `${handle.node}: process group ${pid} survived KILL`);
    }
  }
  await handle.exec(`rm -f ${shellQuote(pidFile)}`, { check: true });
  return { pid, wasRunning, killed };
}
