import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';

import { E3Error, writeJsonAtomic } from '@e3/model';

import { createUser, openDb } from './db.js';
import type { TargetState } from './http/context.js';
import { createRequestHandler } from './http/server.js';
import { startMetrics } from './metrics.js';
import { hostKey, startSshServer } from './ssh.js';
import { createTickets } from './tickets.js';

export interface StartTargetOptions {
  /** The target's data folder (created if missing): `target.db`, `repos/`, `log/`, `state/`. */
  data: string;
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** HTTP port; default 7990; 0 picks a free port. */
  httpPort?: number;
  /** SSH port; default 7999; 0 picks a free port. */
  sshPort?: number;
  /** Context path such as `/bitbucket`; default none. */
  contextPath?: string;
  /** Hosting tickets: concurrent git operations; default 2 × CPUs, at least 4. */
  maxGitOps?: number;
  /** Latency added to every git operation while it holds its ticket (a slow-storage model); default 0. */
  gitLatencyMs?: number;
  /** How long a git operation may wait for a ticket; default 300 000 ms. */
  queueTimeoutMs?: number;
  /** Metrics sample interval; default 5000 ms. */
  metricsIntervalMs?: number;
  /** Creates the `admin` user with this password when the database has no admin yet. */
  adminPassword?: string;
  /** Application log lines (errors). Default: appended to `<data>/log/atlassian-bitbucket.log`. */
  log?: (line: string) => void;
}

export interface RunningTarget {
  /** Base URL including the context path, e.g. `http://127.0.0.1:7990/bitbucket`. */
  url: string;
  httpPort: number;
  sshPort: number;
  /** Stops accepting, ends connections, writes a last metrics sample, closes the database. */
  close(): Promise<void>;
}

/** `<data>/target.json`: pid, ports and URL of the running target (removed on close). */
export interface TargetRuntimeInfo {
  pid: number;
  url: string;
  host: string;
  httpPort: number;
  sshPort: number;
  contextPath: string;
}

export function runtimeFile(data: string): string {
  return join(data, 'target.json');
}

/** `<data>/target.pid`: the pid of the running target (also in target.json). */
export function pidFile(data: string): string {
  return join(data, 'target.pid');
}

/** Reads `<data>/target.json` when the target it names is alive; otherwise undefined. */
export function readRuntimeInfo(data: string): TargetRuntimeInfo | undefined {
  const file = runtimeFile(data);
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as TargetRuntimeInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}

/** The per-start token that lets local tools (`restore-state`) act as admin: `<data>/control.token`, mode 0600. */
export function controlTokenFile(data: string): string {
  return join(data, 'control.token');
}

function normaliseContext(context: string | undefined): string {
  if (!context || context === '/') return '';
  const c = '/' + context.replace(/^\/+|\/+$/g, '');
  if (!/^(\/[A-Za-z0-9._-]+)+$/.test(c)) throw new E3Error('USAGE', `--context '${context}' is not a URL path such as /bitbucket`);
  return c;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const onError = (err: NodeJS.ErrnoException): void =>
      reject(
        new E3Error('TARGET', `could not listen on ${host}:${port}: ${err.message}`, {
          cause: err,
          hint: err.code === 'EADDRINUSE' ? `Stop what uses port ${port}, or pass another port (--http-port / --ssh-port).` : undefined,
        }),
      );
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolvePort((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts a target on `options.data`: HTTP (REST, web, smart git) and SSH (git). Writes `<data>/target.json`
 * and `<data>/control.token`, the access log and metrics under `<data>/log/`. Throws E3_TARGET when a port
 * is taken, E3_USAGE for a bad context path.
 */
export async function startTarget(options: StartTargetOptions): Promise<RunningTarget> {
  const data = resolve(options.data);
  const host = options.host ?? '127.0.0.1';
  const contextPath = normaliseContext(options.contextPath);
  await mkdir(join(data, 'repos'), { recursive: true });
  await mkdir(join(data, 'log'), { recursive: true });
  const db = openDb(join(data, 'target.db'));
  if (options.adminPassword !== undefined && !db.prepare('SELECT 1 FROM users WHERE is_admin = 1').get()) {
    createUser(db, { name: 'admin', password: options.adminPassword, displayName: 'Administrator', admin: true });
  }
  const accessStream = createWriteStream(join(data, 'log', 'atlassian-bitbucket-access.log'), { flags: 'a' });
  const appStream = options.log ? undefined : createWriteStream(join(data, 'log', 'atlassian-bitbucket.log'), { flags: 'a' });
  const log = options.log ?? ((line: string) => appStream!.write(`${new Date().toISOString()} ${line}\n`));
  const maxGitOps = options.maxGitOps ?? Math.max(4, 2 * (await import('node:os')).availableParallelism());
  const state: TargetState = {
    dataDir: data,
    db,
    tickets: createTickets({ max: maxGitOps, timeoutMs: options.queueTimeoutMs ?? 300_000, ...(options.gitLatencyMs ? { latencyMs: options.gitLatencyMs } : {}) }),
    sessions: new Map(),
    controlToken: '',
    contextPath,
    baseUrl: '',
    sshPort: 0,
    host,
    counters: { requests: 0, processingMs: 0, errors5xx: 0, pulls: 0, pushes: 0 },
    authCache: new Map(),
    repoLocks: new Map(),
    log,
    accessLog: (line) => accessStream.write(line + '\n'),
  };
  const http = createServer({ maxHeaderSize: 32 * 1024, requestTimeout: 600_000, keepAliveTimeout: 5_000 }, createRequestHandler(state));
  http.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"errors":[{"context":null,"message":"Malformed HTTP request.","exceptionName":null}]}');
    else socket.destroy();
  });
  let httpPort: number;
  let ssh: Awaited<ReturnType<typeof startSshServer>>;
  try {
    httpPort = await listen(http, options.httpPort ?? 7990, host);
    ssh = await startSshServer(state, { host, port: options.sshPort ?? 7999, hostKey: await hostKey(data) }).catch((err: NodeJS.ErrnoException) => {
      throw new E3Error('TARGET', `could not listen for SSH on ${host}:${options.sshPort ?? 7999}: ${err.message}`, { cause: err, hint: 'Pass another --ssh-port.' });
    });
  } catch (err) {
    http.close();
    db.close();
    accessStream.end();
    appStream?.end();
    throw err;
  }
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  state.baseUrl = `http://${urlHost}:${httpPort}${contextPath}`;
  state.sshPort = ssh.port;
  state.host = urlHost;
  const stopMetrics = startMetrics(state, { intervalMs: options.metricsIntervalMs ?? 5000, onError: (err) => log(`metrics: ${(err as Error).message}`) });
  const token = randomBytes(24).toString('hex');
  await writeFile(controlTokenFile(data), token, { mode: 0o600 });
  state.controlToken = token;
  const info: TargetRuntimeInfo = { pid: process.pid, url: state.baseUrl, host: urlHost, httpPort, sshPort: ssh.port, contextPath };
  await writeJsonAtomic(runtimeFile(data), info);
  await writeFile(pidFile(data), `${process.pid}\n`);
  let closed: Promise<void> | undefined;
  return {
    url: state.baseUrl,
    httpPort,
    sshPort: ssh.port,
    close: () =>
      (closed ??= (async () => {
        await Promise.all([
          ssh.close(),
          new Promise<void>((r) => {
            http.close(() => r());
            http.closeAllConnections();
          }),
        ]);
        await stopMetrics();
        await rm(runtimeFile(data), { force: true });
        await rm(pidFile(data), { force: true });
        await rm(controlTokenFile(data), { force: true });
        db.close();
        await new Promise<void>((r) => accessStream.end(() => r()));
        if (appStream) await new Promise<void>((r) => appStream.end(() => r()));
      })()),
  };
}
