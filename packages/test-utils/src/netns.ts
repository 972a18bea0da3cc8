import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';


/** One test host: a network namespace running its own sshd. */
export interface NetnsHost {
  /** Short name, `host-<i>`. */
  name: string;
  /** The network namespace, `e3t-<id>-<i>`. */
  netns: string;
  /** Its address on the private bridge subnet. */
  ip: string;
  /** The node string for e3: `root@<ip>`. */
  node: string;
  /** Its current sshd host key, `"ssh-ed25519 base64"` (the form of an instance file's `HostKeys`). */
  hostKey: string;
}

/** Options of {@link createNetnsHosts}. */
export interface NetnsOptions {
  /** Commands hidden from the PATH of SSH sessions on a host, by host index (e.g. `{ 1: ['rsync'] }`). */
  withoutCommands?: Record<number, readonly string[]>;
}

/** N namespace hosts on one bridge, reachable from the root namespace (the controller). */
export interface NetnsHosts {
  hosts: NetnsHost[];
  /** The bridge's address in the root namespace: hosts reach servers bound here. */
  controllerIp: string;
  /** The private subnet, `10.x.y.0/24`. */
  subnet: string;
  /** An address in the subnet with no host behind it. */
  unusedIp: string;
  /** The user private key (OpenSSH format), authorized for root on every host. Never log it. */
  privateKey: string;
  /** Path of that key (mode 0600). */
  keyFile: string;
  /** Scratch folder of the harness (keys, sshd configs and logs). */
  dir: string;
  /** Runs a command inside host `i`'s namespace (as root, bypassing SSH). A string goes through `sh -c`. */
  exec(i: number, command: string | readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Replaces host `i`'s host key and restarts its sshd; returns the new key. */
  regenerateHostKey(i: number): Promise<string>;
  /** The sshd log of host `i` (for failure messages). */
  sshdLog(i: number): Promise<string>;
  /** Kills every process in the namespaces, deletes them and the bridge, removes `dir` (kept with E3_KEEP_TMP=1). Idempotent. */
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';
const NEEDS = 'The namespace test hosts need root, iproute2 (`ip netns`) and openssh-server/openssh-client (`apt-get install -y openssh-server openssh-client rsync iproute2`).';

function run(file: string, args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 127) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function must(file: string, args: readonly string[]): Promise<string> {
  const r = await run(file, args);
  if (r.code !== 0) throw new Error(`netns harness: \`${file} ${args.join(' ')}\` failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Throws a clear error when the namespace harness cannot run here (not root, no `ip netns`, no sshd). */
export async function assertNetnsAvailable(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error(`netns harness: not running as root. ${NEEDS}`);
  const probe = await run('ip', ['netns', 'list']);
  if (probe.code !== 0) throw new Error(`netns harness: \`ip netns list\` failed (${probe.stderr.trim() || `exit ${probe.code}`}). ${NEEDS}`);
  for (const tool of [SSHD, '/usr/bin/ssh-keygen']) {
    if (!existsSync(tool)) throw new Error(`netns harness: ${tool} is missing. ${NEEDS}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes harness namespaces and bridges left by a test process that died without `stop()` (e.g. killed
 * by SIGKILL): those whose `owner.pid` (in the harness's temp folder) names no live process. Hosts of
 * live test processes are left alone. Called by {@link createNetnsHosts}.
 */
export async function removeStaleNetns(): Promise<string[]> {
  const list = await run('ip', ['netns', 'list']);
  const ids = new Set([...list.stdout.matchAll(/^e3t-([0-9a-f]{6})-\d+/gm)].map((m) => m[1]!));
  const links = await run('ip', ['-o', 'link', 'show']);
  for (const m of links.stdout.matchAll(/\d+: e3tb([0-9a-f]{6})[:@]/g)) ids.add(m[1]!);
  const removed: string[] = [];
  const tmp = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const id of ids) {
    const dirs = tmp.filter((d) => d.startsWith(`e3-netns-${id}-`)).map((d) => join(tmpdir(), d));
    let owned = false;
    for (const d of dirs) {
      const owner = Number((await readFile(join(d, 'owner.pid'), 'utf8').catch(() => '')).trim());
      if (owner > 0 && alive(owner)) owned = true;
    }
    if (owned) continue;
    for (const ns of [...list.stdout.matchAll(new RegExp(`^(e3t-${id}-\\d+)`, 'gm'))].map((m) => m[1]!)) {
      const pids = (await run('ip', ['netns', 'pids', ns])).stdout.split(/\s+/).filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await run('ip', ['netns', 'del', ns]);
      removed.push(ns);
    }
    if ((await run('ip', ['link', 'del', `e3tb${id}`])).code === 0) removed.push(`e3tb${id}`);
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
  return removed;
}

async function pickSubnet(): Promise<string> {
  const used = (await must('ip', ['-4', 'addr'])) + (await must('ip', ['-4', 'route', 'show', 'table', 'all']));
  for (let attempt = 0; attempt < 50; attempt++) {
    const prefix = `10.${randomInt(200, 250)}.${randomInt(0, 256)}`;
    if (!used.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('netns harness: found no unused 10.x.y.0/24 subnet');
}

async function waitForPort(ip: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: ip, port, timeout: 500 });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function shadowPath(binDir: string, hidden: readonly string[]): Promise<void> {
  await mkdir(binDir, { recursive: true });
  const seen = new Set<string>();
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (seen.has(name) || hidden.includes(name)) continue;
      seen.add(name);
      await symlink(join(dir, name), join(binDir, name));
    }
  }
}

/** Makes an ed25519 key pair at `file` (replacing one there); returns the public key as `type base64`. */
async function keygen(file: string): Promise<string> {
  await rm(file, { force: true });
  await rm(`${file}.pub`, { force: true });
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e3-test', '-f', file]);
  const [type, b64] = (await readFile(`${file}.pub`, 'utf8')).trim().split(/\s+/);
  return `${type} ${b64}`;
}

/** sshd_config lines of one test host: root by key only, SFTP, room for many sessions. */
function sshdConfig(ip: string, hostKeyFile: string, pidFile: string, authorizedKeys: string): string[] {
  return [
    'Port 22',
    `ListenAddress ${ip}`,
    `HostKey ${hostKeyFile}`,
    `PidFile ${pidFile}`,
    'PermitRootLogin prohibit-password',
    `AuthorizedKeysFile ${authorizedKeys}`,
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'Subsystem sftp internal-sftp',
    'MaxSessions 20',
    'MaxStartups 100',
    'LogLevel VERBOSE',
  ];
}

/**
 * Creates `count` SSH hosts, each a network namespace `e3t-<id>-<i>` with a veth on a fresh bridge in the
 * root namespace, on an unused `10.x.y.0/24` (bridge `.1`, hosts `.10`, `.11`, …), each running its own
 * sshd (own ed25519 host key, root login by key only) authorized for one generated user key.
 * Needs root; throws a clear error otherwise. Call `stop()` (or use {@link useNetnsHosts}).
 */
export async function createNetnsHosts(count: number, options: NetnsOptions = {}): Promise<NetnsHosts> {
  await assertNetnsAvailable();
  await removeStaleNetns();
  const id = randomBytes(3).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), `e3-netns-${id}-`));
  await writeFile(join(dir, 'owner.pid'), `${process.pid}\n`);
  const prefix = await pickSubnet();
  const bridge = `e3tb${id}`;
  const namespaces: string[] = [];
  const sshds = new Map<number, ChildProcess>();
  let stopped = false;
  let bridgeMade = false;

  const cleanupSync = () => {
    for (const child of sshds.values()) child.kill('SIGKILL');
    for (const ns of namespaces) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
        for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* already gone */
      }
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
    if (bridgeMade) {
      try {
        execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
  };
  const onExit = () => cleanupSync();
  process.once('exit', onExit);

  const hosts: NetnsHost[] = [];
  const hostDir = (i: number) => join(dir, `host-${i}`);

  const startSshd = async (i: number) => {
    const host = hosts[i]!;
    const log = join(hostDir(i), 'sshd.log');
    const child = spawn('ip', ['netns', 'exec', host.netns, SSHD, '-D', '-e', '-f', join(hostDir(i), 'sshd_config')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stderr!.on('data', (c: Buffer) => {
      chunks.push(c);
      void writeFile(log, Buffer.concat(chunks)).catch(() => undefined);
    });
    sshds.set(i, child);
    if (!(await waitForPort(host.ip, 22, 10_000))) {
      throw new Error(`netns harness: sshd on ${host.name} (${host.ip}) did not listen: ${Buffer.concat(chunks).toString().trim()}`);
    }
  };

  const stopSshd = async (i: number) => {
    const child = sshds.get(i);
    if (!child) return;
    sshds.delete(i);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 3000)))]);
    clearTimeout(timer);
    child.kill('SIGKILL');
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const i of [...sshds.keys()]) await stopSshd(i);
    cleanupSync();
    process.removeListener('exit', onExit);
    if (process.env.E3_KEEP_TMP === '1') process.stderr.write(`kept ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  };

  try {
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    const keyFile = join(dir, 'id_ed25519');
    await keygen(keyFile);
    await writeFile(join(dir, 'authorized_keys'), await readFile(`${keyFile}.pub`));

    await must('ip', ['link', 'add', bridge, 'type', 'bridge']);
    bridgeMade = true;
    await must('ip', ['addr', 'add', `${prefix}.1/24`, 'dev', bridge]);
    await must('ip', ['link', 'set', bridge, 'up']);

    for (let i = 0; i < count; i++) {
      const netns = `e3t-${id}-${i}`;
      const veth = `e3tv${id}-${i}`;
      const ip = `${prefix}.${10 + i}`;
      await must('ip', ['netns', 'add', netns]);
      namespaces.push(netns);
      await must('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
      await must('ip', ['link', 'set', veth, 'master', bridge, 'up']);
      await must('ip', ['-n', netns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      await must('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
      await must('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
      await must('ip', ['-n', netns, 'route', 'add', 'default', 'via', `${prefix}.1`]);

      await mkdir(hostDir(i), { recursive: true });
      const hostKeyFile = join(hostDir(i), 'ssh_host_ed25519_key');
      const hostKey = await keygen(hostKeyFile);
      const config = sshdConfig(ip, hostKeyFile, join(hostDir(i), 'sshd.pid'), join(dir, 'authorized_keys'));
      // A HOME of its own keeps the controller's ~/.bashrc (slow, host-specific) out of SSH sessions.
      const env = [`HOME=${join(hostDir(i), 'home')}`];
      await mkdir(join(hostDir(i), 'home'), { recursive: true });
      const hidden = options.withoutCommands?.[i];
      if (hidden?.length) {
        await shadowPath(join(hostDir(i), 'bin'), hidden);
        env.push(`PATH=${join(hostDir(i), 'bin')}`);
      }
      config.push(`SetEnv ${env.join(' ')}`);
      await writeFile(join(hostDir(i), 'sshd_config'), config.join('\n') + '\n');
      hosts.push({ name: `host-${i}`, netns, ip, node: `root@${ip}`, hostKey });
    }
    for (let i = 0; i < count; i++) await startSshd(i);

    return {
      hosts,
      controllerIp: `${prefix}.1`,
      subnet: `${prefix}.0/24`,
      unusedIp: `${prefix}.${10 + count + 100}`,
      privateKey: await readFile(keyFile, 'utf8'),
      keyFile,
      dir,
      async exec(i, command) {
        const host = hosts[i];
        if (!host) throw new Error(`netns harness: no host ${i}`);
        const argv = typeof command === 'string' ? ['sh', '-c', command] : [...command];
        return run('ip', ['netns', 'exec', host.netns, ...argv]);
      },
      async regenerateHostKey(i) {
        const host = hosts[i];
        if (!host) throw new Error(`netns harness: no host ${i}`);
        await stopSshd(i);
        host.hostKey = await keygen(join(hostDir(i), 'ssh_host_ed25519_key'));
        await startSshd(i);
        return host.hostKey;
      },
      async sshdLog(i) {
        return readFile(join(hostDir(i), 'sshd.log'), 'utf8').catch(() => '');
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Jest helper: creates the hosts in `beforeAll` and stops them in `afterAll`. Read `.current` inside tests.
 * When the harness cannot run (not root, no `ip netns`), every test of the file fails with the reason.
 */
export function useNetnsHosts(count: number, options: NetnsOptions = {}): { readonly current: NetnsHosts } {
  let hosts: NetnsHosts | undefined;
  const { beforeAll, afterAll } = globalThis as unknown as Record<'beforeAll' | 'afterAll', (fn: () => unknown, timeout?: number) => void>;
  beforeAll(async () => {
    hosts = await createNetnsHosts(count, options);
  }, 60_000);
  afterAll(async () => {
    await hosts?.stop();
  }, 30_000);
  return {
    get current(): NetnsHosts {
      if (!hosts) throw new Error('netns harness: hosts are not ready (beforeAll failed or has not run)');
      return hosts;
    },
  };
}
