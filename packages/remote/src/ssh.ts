import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir as mkdirLocal, rename as renameLocal, rm, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PassThrough } from 'node:stream';

import { E3Error } from '@e3/model';
import ssh2 from 'ssh2';
import type { Client as SshClient, ClientChannel, ConnectConfig, SFTPWrapper, Stats as SftpStats } from 'ssh2';

import { abortError, checkResult, DEFAULT_MAX_BUFFER, tailBuffer, timeoutError } from './collect.js';
import { connectError } from './connect-errors.js';
import { fingerprint, formatHostKey, parseHostKey } from './host-key.js';
import { limiter } from './limiter.js';
import { pump, tempNameFor } from './local-copy.js';
import { shellLine, shellQuote, type NodeSpec } from './node-spec.js';
import { pidSniffer, withPidMark } from './pid-mark.js';
import type { DirEntry, ExecOptions, ExecResult, FileStat, NodeHandle, SpawnedProcess, SpawnOptions, SshAccess } from './types.js';

/** Host-key policy of a connection. */
export interface HostKeyPolicy {
  /** The pinned key, `"type base64"` (an instance file's `HostKeys[node]`). */
  pinned?: string;
  /** Called with the presented key when nothing is pinned; the connection goes on once it settles. */
  onFirstContact?(key: string): Promise<void> | void;
  /** Accept any host key. Callers must say so to the user. */
  insecure?: boolean;
}

export interface SshConnectOptions {
  spec: Extract<NodeSpec, { kind: 'ssh' }>;
  privateKey?: Buffer;
  keyFile?: string;
  hostKey: HostKeyPolicy;
  keepaliveIntervalMs: number;
  readyTimeoutMs: number;
  signal?: AbortSignal;
}

const HOST_KEY_ALGORITHMS: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/** The most channels used at once on one connection (OpenSSH's MaxSessions is 10; SFTP holds one). */
const MAX_CHANNELS = 8;
const SFTP_NO_SUCH_FILE = 2;

function sftpStat(attrs: SftpStats): FileStat {
  const fmt = attrs.mode & 0o170000;
  const type = fmt === 0o100000 ? 'file' : fmt === 0o040000 ? 'dir' : fmt === 0o120000 ? 'symlink' : 'other';
  return { type, size: attrs.size, mtimeMs: attrs.mtime * 1000, mode: attrs.mode & 0o7777 };
}

function hostKeyMismatch(node: string, pinned: string, seen: string): E3Error {
  return new E3Error(
    'HOST_KEY_MISMATCH',
    `${node}: the host key changed: pinned ${fingerprint(pinned)}, presented ${fingerprint(seen)}. No command was run.`,
    {
      hint: `If the node was rebuilt on purpose, delete "${node}" from HostKeys in its instance file (e3-home/instances/<name>.json) and connect again; otherwise do not use this node`,
      details: { node, pinned: fingerprint(pinned), presented: fingerprint(seen) },
    },
  );
}

/** One SSH connection as its channels share it. */
interface SshConn {
  node: string;
  client: SshClient;
  closed: boolean;
  /** Why the connection broke, once it did. */
  lostError?: E3Error;
  /** At most MAX_CHANNELS commands at once. */
  channels: <T>(fn: () => Promise<T>) => Promise<T>;
}

/**
 * Connects and authenticates, checking the host key by `options.hostKey`. Returns the client and the key
 * the server presented. Throws E3_NODE_*, E3_HOST_KEY_MISMATCH, E3_INVALID_FILE (a bad pinned key) or E3_INTERRUPTED.
 */
async function handshake(options: SshConnectOptions): Promise<{ client: SshClient; seenKey(): string | undefined }> {
  const { spec, hostKey } = options;
  const node = spec.node;
  if (!hostKey.insecure && hostKey.pinned === undefined && hostKey.onFirstContact === undefined) {
    throw new Error(`connectNode(${node}): give hostKey.pinned, hostKey.onFirstContact or hostKey.insecure`);
  }
  let pinned: ReturnType<typeof parseHostKey> | undefined;
  try {
    pinned = hostKey.pinned === undefined ? undefined : parseHostKey(hostKey.pinned);
  } catch (cause) {
    throw new E3Error('INVALID_FILE', `${node}: the pinned host key is not "type base64": ${(cause as Error).message}`, {
      cause,
      hint: `Edit HostKeys["${node}"] in the instance file (e3-home/instances/<name>.json), or delete it to pin again on next contact`,
    });
  }
  const client: SshClient = new ssh2.Client();
  let verifyError: unknown;
  let seenKey: string | undefined;

  const config: ConnectConfig = {
    host: spec.host,
    port: spec.port,
    username: spec.user,
    readyTimeout: options.readyTimeoutMs,
    keepaliveInterval: options.keepaliveIntervalMs,
    keepaliveCountMax: 4,
    hostVerifier: (blob: Buffer, verify: (ok: boolean) => void) => {
      const seen = formatHostKey(blob);
      seenKey = seen;
      if (hostKey.insecure) return verify(true);
      if (pinned) {
        if (Buffer.compare(pinned.blob, blob) === 0) return verify(true);
        verifyError = hostKeyMismatch(node, hostKey.pinned!, seen);
        return verify(false);
      }
      Promise.resolve()
        .then(() => hostKey.onFirstContact!(seen))
        .then(
          () => verify(true),
          (err: unknown) => {
            verifyError = err;
            verify(false);
          },
        );
    },
  };
  if (options.privateKey) config.privateKey = options.privateKey;
  if (pinned) {
    const algos = HOST_KEY_ALGORITHMS[pinned.type] ?? [pinned.type];
    config.algorithms = { serverHostKey: { prepend: algos } as never };
  }

  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      client.end();
      reject(new E3Error('INTERRUPTED', `${node}: connecting was aborted`, { cause: options.signal?.reason }));
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => options.signal?.removeEventListener('abort', onAbort);
    client.once('ready', () => {
      done();
      resolve();
    });
    client.once('error', (err: Error & { level?: string; code?: string }) => {
      done();
      client.end();
      reject(verifyError ?? connectError(node, err, { keyFile: options.keyFile, readyTimeoutMs: options.readyTimeoutMs }));
    });
    try {
      client.connect(config);
    } catch (err) {
      done();
      reject(new E3Error('NODE_AUTH', `${node}: the private key ${options.keyFile ?? ''} cannot be used: ${(err as Error).message}`, { cause: err }));
    }
  });
  return { client, seenKey: () => seenKey };
}

/** The connection's SFTP session (opened on first use, again after it closes) and calls on it that throw E3_IO naming the path. */
function sftpSession(conn: SshConn) {
  const { node, client } = conn;
  let sftpPromise: Promise<SFTPWrapper> | undefined;
  const sftp = (): Promise<SFTPWrapper> => {
    sftpPromise ??= new Promise<SFTPWrapper>((resolve, reject) => {
      client.sftp((err, s) => {
        if (err) {
          sftpPromise = undefined;
          reject(new E3Error('ENVIRONMENT', `${node}: SFTP is not available: ${err.message}`, { cause: err, hint: 'Enable the sftp Subsystem in the node\'s sshd_config' }));
        } else {
          s.on('close', () => {
            sftpPromise = undefined;
          });
          resolve(s);
        }
      });
    });
    return sftpPromise;
  };
  const sftpCall = <T>(what: string, path: string, fn: (s: SFTPWrapper, cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> =>
    sftp().then(
      (s) =>
        new Promise<T>((resolve, reject) =>
          fn(s, (err, value) => {
            if (err) {
              const e = new E3Error('IO', `${node}: could not ${what} ${path}: ${err.message}`, { cause: err });
              (e as unknown as { sftpCode?: number }).sftpCode = (err as Error & { code?: number }).code;
              reject(e);
            } else resolve(value as T);
          }),
        ),
    );

  async function stat(path: string): Promise<FileStat | undefined> {
    try {
      return sftpStat(await sftpCall<SftpStats>('stat', path, (s, cb) => s.lstat(path, cb)));
    } catch (e) {
      if ((e as { sftpCode?: number }).sftpCode === SFTP_NO_SUCH_FILE) return undefined;
      throw e;
    }
  }

  async function renameRemote(from: string, to: string): Promise<void> {
    const s = await sftp();
    await new Promise<void>((resolve, reject) => {
      s.ext_openssh_rename(from, to, (err) => {
        if (!err) return resolve();
        // Servers without posix-rename: rename fails over an existing file, so remove it first.
        s.unlink(to, () => s.rename(from, to, (err2) => (err2 ? reject(err2) : resolve())));
      });
    }).catch((err: Error) => {
      throw new E3Error('IO', `${node}: could not rename ${from} to ${to}: ${err.message}`, { cause: err });
    });
  }

  return { sftp, sftpCall, stat, renameRemote };
}

type ChannelExit = { code: number | null; signal?: string; lost: boolean };

/**
 * Opens an exec channel. The exit listener is attached inside ssh2's callback: a fast command's
 * exit-status can arrive in the same socket read as the channel confirmation, before any `await` resumes.
 */
function openChannel(conn: SshConn, line: string): Promise<{ channel: ClientChannel; exit: Promise<ChannelExit> }> {
  const { node } = conn;
  if (conn.closed) return Promise.reject(conn.lostError ?? new E3Error('NODE_UNREACHABLE', `${node}: the SSH connection is closed`));
  return new Promise((resolve, reject) => {
    conn.client.exec(line, (err, channel) => {
      if (err) return reject(conn.lostError ?? new E3Error('NODE_UNREACHABLE', `${node}: could not open a command channel: ${err.message}`, { cause: err }));
      const exit = new Promise<ChannelExit>((resolveExit) => {
        let status: { code: number | null; signal?: string } | undefined;
        channel.on('exit', (code: number | null, signal?: string) => {
          status = signal ? { code: null, signal } : { code };
        });
        channel.once('close', () => resolveExit(status ? { ...status, lost: false } : { code: null, lost: true }));
      });
      resolve({ channel, exit });
    });
  });
}

/** Signals the process group of a command by a separate channel (outside the channel limit). */
function signalGroup(conn: SshConn, pid: number, signal: string): void {
  if (conn.closed) return;
  void openChannel(conn, `kill -${signal} -${pid} 2>/dev/null`).then(
    ({ channel: ch }) => {
      ch.on('error', () => undefined);
      ch.resume();
      ch.stderr.resume();
      ch.end();
    },
    () => undefined,
  );
}

/** NodeHandle.exec over `conn`. */
function sshExec(conn: SshConn, command: string | readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const { node } = conn;
  if (options.signal?.aborted) return Promise.reject(abortError(node, command, options.signal.reason));
  const line = shellLine(command, options);
  return conn.channels(async () => {
    const { channel, exit: finished } = await openChannel(conn, withPidMark(line));
    const max = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    const out = tailBuffer(max);
    const err = tailBuffer(max);
    let pid: number | undefined;
    let failure: E3Error | undefined;
    channel.on('data', (c: Buffer) => {
      out.push(c);
      options.onStdout?.(c);
    });
    channel.stderr.on(
      'data',
      pidSniffer(
        (p) => {
          pid = p;
          if (failure) signalGroup(conn, p, 'KILL');
        },
        (c) => {
          err.push(c);
          options.onStderr?.(c);
        },
      ),
    );
    channel.on('error', () => undefined);
    if (options.stdin === undefined) channel.end();
    else if (typeof options.stdin === 'string' || Buffer.isBuffer(options.stdin)) channel.end(options.stdin);
    else options.stdin.pipe(channel);

    const stop = (e: E3Error) => {
      if (failure) return;
      failure = e;
      if (pid !== undefined) signalGroup(conn, pid, 'KILL');
    };
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => stop(timeoutError(node, command, options.timeoutMs!)), options.timeoutMs);
    const onAbort = () => stop(abortError(node, command, options.signal?.reason));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const exit = await finished;
      if (failure) throw failure;
      if (exit.lost) {
        throw conn.lostError ?? new E3Error('NODE_UNREACHABLE', `${node}: the connection closed before \`${line.slice(0, 80)}\` finished`);
      }
      const result: ExecResult = { code: exit.code, stdout: out.text(), stderr: err.text() };
      if (exit.signal) result.signal = exit.signal;
      if (out.truncated || err.truncated) result.truncated = true;
      return checkResult(node, command, result, options.check);
    } finally {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  });
}

/** NodeHandle.spawn over `conn`. */
function sshSpawn(conn: SshConn, command: string | readonly string[], options: SpawnOptions = {}): SpawnedProcess {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let pid: number | undefined;
  let pendingKill: string | undefined;
  let exited = false;
  const kill = (signal: 'TERM' | 'KILL' | 'INT' | 'HUP' = 'TERM') => {
    if (exited) return;
    if (pid === undefined) {
      pendingKill = signal;
      return;
    }
    signalGroup(conn, pid, signal);
  };
  const done = conn.channels(async () => {
    let ch: ClientChannel;
    let finished: Promise<ChannelExit>;
    try {
      ({ channel: ch, exit: finished } = await openChannel(conn, withPidMark(shellLine(command, options))));
    } catch (err) {
      stdout.destroy(err as Error);
      stderr.end();
      return { code: null, signal: 'ERROR' };
    }
    ch.pipe(stdout);
    ch.stderr.on(
      'data',
      pidSniffer(
        (p) => {
          pid = p;
          if (pendingKill) kill(pendingKill as 'TERM');
        },
        (c) => stderr.write(c),
      ),
    );
    ch.stderr.once('end', () => stderr.end());
    stdin.pipe(ch);
    ch.on('error', () => undefined);
    const exit = await finished;
    exited = true;
    return exit.signal ? { code: exit.code, signal: exit.signal } : { code: exit.code };
  });
  const onAbort = () => kill('TERM');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  void done.then(() => options.signal?.removeEventListener('abort', onAbort));
  return { stdin, stdout, stderr, wait: () => done, kill };
}

/** Opens an SSH connection and returns its {@link NodeHandle}. Throws E3_NODE_* or E3_HOST_KEY_MISMATCH. */
export async function connectSsh(options: SshConnectOptions): Promise<NodeHandle> {
  const { spec, hostKey } = options;
  const node = spec.node;
  const { client, seenKey } = await handshake(options);
  const conn: SshConn = { node, client, closed: false, channels: limiter(MAX_CHANNELS) };
  client.on('error', (err: Error) => {
    conn.lostError = new E3Error('NODE_UNREACHABLE', `${node}: the SSH connection failed: ${err.message}`, { cause: err });
  });
  client.on('close', () => {
    conn.closed = true;
  });
  const { sftp, sftpCall, stat, renameRemote } = sftpSession(conn);
  const exec = (command: string | readonly string[], o?: ExecOptions) => sshExec(conn, command, o);

  const handle: NodeHandle = {
    node,
    kind: 'ssh',
    get hostKey() {
      return seenKey();
    },
    exec,
    spawn: (command, o) => sshSpawn(conn, command, o),
    async putFile(local, remote, opts = {}) {
      const localStat = await lstat(local).catch((e: Error) => {
        throw new E3Error('IO', `could not read ${local}: ${e.message}`, { cause: e });
      });
      const mode = opts.mode ?? localStat.mode & 0o777;
      const tmp = tempNameFor(remote);
      const s = await sftp();
      try {
        await pump(createReadStream(local), s.createWriteStream(tmp, { mode }), opts);
        await sftpCall('chmod', tmp, (x, cb) => x.chmod(tmp, mode, cb));
        const secs = Math.floor(localStat.mtimeMs / 1000);
        await sftpCall('set the time of', tmp, (x, cb) => x.utimes(tmp, secs, secs, cb));
        await renameRemote(tmp, remote);
      } catch (err) {
        await new Promise<void>((resolve) => s.unlink(tmp, () => resolve()));
        if (opts.signal?.aborted) throw abortError(node, `put ${remote}`, opts.signal.reason);
        if (err instanceof E3Error) throw err;
        throw new E3Error('IO', `${node}: could not copy ${local} to ${remote}: ${(err as Error).message}`, { cause: err });
      }
    },
    async getFile(remote, local, opts = {}) {
      const st = await stat(remote);
      if (!st) throw new E3Error('IO', `${node}: could not copy ${remote}: no such file`);
      const s = await sftp();
      await mkdirLocal(dirname(local), { recursive: true });
      const tmp = tempNameFor(local);
      try {
        await pump(s.createReadStream(remote), createWriteStream(tmp, { mode: st.mode & 0o777 }), opts);
        await utimes(tmp, new Date(), new Date(st.mtimeMs));
        await renameLocal(tmp, local);
      } catch (err) {
        await rm(tmp, { force: true });
        if (opts.signal?.aborted) throw abortError(node, `get ${remote}`, opts.signal.reason);
        throw new E3Error('IO', `${node}: could not copy ${remote} to ${local}: ${(err as Error).message}`, { cause: err });
      }
    },
    stat,
    async mkdir(path, opts = {}) {
      const mode = opts.mode === undefined ? '' : `-m ${opts.mode.toString(8)} `;
      await exec(`mkdir -p ${mode}-- ${shellQuote(path)}`, { check: true });
    },
    async readdir(path) {
      const list = await sftpCall<Array<{ filename: string; attrs: SftpStats }>>('list', path, (s, cb) => s.readdir(path, cb));
      return list
        .filter((e) => e.filename !== '.' && e.filename !== '..')
        .map((e): DirEntry => ({ name: e.filename, ...sftpStat(e.attrs) }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async setMtime(path, mtimeMs) {
      const secs = Math.floor(mtimeMs / 1000);
      await sftpCall('set the time of', path, (s, cb) => s.utimes(path, secs, secs, cb));
    },
    async close() {
      if (conn.closed) return;
      await new Promise<void>((resolve) => {
        client.once('close', () => resolve());
        client.end();
        setTimeout(resolve, 2000).unref();
      });
      conn.closed = true;
    },
    get closed() {
      return conn.closed;
    },
    sshAccess: Object.defineProperty(
      {
        user: spec.user,
        host: spec.host,
        port: spec.port,
        get hostKey() {
          return hostKey.insecure ? undefined : seenKey();
        },
        insecure: hostKey.insecure === true,
      },
      // Not enumerable, so logging a handle never prints the key.
      'privateKey',
      { value: options.privateKey, enumerable: false },
    ) as SshAccess,
  };
  return handle;
}
