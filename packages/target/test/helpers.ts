import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { e3OriginalHome } from '@e3/test-utils';

import { seedTarget, startTarget, type RunningTarget, type SeedResult } from '@e3/target';

/** The original E³ fixtures: test-utils' path, or the nearest `shared/fixtures/e3-original-home` above (worktrees). */
function originalHome(): string {
  if (existsSync(e3OriginalHome)) return e3OriginalHome;
  for (let dir = process.cwd(); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'fixtures', 'e3-original-home');
    if (existsSync(candidate)) return candidate;
  }
  return e3OriginalHome;
}

export const KEYS_FILE = join(originalHome(), 'keys', '100-keys.json');

const tmpDirs: string[] = [];

/** A temp dir removed by `cleanupTmp()` (kept when E3_KEEP_TMP=1). */
export async function makeTmpDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

export async function cleanupTmp(): Promise<void> {
  const dirs = tmpDirs.splice(0);
  if (process.env.E3_KEEP_TMP === '1') return;
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}

export interface Fixture {
  data: string;
  home: string;
  target: RunningTarget;
  seed: SeedResult;
  work: string;
  /** Writes the private key of pool key `i` to a 0600 file and returns the GIT_SSH_COMMAND for it. */
  sshCommand(i?: number): Promise<string>;
  httpUrl(user: string, password: string, key: string, slug: string): string;
  sshUrl(key: string, slug: string): string;
}

export async function seededTarget(options: { contextPath?: string; maxGitOps?: number; users?: number; repos?: number; projects?: number; queueTimeoutMs?: number; metricsIntervalMs?: number } = {}): Promise<Fixture> {
  const data = await makeTmpDir('e3-target-data-');
  const home = await makeTmpDir('e3-home-');
  const work = await makeTmpDir('e3-target-work-');
  const seed = await seedTarget({
    data,
    home,
    name: 'test',
    projects: options.projects ?? 2,
    repos: options.repos ?? 2,
    users: options.users ?? 3,
    commits: 8,
    files: 6,
    fileKb: 2,
    keys: KEYS_FILE,
  });
  const target = await startTarget({
    data,
    httpPort: 0,
    sshPort: 0,
    contextPath: options.contextPath,
    maxGitOps: options.maxGitOps ?? 8,
    queueTimeoutMs: options.queueTimeoutMs,
    metricsIntervalMs: options.metricsIntervalMs ?? 1000,
    log: () => undefined,
  });
  const keys = JSON.parse(readFileSync(KEYS_FILE, 'utf8')) as { key_pairs: { private_key: string }[] };
  return {
    data,
    home,
    target,
    seed,
    work,
    async sshCommand(i = 0) {
      const file = join(work, `id_rsa_${i}`);
      await writeFile(file, keys.key_pairs[i]!.private_key.trimEnd() + '\n', { mode: 0o600 });
      await chmod(file, 0o600);
      return `ssh -F /dev/null -i ${file} -o IdentitiesOnly=yes -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR -o BatchMode=yes`;
    },
    httpUrl(user, password, key, slug) {
      const u = new URL(target.url);
      return `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${u.host}${u.pathname.replace(/\/$/, '')}/scm/${key}/${slug}.git`;
    },
    sshUrl(key, slug) {
      return `ssh://git@127.0.0.1:${target.sshPort}/${key}/${slug}.git`;
    },
  };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command (no shell), bounded by `timeoutMs`. */
export function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...options.env }, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

export const git = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> =>
  run('git', ['-c', 'user.name=Tester', '-c', 'user.email=t@e3.invalid', '-c', 'init.defaultBranch=master', ...args], options);

/** Response JSON as tests read it: field access without casts (tests assert the shapes). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJson = any;

/** A tiny fetch wrapper returning status, headers and parsed JSON (or text). */
export async function http(
  url: string,
  options: { method?: string; auth?: [string, string]; cookie?: string; body?: string | URLSearchParams; json?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; text: string; json: AnyJson }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth) headers.authorization = `Basic ${Buffer.from(options.auth.join(':')).toString('base64')}`;
  if (options.cookie) headers.cookie = options.cookie;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.body instanceof URLSearchParams) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = options.body.toString();
  } else body = options.body;
  const res = await fetch(url, { method: options.method ?? 'GET', headers, body, redirect: 'manual' });
  const text = await res.text();
  let json: AnyJson;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
