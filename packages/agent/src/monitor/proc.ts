import { appendFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface MonitorOptions {
  /** The collectd CSV root; files go to `<out>/<host>/<plugin>-<instance>/<type>-<type instance>-YYYY-MM-DD`. */
  out: string;
  /** Host folder name (default: host name). */
  host?: string;
  /** Sampling interval (ms), default 5000. */
  intervalMs?: number;
  /** Process names to count (default git, java, node). */
  processes?: readonly string[];
  /** Stops the sampler. */
  signal?: AbortSignal;
  /** The /proc root (tests point it at a fake tree). */
  procRoot?: string;
  /** Clock (epoch ms). */
  now?: () => number;
}

interface Value {
  /** `plugin-instance` folder, e.g. `cpu-0`, `memory`. */
  dir: string;
  /** File stem, e.g. `cpu-user`, `if_octets`. */
  file: string;
  /** Data-source names, e.g. ['value'] or ['rx', 'tx']. */
  ds: readonly string[];
  values: readonly number[];
}

const CPU_STATES = ['user', 'nice', 'system', 'idle', 'wait', 'interrupt', 'softirq', 'steal'] as const;
const DISK = /^(sd[a-z]+|hd[a-z]+|vd[a-z]+|xvd[a-z]+|nvme\d+n\d+|mmcblk\d+)$/;
const CLK_TCK = 100;
const PAGE = 4096;

async function read(procRoot: string, rel: string): Promise<string | undefined> {
  return readFile(join(procRoot, rel), 'utf8').catch(() => undefined);
}

/** Reads one set of values from /proc (cpu, memory, swap, load, interfaces, disks, processes). */
export async function readProcValues(options: { procRoot?: string; processes?: readonly string[] } = {}): Promise<Value[]> {
  const root = options.procRoot ?? '/proc';
  const out: Value[] = [];
  const stat = await read(root, 'stat');
  for (const line of stat?.split('\n') ?? []) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const nums = m[2]!.trim().split(/\s+/).map(Number);
    CPU_STATES.forEach((s, i) => out.push({ dir: `cpu-${m[1]}`, file: `cpu-${s}`, ds: ['value'], values: [nums[i] ?? 0] }));
  }
  const mem = await read(root, 'meminfo');
  if (mem) {
    const kv = new Map(mem.split('\n').map((l) => /^(\w+):\s+(\d+)/.exec(l)).filter((m): m is RegExpExecArray => !!m).map((m) => [m[1]!, Number(m[2]) * 1024]));
    const g = (k: string) => kv.get(k) ?? 0;
    const used = g('MemTotal') - g('MemFree') - g('Buffers') - g('Cached') - g('SReclaimable');
    for (const [k, v] of [['used', used], ['free', g('MemFree')], ['buffered', g('Buffers')], ['cached', g('Cached')]] as const) {
      out.push({ dir: 'memory', file: `memory-${k}`, ds: ['value'], values: [v] });
    }
    out.push({ dir: 'swap', file: 'swap-used', ds: ['value'], values: [g('SwapTotal') - g('SwapFree')] });
    out.push({ dir: 'swap', file: 'swap-free', ds: ['value'], values: [g('SwapFree')] });
  }
  const load = await read(root, 'loadavg');
  if (load) {
    const [a, b, c] = load.trim().split(/\s+/).map(Number);
    out.push({ dir: 'load', file: 'load', ds: ['shortterm', 'midterm', 'longterm'], values: [a ?? 0, b ?? 0, c ?? 0] });
  }
  const net = await read(root, 'net/dev');
  for (const line of net?.split('\n').slice(2) ?? []) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    const dir = `interface-${m[1]}`;
    out.push({ dir, file: 'if_octets', ds: ['rx', 'tx'], values: [f[0]!, f[8]!] });
    out.push({ dir, file: 'if_packets', ds: ['rx', 'tx'], values: [f[1]!, f[9]!] });
    out.push({ dir, file: 'if_errors', ds: ['rx', 'tx'], values: [f[2]!, f[10]!] });
  }
  const disks = await read(root, 'diskstats');
  for (const line of disks?.split('\n') ?? []) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14 || !DISK.test(f[2]!)) continue;
    const n = f.map(Number);
    const dir = `disk-${f[2]}`;
    out.push({ dir, file: 'disk_ops', ds: ['read', 'write'], values: [n[3]!, n[7]!] });
    out.push({ dir, file: 'disk_octets', ds: ['read', 'write'], values: [n[5]! * 512, n[9]! * 512] });
    out.push({ dir, file: 'disk_time', ds: ['read', 'write'], values: [n[6]!, n[10]!] });
  }
  const names = options.processes ?? ['git', 'java', 'node'];
  const agg = new Map(names.map((n) => [n, { count: 0, threads: 0, rss: 0, user: 0, sys: 0 }]));
  for (const pid of (await readdir(root).catch(() => [] as string[])).filter((d) => /^\d+$/.test(d))) {
    const s = await read(root, `${pid}/stat`);
    if (!s) continue;
    const open = s.indexOf('(');
    const close = s.lastIndexOf(')');
    const comm = s.slice(open + 1, close);
    const a = agg.get(comm);
    if (!a) continue;
    const rest = s.slice(close + 2).split(' ');
    // rest[0] is field 3 (state): utime = field 14, stime = 15, num_threads = 20, rss = 24.
    a.count++;
    a.user += Number(rest[11]);
    a.sys += Number(rest[12]);
    a.threads += Number(rest[17]);
    a.rss += Number(rest[21]) * PAGE;
  }
  for (const [name, a] of agg) {
    const dir = `processes-${name}`;
    out.push({ dir, file: 'ps_count', ds: ['processes', 'threads'], values: [a.count, a.threads] });
    out.push({ dir, file: 'ps_rss', ds: ['value'], values: [a.rss] });
    out.push({ dir, file: 'ps_cputime', ds: ['user', 'syst'], values: [(a.user * 1e6) / CLK_TCK, (a.sys * 1e6) / CLK_TCK] });
  }
  return out;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Samples /proc every `intervalMs` into the collectd CSV layout (the same folders and headers collectd's csv
 * plugin writes with StoreRates false) until `signal` aborts. Resolves with the number of rounds.
 */
export async function runMonitor(options: MonitorOptions): Promise<{ rounds: number }> {
  const clock = options.now ?? Date.now;
  const hostDir = join(options.out, options.host ?? hostname());
  const interval = options.intervalMs ?? 5000;
  const headers = new Set<string>();
  let rounds = 0;
  for (;;) {
    const t = clock();
    const values = await readProcValues(options);
    const byFile = new Map<string, string>();
    for (const v of values) {
      const file = join(hostDir, v.dir, `${v.file}-${day(t)}`);
      let text = byFile.get(file) ?? '';
      if (!headers.has(file)) {
        await mkdir(join(hostDir, v.dir), { recursive: true });
        const existing = await readFile(file, 'utf8').catch(() => '');
        if (existing === '') text += `epoch,${v.ds.join(',')}\n`;
        headers.add(file);
      }
      text += `${(t / 1000).toFixed(3)},${v.values.map((x) => (Number.isInteger(x) ? String(x) : x.toFixed(6))).join(',')}\n`;
      byFile.set(file, text);
    }
    await Promise.all([...byFile].map(([f, text]) => appendFile(f, text)));
    rounds++;
    if (options.signal?.aborted) break;
    const stopped = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(0, interval - (clock() - t)));
      options.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve(true);
      }, { once: true });
    });
    if (stopped) break;
  }
  return { rounds };
}
