import { spawn } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';

import { opFailure, redact } from '../recorder/errors.js';
import { now, type OpSink } from '../recorder/sink.js';

/** Who git runs as: a home folder, and credentials for HTTP (basic) or SSH (a private key). */
export interface GitIdentity {
  username: string;
  password?: string;
  privateKey?: string;
}

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface GitCallOptions {
  cwd?: string;
  /** Run as this identity (HOME, SSH key, HTTP basic credentials); default: the runner's own plain HOME. */
  as?: GitIdentity;
  /** The samples' op (default `git <subcommand>`). */
  op?: string;
  /** Exit codes that count as success (default [0]). */
  expect?: readonly number[];
  /** When false, a failing exit is recorded and returned instead of thrown (default true). */
  throwOnFailure?: boolean;
  timeoutMs?: number;
  /** Do not record a sample (housekeeping such as teardown). */
  unrecorded?: boolean;
}

/** Runs git; every call is one `request` sample. Rejects with an OpFailure (class git, timeout or cut) unless told not to. */
export type GitApi = (args: readonly string[], options?: GitCallOptions) => Promise<GitResult>;

export interface GitRunnerOptions {
  /** Where per-user homes are made: `<homesDir>/<base64url(username)>`. */
  homesDir: string;
  sink: OpSink;
  signal?: AbortSignal;
  /** Default timeout per git call (ms), default 600 000. */
  timeoutMs?: number;
  /** The git binary (default `git`). */
  gitPath?: string;
  /** Shares prepared homes between runners of one worker (keyed by user). */
  homeCache?: Map<string, Promise<NodeJS.ProcessEnv>>;
}

const b64url = (s: string): string => Buffer.from(s).toString('base64url');

/**
 * The informative part of git's stderr for an error message: its `fatal:`/`error:`/`ssh:`/`remote:`/
 * `! [rejected]` lines (git's advice text after them is dropped), else the last lines; at most 240 characters.
 */
export function gitErrorText(stderr: string): string {
  const lines = stderr.split(/\r?\n|\r/).map((l) => l.trim()).filter(Boolean);
  const key = lines.filter((l) => /^(fatal|error|ssh|remote|hint: Updates were rejected)|^! \[/.test(l));
  return (key.length > 0 ? key.slice(0, 3) : lines.slice(-3)).join('; ').slice(0, 240);
}
const tail = gitErrorText;

/** A process's exit status as a shell gives it: its exit code, or 128 + the number of the signal that ended it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return signal ? 128 + (osConstants.signals[signal] ?? 0) : -1;
}

/**
 * A git runner: the real git binary, a per-user HOME (`.gitconfig`, `.ssh/id_rsa` 0600), `GIT_SSH_COMMAND`
 * with that key, HTTP credentials passed as an `http.extraHeader` through GIT_CONFIG_* environment
 * variables (never in URLs or argv), credential helpers and prompts off.
 */
export function createGitRunner(options: GitRunnerOptions): GitApi {
  const homes = options.homeCache ?? new Map<string, Promise<NodeJS.ProcessEnv>>();
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
  };

  const envFor = (who: GitIdentity): Promise<NodeJS.ProcessEnv> => {
    const key = who.username + '\u0000' + (who.privateKey ? 'k' : '') + (who.password ?? '');
    let p = homes.get(key);
    if (!p) {
      p = (async () => {
        const home = join(options.homesDir, b64url(who.username));
        await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
        await writeFile(
          join(home, '.gitconfig'),
          `[user]\n\tname = ${who.username}\n\temail = ${who.username}@e3.invalid\n[credential]\n\thelper =\n[advice]\n\tdetachedHead = false\n[init]\n\tdefaultBranch = master\n[http]\n\tpostBuffer = 524288000\n`,
        );
        const env: NodeJS.ProcessEnv = { ...baseEnv, HOME: home, USER: who.username, LOGNAME: who.username, SHELL: '/bin/sh' };
        let count = 0;
        if (who.privateKey) {
          const keyFile = join(home, '.ssh', 'id_rsa');
          await writeFile(keyFile, who.privateKey.endsWith('\n') ? who.privateKey : who.privateKey + '\n', { mode: 0o600 });
          await chmod(keyFile, 0o600);
          env.SSH_KEY_PATH = keyFile;
          env.GIT_SSH_COMMAND = `ssh -i '${keyFile}' -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR`;
        }
        env[`GIT_CONFIG_KEY_${count}`] = 'credential.helper';
        env[`GIT_CONFIG_VALUE_${count++}`] = '';
        if (who.password !== undefined) {
          const basic = Buffer.from(`${who.username}:${who.password}`).toString('base64');
          env[`GIT_CONFIG_KEY_${count}`] = 'http.extraHeader';
          env[`GIT_CONFIG_VALUE_${count++}`] = `Authorization: Basic ${basic}`;
        }
        env.GIT_CONFIG_COUNT = String(count);
        return env;
      })();
      homes.set(key, p);
    }
    return p;
  };

  const plain: GitIdentity = { username: 'e3-agent' };

  return async (args, o = {}) => {
    const env = await envFor(o.as ?? plain);
    const sub = args.find((a) => !a.startsWith('-')) ?? args[0] ?? '';
    const op = o.op ?? `git ${sub}`;
    const timeout = o.timeoutMs ?? options.timeoutMs ?? 600_000;
    const start = now();
    let timedOut = false;
    const result = await new Promise<{ code: number; signal?: NodeJS.Signals; stdout: string; stderr: string; bytes: number; spawnError?: Error }>((resolve) => {
      let stdout = '';
      let stderr = '';
      let bytes = 0;
      const child = spawn(options.gitPath ?? 'git', args as string[], { cwd: o.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const onAbort = () => child.kill('SIGKILL');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeout);
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        bytes += Buffer.byteLength(d);
        if (stdout.length < 4 << 20) stdout += d;
      });
      child.stderr.on('data', (d: string) => {
        bytes += Buffer.byteLength(d);
        if (stderr.length < 64 << 10) stderr += d;
      });
      let spawnError: Error | undefined;
      child.on('error', (err) => (spawnError = err));
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        resolve({ code: exitStatus(code, sig), ...(sig ? { signal: sig } : {}), stdout, stderr, bytes, ...(spawnError ? { spawnError } : {}) });
      });
    });
    const duration = now() - start;
    const { code, stdout, stderr, bytes } = result;
    let error: string | undefined;
    let cls: 'git' | 'timeout' | 'cut' | 'exception' | undefined;
    if (options.signal?.aborted) {
      cls = 'cut';
      error = 'cut';
    } else if (timedOut) {
      cls = 'timeout';
      error = `timeout after ${timeout} ms`;
    } else if (result.spawnError) {
      cls = 'exception';
      error = `exception ${result.spawnError.message}`;
    } else if (!(o.expect ?? [0]).includes(code)) {
      cls = 'git';
      error = redact(`git ${result.signal ?? code}: ${tail(stderr) || tail(stdout)}`);
    }
    if (!o.unrecorded) {
      options.sink({ op, start, duration, ok: cls === undefined, status: code, bytes, ...(error ? { error } : {}) });
    }
    if (cls && (o.throwOnFailure !== false || cls !== 'git')) {
      throw opFailure(cls, error!.slice(cls.length + 1), { recorded: !o.unrecorded });
    }
    return { code, stdout, stderr };
  };
}
