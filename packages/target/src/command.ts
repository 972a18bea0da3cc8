import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { E3Error, findHomeFile, resolveHome } from '@e3/model';
import { COMMAND_HELP, defineCommand, type CommandDef, type OptionDef } from '@e3/model/cli';

import { restoreState, saveState, stopTarget, waitForRunning } from './control.js';
import { seedTarget } from './seed.js';
import { readRuntimeInfo, startTarget, type StartTargetOptions } from './target.js';

const data: OptionDef = { type: 'string', description: 'The target data folder (database, repositories, logs, saved state)', required: true };
const listenOptions: Record<string, OptionDef> = {
  host: { type: 'string', description: 'Interface to listen on', default: '127.0.0.1' },
  'http-port': { type: 'number', description: 'HTTP port (REST, web, git over HTTP); 0 picks a free port', default: 7990 },
  'ssh-port': { type: 'number', description: 'SSH port (git over SSH); 0 picks a free port', default: 7999 },
  context: { type: 'string', description: 'Context path, e.g. /bitbucket', default: '' },
};

/** A number option: yargs gives NaN for garbage; refuse it with E3_USAGE. */
function int(name: string, value: unknown, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new E3Error('USAGE', `--${name} must be an integer ≥ ${min}, got ${String(value)}`);
  return n;
}

interface StartArgs {
  data: string;
  host: string;
  httpPort: number;
  sshPort: number;
  context: string;
  maxGitOps?: number;
  gitLatency?: number;
  queueTimeout: number;
  adminPassword: string;
  detach: boolean;
}

function startOptions(args: StartArgs, cwd: string): StartTargetOptions {
  return {
    data: resolve(cwd, args.data),
    host: args.host,
    httpPort: int('http-port', args.httpPort),
    sshPort: int('ssh-port', args.sshPort),
    contextPath: args.context,
    maxGitOps: int('max-git-ops', args.maxGitOps, 1),
    ...(args.gitLatency !== undefined ? { gitLatencyMs: int('git-latency', args.gitLatency, 0) } : {}),
    queueTimeoutMs: (int('queue-timeout', args.queueTimeout, 1) ?? 300) * 1000,
    adminPassword: args.adminPassword,
  };
}

/**
 * Starts a target in a detached process (a node child reading its options on stdin, logging to
 * `<data>/log/target-daemon.log`) and waits until `/status` is RUNNING. Stop it with `stopTarget`.
 * Throws E3_TARGET (already running, or it exited), E3_HEALTH_TIMEOUT.
 */
export async function startDetachedTarget(options: StartTargetOptions, env: NodeJS.ProcessEnv = process.env): Promise<{ url: string; pid: number; sshPort: number; httpPort: number }> {
  if (readRuntimeInfo(options.data)) throw new E3Error('TARGET', `a target is already running on ${options.data}`, { hint: `Run \`e3 target stop --data ${options.data}\` first.` });
  await mkdir(join(options.data, 'log'), { recursive: true });
  const self = fileURLToPath(import.meta.url);
  const daemon = self.replace(/command\.(ts|js)$/, 'daemon.$1');
  const out = openSync(join(options.data, 'log', 'target-daemon.log'), 'a');
  const child = spawn(process.execPath, [...process.execArgv, daemon], { detached: true, stdio: ['pipe', out, out], env });
  child.stdin!.end(JSON.stringify(options));
  const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? 1)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const info = readRuntimeInfo(options.data);
    if (info && info.pid === child.pid) {
      await waitForRunning(info.url, Math.max(1000, deadline - Date.now()));
      child.unref();
      return { url: info.url, pid: info.pid, sshPort: info.sshPort, httpPort: info.httpPort };
    }
    const code = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
    if (code !== undefined) {
      const logFile = join(options.data, 'log', 'target-daemon.log');
      const tail = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
      throw new E3Error('TARGET', `the detached target exited with code ${code} before it was running${tail ? `: ${tail}` : ''}`, { hint: `Read ${logFile}.` });
    }
    if (Date.now() > deadline) throw new E3Error('HEALTH_TIMEOUT', 'the detached target did not start within 30 s', { hint: `Read ${join(options.data, 'log', 'target-daemon.log')}.` });
  }
}

const start = defineCommand<StartArgs>({
  name: 'start',
  description: 'Run a local Bitbucket-compatible git host on a data folder (foreground; Ctrl-C stops it)',
  options: {
    data,
    ...listenOptions,
    'max-git-ops': { type: 'number', description: 'Hosting tickets: concurrent git operations (others queue); default 2 × CPUs, at least 4' },
    'git-latency': { type: 'number', description: 'Milliseconds added to every git operation while it holds its ticket (a slow-storage model); default 0' },
    'queue-timeout': { type: 'number', description: 'Seconds a git operation may wait for a hosting ticket', default: 300 },
    'admin-password': { type: 'string', description: 'Password of the admin user, created only when the data folder has none', default: 'admin' },
    detach: { type: 'boolean', description: 'Start in the background, write <data>/target.json and return once /status says RUNNING', default: false },
  },
  examples: [['e3 target start --data /tmp/target --context /bitbucket', 'serve http://127.0.0.1:7990/bitbucket and ssh on 7999']],
  async run(args, ctx) {
    const options = startOptions(args, ctx.cwd);
    if (args.detach) {
      const r = await startDetachedTarget(options, ctx.env);
      return { data: r, text: `target running at ${r.url} (ssh port ${r.sshPort}, pid ${r.pid})` };
    }
    if (readRuntimeInfo(options.data)) throw new E3Error('TARGET', `a target is already running on ${options.data}`, { hint: `Run \`e3 target stop --data ${options.data}\` first.` });
    const target = await startTarget({ ...options, log: (line) => ctx.log(line) });
    ctx.log(`target running at ${target.url} (ssh port ${target.sshPort}); Ctrl-C stops it`);
    ctx.event({ event: 'running', url: target.url, httpPort: target.httpPort, sshPort: target.sshPort });
    if (!ctx.signal.aborted) await new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }));
    await target.close();
    return { data: { url: target.url, stopped: true }, text: 'target stopped' };
  },
});

const stop = defineCommand<{ data: string }>({
  name: 'stop',
  description: 'Stop the target running on a data folder',
  options: { data },
  async run(args, ctx) {
    const r = await stopTarget({ data: resolve(ctx.cwd, args.data) });
    return { data: r, text: r.stopped ? `target (pid ${r.pid}) stopped` : `no target is running on ${args.data}` };
  },
});

interface SeedArgs {
  data: string;
  projects: number;
  repos: number;
  users: number;
  commits: number;
  files: number;
  fileKb: number;
  openPrs: number;
  keys: string;
  name: string;
  host: string;
  httpPort: number;
  sshPort: number;
  context: string;
  adminPassword: string;
  force: boolean;
  home?: string;
}

const seed = defineCommand<SeedArgs>({
  name: 'seed',
  description: 'Create a dataset (repos with history, users, SSH keys, open PRs), save it as the state, and write snapshots/<name>.json and instances/<name>.json',
  options: {
    data,
    projects: { type: 'number', description: 'Projects (PROJECT_1…)', required: true },
    repos: { type: 'number', description: 'Repositories per project (repo-1…)', required: true },
    users: { type: 'number', description: 'HTTP users (user-0001…, password "test") and as many SSH users (ssh-user-0001…) as the key pool holds', required: true },
    commits: { type: 'number', description: 'Commits on master per repository', default: 20 },
    files: { type: 'number', description: 'Files per repository', default: 20 },
    'file-kb': { type: 'number', description: 'Size of each file in KiB', default: 4 },
    'open-prs': { type: 'number', description: 'Open pull requests per repository', default: 1 },
    keys: { type: 'string', description: 'Keys file: a path, or the name of a file in e3-home/keys', required: true },
    name: { type: 'string', description: 'Snapshot and instance name', required: true },
    ...listenOptions,
    'admin-password': { type: 'string', description: 'Password of the admin user (written to the instance file as RunConfig.admin_password)', default: 'admin' },
    force: { type: 'boolean', description: 'Replace a dataset already in the data folder', default: false },
  },
  examples: [['e3 target seed --data /tmp/target --projects 2 --repos 5 --users 50 --keys 100-keys --name local', 'a small dataset']],
  async run(args, ctx) {
    const home = resolveHome({ home: args.home, cwd: ctx.cwd, env: ctx.env });
    const keysPath = existsSync(resolve(ctx.cwd, args.keys)) ? resolve(ctx.cwd, args.keys) : findHomeFile(home, 'keys', args.keys.replace(/\.json$/, ''));
    if (!keysPath) throw new E3Error('FILE_NOT_FOUND', `keys file '${args.keys}' is neither a path nor in ${home}/keys`, { hint: 'Pass --keys e3-home/keys/<name>.json, or generate a key pool with `e3 snapshot keys`.' });
    const r = await seedTarget({
      data: resolve(ctx.cwd, args.data),
      home,
      name: args.name,
      projects: int('projects', args.projects, 1)!,
      repos: int('repos', args.repos, 1)!,
      users: int('users', args.users, 1)!,
      commits: int('commits', args.commits, 1),
      files: int('files', args.files, 1),
      fileKb: int('file-kb', args.fileKb, 1),
      openPrs: int('open-prs', args.openPrs, 0),
      keys: keysPath,
      host: args.host,
      httpPort: int('http-port', args.httpPort),
      sshPort: int('ssh-port', args.sshPort),
      contextPath: args.context,
      adminPassword: args.adminPassword,
      force: args.force,
      log: (line) => ctx.log(line),
    });
    return { data: r, text: `seeded ${r.repos} repositories, ${r.httpUsers} HTTP and ${r.sshUsers} SSH users, ${r.pullRequests} open PRs\nwrote ${r.snapshotFile}\nwrote ${r.instanceFile}` };
  },
});

const saveStateCommand = defineCommand<{ data: string }>({
  name: 'save-state',
  description: 'Save the repositories and database of a data folder as the state restore-state returns to',
  options: { data },
  async run(args, ctx) {
    const r = await saveState({ data: resolve(ctx.cwd, args.data) });
    return { data: r, text: `state saved in ${r.dir}` };
  },
});

const restoreStateCommand = defineCommand<{ data: string }>({
  name: 'restore-state',
  description: 'Put repositories and database back to the saved state (through the running target when there is one)',
  options: { data },
  async run(args, ctx) {
    const r = await restoreState({ data: resolve(ctx.cwd, args.data) });
    return { data: r, text: `state restored in ${r.durationMs} ms${r.live ? ' (live)' : ''}` };
  },
});

/** `e3 target <start|stop|seed|save-state|restore-state>`. */
export const targetCommand: CommandDef = {
  name: 'target',
  description: COMMAND_HELP.target,
  subcommands: [start, stop, seed, saveStateCommand, restoreStateCommand],
};
