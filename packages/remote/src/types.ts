import type { Readable, Writable } from 'node:stream';

/** Options of {@link NodeHandle.exec}. */
export interface ExecOptions {
  /** Folder to run in. */
  cwd?: string;
  /** Extra environment variables (exported in front of the command on SSH nodes). */
  env?: Record<string, string>;
  /** Fed to the command's stdin, which is then closed. Without it stdin is closed at once. */
  stdin?: string | Buffer | Readable;
  /** Kill the command and throw E3_NODE_TIMEOUT after this long. */
  timeoutMs?: number;
  /** Abort: kill the command and throw E3_INTERRUPTED. */
  signal?: AbortSignal;
  /** Called with each chunk of output as it arrives (besides being collected). */
  onStdout?(chunk: Buffer): void;
  onStderr?(chunk: Buffer): void;
  /** Most bytes kept of each of stdout and stderr (the last ones); 16 MiB by default. */
  maxBuffer?: number;
  /** Throw E3_ENVIRONMENT (naming the node and the command) when the exit code is not 0, with the stderr tail. */
  check?: boolean;
}

/** What a finished command did. A non-zero code is not an error unless `check` was set. */
export interface ExecResult {
  /** Exit code; null when the command was ended by a signal. */
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  /** True when output was longer than `maxBuffer` and only its tail is kept. */
  truncated?: boolean;
}

/** A running command with its streams, for long-lived channels (the agent's NDJSON stdio). */
export interface SpawnedProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles when the command has exited. Never rejects for a non-zero code. */
  wait(): Promise<{ code: number | null; signal?: string }>;
  /** Sends a signal (TERM by default) to the command's whole process group. */
  kill(signal?: 'TERM' | 'KILL' | 'INT' | 'HUP'): void;
}

/** Options of {@link NodeHandle.spawn}. */
export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/** A file's metadata; `mtimeMs` has whole-second precision on SSH nodes. */
export interface FileStat {
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  mtimeMs: number;
  mode: number;
}

/** One entry of {@link NodeHandle.readdir}. */
export interface DirEntry extends FileStat {
  name: string;
}

/**
 * One reachable node: `localhost` (local processes and files) or an SSH connection (exec channels and
 * SFTP). Paths are absolute paths on that node.
 */
export interface NodeHandle {
  /** The node string as given, e.g. `root@10.1.2.3`. */
  readonly node: string;
  readonly kind: 'local' | 'ssh';
  /** The host key the node presented (`"type base64"`); undefined for localhost. */
  readonly hostKey?: string;
  exec(command: string | readonly string[], options?: ExecOptions): Promise<ExecResult>;
  spawn(command: string | readonly string[], options?: SpawnOptions): SpawnedProcess;
  /** Copies a local file to the node: temp name, then rename, so the final name is never partial. */
  putFile(local: string, remote: string, options?: { mode?: number; signal?: AbortSignal; onProgress?(bytes: number): void }): Promise<void>;
  /** Copies a node file to the local disk: temp name, then rename; the local mtime is set to the node's. */
  getFile(remote: string, local: string, options?: { signal?: AbortSignal; onProgress?(bytes: number): void }): Promise<void>;
  /** Metadata, without following a final symlink; undefined when the path does not exist. */
  stat(path: string): Promise<FileStat | undefined>;
  /** `mkdir -p`. */
  mkdir(path: string, options?: { mode?: number }): Promise<void>;
  /** Entries of a folder (not `.` and `..`), sorted by name. */
  readdir(path: string): Promise<DirEntry[]>;
  /** Sets a node file's mtime (used by the size+mtime sync). */
  setMtime(path: string, mtimeMs: number): Promise<void>;
  /** Ends the connection; running commands are cut off. Idempotent. */
  close(): Promise<void>;
  /** True once closed, or once the connection dropped. */
  readonly closed: boolean;
  /** Internal to @e3/remote: how to reach this node with the OpenSSH client (rsync). */
  readonly sshAccess?: SshAccess;
}

/** How the OpenSSH client reaches a node: used for rsync over SSH. */
export interface SshAccess {
  user: string;
  host: string;
  port: number;
  privateKey?: Buffer;
  /** `"type base64"` of the pinned or seen key; absent with `insecure`. */
  hostKey?: string;
  insecure: boolean;
}
