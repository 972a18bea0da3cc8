import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { lstat, mkdir as mkdirLocal, readdir as readdirLocal, utimes } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';

import { E3Error } from '@e3/model';

import { abortError, checkResult, DEFAULT_MAX_BUFFER, tailBuffer, timeoutError } from './collect.js';
import { copyLocalAtomic } from './local-copy.js';
import type { DirEntry, ExecOptions, ExecResult, FileStat, NodeHandle, SpawnedProcess, SpawnOptions } from './types.js';

function startChild(command: string | readonly string[], options: { cwd?: string; env?: Record<string, string> }): ChildProcess {
  const env = { ...process.env, ...options.env };
  const [file, args] = typeof command === 'string' ? ['/bin/sh', ['-c', command]] : [command[0], command.slice(1)];
  if (file === undefined) throw new Error('empty command');
  // detached: the command leads its own process group, so a kill reaches its children too.
  return spawnChild(file, args, { cwd: options.cwd, env, detached: true, stdio: 'pipe' });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

function toStat(s: Stats): FileStat {
  const type = s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : 'other';
  return { type, size: s.size, mtimeMs: s.mtimeMs, mode: s.mode & 0o7777 };
}

function ioError(node: string, what: string, path: string, cause: unknown): E3Error {
  return new E3Error('IO', `${node}: could not ${what} ${path}: ${(cause as Error).message}`, { cause });
}

/** A {@link NodeHandle} for `localhost`: local child processes and the local file system. */
export function localNode(): NodeHandle {
  const node = 'localhost';
  let closed = false;
  const running = new Set<ChildProcess>();

  async function exec(command: string | readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (options.signal?.aborted) throw abortError(node, command, options.signal.reason);
    const child = startChild(command, options);
    running.add(child);
    const max = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    const out = tailBuffer(max);
    const err = tailBuffer(max);
    child.stdout!.on('data', (c: Buffer) => {
      out.push(c);
      options.onStdout?.(c);
    });
    child.stderr!.on('data', (c: Buffer) => {
      err.push(c);
      options.onStderr?.(c);
    });
    child.stdin!.on('error', () => undefined);
    if (options.stdin === undefined) child.stdin!.end();
    else if (typeof options.stdin === 'string' || Buffer.isBuffer(options.stdin)) child.stdin!.end(options.stdin);
    else options.stdin.pipe(child.stdin!);

    let failure: E3Error | undefined;
    const stop = (e: E3Error) => {
      failure ??= e;
      killGroup(child, 'SIGKILL');
    };
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => stop(timeoutError(node, command, options.timeoutMs!)), options.timeoutMs);
    const onAbort = () => stop(abortError(node, command, options.signal?.reason));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
        child.once('error', (e) =>
          reject(new E3Error('ENVIRONMENT', `localhost: could not start \`${typeof command === 'string' ? command : command[0]}\`: ${e.message}`, { cause: e })),
        );
        child.once('close', (c, s) => resolve([c, s]));
      });
      if (failure) throw failure;
      const result: ExecResult = { code, stdout: out.text(), stderr: err.text() };
      if (signal) result.signal = signal.replace(/^SIG/, '');
      if (out.truncated || err.truncated) result.truncated = true;
      return checkResult(node, command, result, options.check);
    } finally {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      running.delete(child);
    }
  }

  function spawn(command: string | readonly string[], options: SpawnOptions = {}): SpawnedProcess {
    const child = startChild(command, options);
    running.add(child);
    const done = new Promise<{ code: number | null; signal?: string }>((resolve) => {
      child.once('error', () => resolve({ code: null, signal: 'ERROR' }));
      child.once('close', (code, signal) => {
        running.delete(child);
        resolve(signal ? { code, signal: signal.replace(/^SIG/, '') } : { code });
      });
    });
    child.stdin!.on('error', () => undefined);
    const onAbort = () => killGroup(child, 'SIGTERM');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    void done.then(() => options.signal?.removeEventListener('abort', onAbort));
    return {
      stdin: child.stdin!,
      stdout: child.stdout!,
      stderr: child.stderr!,
      wait: () => done,
      kill: (signal = 'TERM') => killGroup(child, `SIG${signal}`),
    };
  }

  async function stat(path: string): Promise<FileStat | undefined> {
    try {
      return toStat(await lstat(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError(node, 'stat', path, e);
    }
  }

  return {
    node,
    kind: 'local',
    exec,
    spawn,
    async putFile(local, remote, options = {}) {
      try {
        const s = await lstat(local);
        await copyLocalAtomic(local, remote, { ...options, mode: options.mode ?? s.mode & 0o777, mtimeMs: s.mtimeMs });
      } catch (e) {
        if (options.signal?.aborted) throw abortError(node, `copy ${local}`, options.signal.reason);
        throw ioError(node, 'copy to', remote, e);
      }
    },
    async getFile(remote, local, options = {}) {
      try {
        const s = await lstat(remote);
        await copyLocalAtomic(remote, local, { ...options, mode: s.mode & 0o777, mtimeMs: s.mtimeMs });
      } catch (e) {
        if (options.signal?.aborted) throw abortError(node, `copy ${remote}`, options.signal.reason);
        throw ioError(node, 'copy from', remote, e);
      }
    },
    stat,
    async mkdir(path, options = {}) {
      try {
        await mkdirLocal(path, { recursive: true, mode: options.mode });
      } catch (e) {
        throw ioError(node, 'create folder', path, e);
      }
    },
    async readdir(path) {
      try {
        const names = (await readdirLocal(path)).sort();
        const entries: DirEntry[] = [];
        for (const name of names) {
          const s = await stat(join(path, name));
          if (s) entries.push({ name, ...s });
        }
        return entries;
      } catch (e) {
        throw ioError(node, 'list', path, e);
      }
    },
    async setMtime(path, mtimeMs) {
      try {
        await utimes(path, new Date(), new Date(mtimeMs));
      } catch (e) {
        throw ioError(node, 'set the time of', path, e);
      }
    },
    async close() {
      closed = true;
      for (const child of running) killGroup(child, 'SIGKILL');
    },
    get closed() {
      return closed;
    },
  };
}

