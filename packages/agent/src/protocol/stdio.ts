import { execFile } from 'node:child_process';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

import { Value } from '@sinclair/typebox/value';
import {
  E3_VERSION,
  AGENT_PROTOCOL_VERSION,
  ControllerMessageSchema,
  E3Error,
  isE3Error,
  type AgentMessage,
  type ControllerMessage,
  type PrepareMessage,
  type StartMessage,
} from '@e3/model';

import { createTestData } from '../data/provider.js';
import { runStage } from '../engine/stage.js';
import { runMonitor } from '../monitor/proc.js';
import type { Script } from '../script/api.js';
import { resolveScript } from '../script/registry.js';
import { loadUserScript } from '../script/user-scripts.js';

export interface ServeOptions {
  input: Readable;
  output: Writable;
  /** Minimum level sent as `log` messages (default info). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 } as const;

export function gitVersion(): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['--version'], { timeout: 5000 }, (err, stdout) => resolve(err ? undefined : stdout.trim().replace(/^git version /, '')));
  });
}

/**
 * The agent's NDJSON control loop on `input`/`output` (docs/agent.md#protocol). Sends `hello` at once;
 * answers `prepare` with `ready` or `error`, `start` with a `tick` every second and then `done` or `error`;
 * `stop` ends the running stage (grace, then cut). Several prepare/start rounds may follow each other.
 * Resolves when `input` ends and any running stage has finished writing its files.
 */
export async function serveStdio(options: ServeOptions): Promise<void> {
  const { input, output } = options;
  const minLevel = LEVELS[options.logLevel ?? 'info'];
  let outputOpen = true;
  output.on('error', () => (outputOpen = false));
  const send = (msg: AgentMessage) => {
    if (outputOpen) output.write(JSON.stringify(msg) + '\n');
  };
  const sendError = (err: unknown) => {
    if (isE3Error(err)) send({ type: 'error', code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) });
    else send({ type: 'error', code: 'E3_AGENT', message: (err as Error)?.stack ?? String(err) });
  };

  const git = await gitVersion();
  send({
    type: 'hello', protocol: AGENT_PROTOCOL_VERSION, version: E3_VERSION, host: hostname(), cpus: Math.max(1, cpus().length),
    node: process.versions.node, pid: process.pid, ...(git ? { git } : {}),
  });

  const monitorCtl = new AbortController();
  let monitor: Promise<unknown> | undefined;
  let prepared: { msg: PrepareMessage; userScripts: Record<string, Script> } | undefined;
  let stage: { ctl: AbortController; done: Promise<void> } | undefined;

  const prepare = async (msg: PrepareMessage) => {
    const workDir = msg.workDir ?? join(tmpdir(), 'e3-agent-work');
    const userScripts: Record<string, Script> = {};
    for (const [name, code] of Object.entries(msg.scripts ?? {})) {
      userScripts[name] = await loadUserScript({ name, code, dir: join(workDir, 'user-scripts') });
    }
    const jobs = msg.workload.map((j) => resolveScript(j.script, userScripts).name);
    createTestData(msg);
    if (msg.monitor && !monitor) {
      monitor = runMonitor({ ...msg.monitor, signal: monitorCtl.signal }).catch((err: Error) =>
        send({ type: 'log', level: 'warn', message: `metrics sampler stopped: ${err.message}`, t: Date.now() }),
      );
    }
    prepared = { msg, userScripts };
    send({ type: 'ready', jobs });
  };

  const start = (msg: StartMessage) => {
    if (!prepared) throw new E3Error('AGENT', 'start before prepare', { hint: 'Send a prepare message first.' });
    if (stage) throw new E3Error('AGENT', 'a stage is already running', { hint: 'Wait for done, or send stop.' });
    const p = prepared.msg;
    const ctl = new AbortController();
    const done = runStage({
      workload: p.workload,
      instance: p.instance,
      snapshot: p.snapshot,
      ...(p.keys ? { keys: p.keys } : {}),
      stageDir: p.stageDir,
      ...(p.workDir ? { workDir: p.workDir } : {}),
      ...(p.worker ? { worker: p.worker } : {}),
      durationMs: msg.durationMs,
      ...(msg.clients !== undefined ? { clients: msg.clients } : {}),
      ...(msg.rate !== undefined ? { rate: msg.rate } : {}),
      ...(msg.clientOffset !== undefined ? { clientOffset: msg.clientOffset } : {}),
      ...(msg.totalClients !== undefined ? { totalClients: msg.totalClients } : {}),
      ...(msg.assignment ? { assignment: msg.assignment } : {}),
      ...(msg.graceMs !== undefined ? { graceMs: msg.graceMs } : {}),
      ...(msg.userPerIteration !== undefined ? { userPerIteration: msg.userPerIteration } : {}),
      ...(msg.thinkTimeMs ? { thinkTimeMs: msg.thinkTimeMs } : {}),
      ...(msg.startAt !== undefined ? { startAt: msg.startAt } : {}),
      userScripts: prepared.userScripts,
      signal: ctl.signal,
      onTick: (tick) => send({ type: 'tick', ...tick }),
      log: (level, message) => {
        if (LEVELS[level] >= minLevel) send({ type: 'log', level, message, t: Date.now() });
      },
    }).then(
      // The stage summary carries its own accounting (completed, cut) beside samples and arrivals.
      (result) => send({ type: 'done', summary: result.summary }),
      (err) => sendError(err),
    ).finally(() => {
      stage = undefined;
    });
    stage = { ctl, done };
  };

  const handle = async (line: string) => {
    if (line.trim() === '') return;
    let msg: ControllerMessage;
    try {
      const parsed: unknown = JSON.parse(line);
      if (!Value.Check(ControllerMessageSchema, parsed)) {
        const first = [...Value.Errors(ControllerMessageSchema, parsed)][0];
        throw new E3Error('AGENT', `bad control message: ${first ? `${first.path || '/'}: ${first.message}` : 'unknown shape'}`, {
          hint: 'See docs/agent.md#protocol for the message shapes.',
        });
      }
      msg = parsed;
    } catch (err) {
      sendError(isE3Error(err) ? err : new E3Error('AGENT', `control line is not JSON: ${line.slice(0, 200)}`, { cause: err }));
      return;
    }
    try {
      if (msg.type === 'prepare') await prepare(msg);
      else if (msg.type === 'start') start(msg);
      else if (msg.type === 'stop') stage?.ctl.abort();
    } catch (err) {
      sendError(err);
    }
  };

  const rl = createInterface({ input, crlfDelay: Infinity });
  let chain = Promise.resolve();
  for await (const line of rl) chain = chain.then(() => handle(line));
  await chain;
  // The channel closed: stop any running stage and keep its files.
  if (stage) {
    stage.ctl.abort();
    await stage.done;
  }
  monitorCtl.abort();
  await monitor;
}
