import { spawn as spawnChild } from 'node:child_process';
import { mkdir as mkdirLocal, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';

import { E3Error } from '@e3/model';

import { abortError, tailBuffer } from './collect.js';
import { globMatcher } from './glob.js';
import { localNode } from './local.js';
import type { NodeHandle, SshAccess } from './types.js';

/** One end of a sync: a node handle (`localhost` counts as local) or `'local'`. */
export type SyncEnd = NodeHandle | 'local';

/** Options of {@link syncDir}. */
export interface SyncDirOptions {
  from: SyncEnd;
  to: SyncEnd;
  /** Folder whose contents are copied (like rsync's `src/`). */
  src: string;
  /** Folder receiving them; created when missing. */
  dest: string;
  /** `auto` (default): rsync when both ends have it, SFTP (or a local copy) by size+mtime otherwise. */
  method?: 'auto' | 'rsync' | 'sftp';
  /** Only files modified after this time. */
  newerThan?: Date | number;
  /** Only files matching one of these globs (relative to `src`; a glob without `/` matches the base name). */
  include?: readonly string[];
  /** Never files matching one of these globs. */
  exclude?: readonly string[];
  signal?: AbortSignal;
  /** Called as each file lands. */
  onFile?(file: SyncedFile): void;
}

/** A file that was copied. */
export interface SyncedFile {
  /** Path relative to `src`/`dest`, `/`-separated. */
  path: string;
  /** The file's size. */
  size: number;
  /** Bytes moved for it (rsync's delta transfer may move fewer than `size`). */
  bytes: number;
}

/** What a sync did. Files already up to date are not listed. */
export interface SyncResult {
  method: 'rsync' | 'sftp';
  files: SyncedFile[];
  filesMoved: number;
  bytesMoved: number;
}

interface SourceFile {
  path: string;
  size: number;
  mtimeMs: number;
}

const rsyncOnNode = new WeakMap<NodeHandle, Promise<boolean>>();

async function hasRsync(handle: NodeHandle): Promise<boolean> {
  if (handle.kind === 'local') return (await localNode().exec('command -v rsync')).code === 0;
  let known = rsyncOnNode.get(handle);
  if (!known) {
    known = handle.exec('command -v rsync').then((r) => r.code === 0);
    rsyncOnNode.set(handle, known);
  }
  return known;
}

async function listFiles(handle: NodeHandle, root: string): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await handle.readdir(rel === '' ? root : posix.join(root, rel))) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.type === 'dir') await walk(path);
      else if (entry.type === 'file') out.push({ path, size: entry.size, mtimeMs: entry.mtimeMs });
    }
  };
  await walk('');
  return out;
}

function fileFilter(options: SyncDirOptions): ((f: SourceFile) => boolean) | undefined {
  if (options.newerThan === undefined && !options.include?.length && !options.exclude?.length) return undefined;
  const newer = options.newerThan === undefined ? undefined : new Date(options.newerThan).getTime();
  const inc = (options.include ?? []).map(globMatcher);
  const exc = (options.exclude ?? []).map(globMatcher);
  return (f) =>
    (newer === undefined || f.mtimeMs > newer) && (inc.length === 0 || inc.some((m) => m(f.path))) && !exc.some((m) => m(f.path));
}

/**
 * Copies the files of `src` on one end into `dest` on the other, incrementally: upload (local → node,
 * e.g. shipping the agent bundle) or download (node → local, what gather needs). rsync over SSH where both
 * ends have rsync, with the host key checked against the pinned one; otherwise SFTP, copying files whose
 * size or mtime differ. A file is never visible under its final name until complete. Nothing is deleted at
 * `dest`. Throws E3_IO, E3_NODE_* or E3_INTERRUPTED; node → node is a programming error.
 */
export async function syncDir(options: SyncDirOptions): Promise<SyncResult> {
  const from = options.from === 'local' ? localNode() : options.from;
  const to = options.to === 'local' ? localNode() : options.to;
  if (from.kind === 'ssh' && to.kind === 'ssh') throw new Error('syncDir: node → node is not supported; sync through the controller');
  if (options.signal?.aborted) throw abortError(from.node, `sync ${options.src}`, options.signal.reason);
  const remote = from.kind === 'ssh' ? from : to.kind === 'ssh' ? to : undefined;
  const method = options.method ?? 'auto';
  let useRsync = method === 'rsync';
  if (method === 'auto') useRsync = (await hasRsync(localNode())) && (remote === undefined || (await hasRsync(remote)));
  if (useRsync && remote && !remote.sshAccess) throw new Error('syncDir: this node handle cannot be reached by rsync');

  const filter = fileFilter(options);
  const selected = filter ? (await listFiles(from, options.src)).filter(filter) : undefined;
  await to.mkdir(options.dest);
  if (selected && selected.length === 0) return { method: useRsync ? 'rsync' : 'sftp', files: [], filesMoved: 0, bytesMoved: 0 };

  const files = useRsync
    ? await rsync({ ...options, remote, upload: to.kind === 'ssh', selected })
    : await sftpSync({ ...options, fromHandle: from, toHandle: to, selected: selected ?? (await listFiles(from, options.src)) });
  return { method: useRsync ? 'rsync' : 'sftp', files, filesMoved: files.length, bytesMoved: files.reduce((n, f) => n + f.bytes, 0) };
}

async function sftpSync(
  options: SyncDirOptions & { fromHandle: NodeHandle; toHandle: NodeHandle; selected: SourceFile[] },
): Promise<SyncedFile[]> {
  const { fromHandle: from, toHandle: to } = options;
  const moved: SyncedFile[] = [];
  const madeDirs = new Set<string>();
  for (const file of options.selected) {
    if (options.signal?.aborted) throw abortError(from.node, `sync ${options.src}`, options.signal.reason);
    const srcPath = posix.join(options.src, file.path);
    const destPath = posix.join(options.dest, file.path);
    const existing = await to.stat(destPath);
    if (existing?.type === 'file' && existing.size === file.size && Math.floor(existing.mtimeMs / 1000) === Math.floor(file.mtimeMs / 1000)) continue;
    const dir = posix.dirname(destPath);
    if (!madeDirs.has(dir)) {
      await to.mkdir(dir);
      madeDirs.add(dir);
    }
    const copy = { signal: options.signal };
    if (to.kind === 'ssh') await to.putFile(srcPath, destPath, copy);
    else await from.getFile(srcPath, destPath, copy);
    const synced = { path: file.path, size: file.size, bytes: file.size };
    moved.push(synced);
    options.onFile?.(synced);
  }
  return moved;
}

function sshCommand(access: SshAccess, dir: string): string {
  const args = ['ssh', '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'ConnectTimeout=20', '-o', 'ServerAliveInterval=15'];
  if (access.privateKey) args.push('-i', join(dir, 'key'));
  if (access.insecure) args.push('-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null');
  else args.push('-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'HostKeyAlias=e3-node');
  args.push('-p', String(access.port));
  return args.join(' ');
}

async function rsync(
  options: SyncDirOptions & { remote: NodeHandle | undefined; upload: boolean; selected: SourceFile[] | undefined },
): Promise<SyncedFile[]> {
  const dir = await mkdtemp(join(tmpdir(), 'e3-rsync-'));
  try {
    const args = ['-rlt', '-s', '--timeout=120', '--out-format=E3F|%i|%l|%b|%n'];
    const remoteAccess = options.remote?.sshAccess;
    let prefix = '';
    if (remoteAccess) {
      if (remoteAccess.privateKey) await writeFile(join(dir, 'key'), remoteAccess.privateKey, { mode: 0o600 });
      if (!remoteAccess.insecure) {
        if (!remoteAccess.hostKey) throw new Error('syncDir: the node handle has no host key');
        await writeFile(join(dir, 'known_hosts'), `e3-node ${remoteAccess.hostKey}\n`, { mode: 0o600 });
      }
      args.push('-e', sshCommand(remoteAccess, dir));
      const host = remoteAccess.host.includes(':') ? `[${remoteAccess.host}]` : remoteAccess.host;
      prefix = `${remoteAccess.user}@${host}:`;
    }
    if (options.selected) {
      await writeFile(join(dir, 'files'), options.selected.map((f) => f.path).join('\n') + '\n');
      args.push(`--files-from=${join(dir, 'files')}`);
    }
    const src = `${options.src.replace(/\/+$/, '')}/`;
    const dest = `${options.dest.replace(/\/+$/, '')}/`;
    if (remoteAccess && options.upload) args.push(src, prefix + dest);
    else if (remoteAccess) args.push(prefix + src, dest);
    else {
      await mkdirLocal(dest, { recursive: true });
      args.push(src, dest);
    }
    const files: SyncedFile[] = [];
    const node = options.remote?.node ?? 'localhost';
    const stderr = tailBuffer(64 * 1024);
    const child = spawnChild('rsync', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let rest = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^E3F\|(.)(.)[^|]*\|(\d+)\|(\d+)\|(.*)$/.exec(line);
        if (!m || m[2] !== 'f' || (m[1] !== '>' && m[1] !== '<')) continue;
        const file = { path: m[5]!, size: Number(m[3]), bytes: Number(m[4]) };
        files.push(file);
        options.onFile?.(file);
      }
    });
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', (err) =>
        reject(new E3Error('ENVIRONMENT', `could not start rsync: ${err.message}`, { cause: err, hint: 'Install rsync (apt-get install rsync), or pass method: "sftp"' })),
      );
      child.once('close', (c) => resolve(c));
    }).finally(() => {
      options.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
    });
    if (options.signal?.aborted) throw abortError(node, `rsync ${options.src}`, options.signal.reason);
    // 24: some source files vanished during the transfer (a live run); the rest was copied.
    if (code !== 0 && code !== 24) {
      const text = stderr.text().trim().split('\n').slice(-5).join('\n');
      const kind = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(text)
        ? 'HOST_KEY_MISMATCH'
        : /Permission denied \(/.test(text)
          ? 'NODE_AUTH'
          : code === 255
            ? 'NODE_UNREACHABLE'
            : 'IO';
      throw new E3Error(kind, `${node}: rsync ${options.upload ? 'to' : 'from'} ${options.upload ? options.dest : options.src} failed (exit ${code}):\n${text}`);
    }
    return files;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
