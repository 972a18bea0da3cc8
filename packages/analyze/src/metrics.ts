import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { COLLECTD_CSV_DIR, COLLECTD_RRD_DIR } from '@e3/model';

import type { RunInfo } from './run-dir.js';

const exec = promisify(execFile);

/** One series of a strip: [epoch ms, value] points. */
export interface MetricSeries {
  label: string;
  points: Array<[number, number]>;
}

/** One system-metric chart of one node (cpu, memory, network, …). */
export interface Strip {
  id: string;
  title: string;
  unit: string;
  stacked: boolean;
  max?: number;
  series: MetricSeries[];
}

export interface NodeMetrics {
  thread: number;
  node: string;
  host: string;
  source: 'csv' | 'rrd';
  strips: Strip[];
}

/** Raw columns of one collectd type-instance over time. */
interface Raw {
  columns: string[];
  t: number[];
  cols: number[][];
  /** RRD already stores counters and derives as rates. */
  rates: boolean;
}

interface Source {
  plugins: string[];
  files(plugin: string): string[];
  load(plugin: string, typeInstance: string): Promise<Raw | undefined>;
}

const DATE_SUFFIX = /-\d{4}-\d{2}-\d{2}$/;

async function list(dir: string, dirs: boolean): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => (dirs ? e.isDirectory() : e.isFile())).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

async function csvSource(hostDir: string, window: [number, number] | undefined): Promise<Source> {
  const plugins = await list(hostDir, true);
  const index = new Map<string, Map<string, string[]>>();
  for (const p of plugins) {
    const byType = new Map<string, string[]>();
    for (const f of await list(join(hostDir, p), false)) {
      const type = f.replace(DATE_SUFFIX, '');
      const arr = byType.get(type);
      if (arr) arr.push(f);
      else byType.set(type, [f]);
    }
    index.set(p, byType);
  }
  return {
    plugins,
    files: (p) => [...(index.get(p)?.keys() ?? [])],
    async load(p, type) {
      const files = index.get(p)?.get(type);
      if (!files) return undefined;
      const raw: Raw = { columns: [], t: [], cols: [], rates: false };
      for (const f of files.sort()) {
        const text = await readFile(join(hostDir, p, f), 'utf8');
        const lines = text.split('\n');
        const header = lines[0]!.split(',');
        if (header[0] !== 'epoch') continue;
        if (!raw.columns.length) {
          raw.columns = header.slice(1);
          raw.cols = raw.columns.map(() => []);
        }
        for (let i = 1; i < lines.length; i++) {
          const line = lines[i]!;
          if (!line) continue;
          const parts = line.split(',');
          const t = Number(parts[0]) * 1000;
          if (!Number.isFinite(t)) continue;
          if (window && (t < window[0] || t > window[1])) continue;
          raw.t.push(t);
          for (let c = 0; c < raw.cols.length; c++) raw.cols[c]!.push(Number(parts[c + 1]));
        }
      }
      return raw.t.length ? raw : undefined;
    },
  };
}

/** RRD files read through the `rrdtool` CLI (`info` for data sources, `xport --json` for values). */
async function rrdSource(hostDir: string, window: [number, number] | undefined, rrdtool: string): Promise<Source> {
  const plugins = await list(hostDir, true);
  const index = new Map<string, string[]>();
  for (const p of plugins) index.set(p, (await list(join(hostDir, p), false)).filter((f) => f.endsWith('.rrd')).map((f) => f.slice(0, -4)));
  return {
    plugins,
    files: (p) => index.get(p) ?? [],
    async load(p, type) {
      const file = join(hostDir, p, `${type}.rrd`);
      if (!index.get(p)?.includes(type)) return undefined;
      const info = await exec(rrdtool, ['info', file], { maxBuffer: 8 << 20 });
      const ds = [...new Set([...info.stdout.matchAll(/^ds\[([^\]]+)\]\.index/gm)].map((m) => m[1]!))];
      if (!ds.length) return undefined;
      const start = window ? Math.floor(window[0] / 1000) : 'end-1d';
      const end = window ? Math.ceil(window[1] / 1000) : 'now';
      const args = ['xport', '--json', '--start', String(start), '--end', String(end)];
      ds.forEach((name, i) => args.push(`DEF:v${i}=${file.replace(/:/g, '\\:')}:${name}:AVERAGE`, `XPORT:v${i}:${name}`));
      const out = await exec(rrdtool, args, { maxBuffer: 64 << 20 });
      const json = JSON.parse(out.stdout) as { meta: { start: number; step: number }; data: Array<Array<number | null>> };
      const raw: Raw = { columns: ds, t: [], cols: ds.map(() => []), rates: true };
      json.data.forEach((row, i) => {
        if (row.every((v) => v === null)) return;
        raw.t.push((json.meta.start + i * json.meta.step) * 1000);
        row.forEach((v, c) => raw.cols[c]!.push(v ?? NaN));
      });
      return raw.t.length ? raw : undefined;
    },
  };
}

/** Per-second rate of a raw counter column; resets (negative steps) are dropped. */
function rate(raw: Raw, col: number, scale = 1): Array<[number, number]> {
  const v = raw.cols[col]!;
  if (raw.rates) return raw.t.map((t, i) => [t, v[i]! * scale] as [number, number]).filter(([, y]) => Number.isFinite(y));
  const out: Array<[number, number]> = [];
  for (let i = 1; i < raw.t.length; i++) {
    const dt = (raw.t[i]! - raw.t[i - 1]!) / 1000;
    const dv = v[i]! - v[i - 1]!;
    if (dt > 0 && dv >= 0 && Number.isFinite(dv)) out.push([raw.t[i]!, (dv / dt) * scale]);
  }
  return out;
}

function gauge(raw: Raw, col: number, scale = 1): Array<[number, number]> {
  const v = raw.cols[col]!;
  return raw.t.map((t, i) => [t, v[i]! * scale] as [number, number]).filter(([, y]) => Number.isFinite(y));
}

const CPU_STATES = ['user', 'system', 'wait', 'nice', 'softirq', 'interrupt', 'steal'];
const GiB = 1 / 2 ** 30;
const MB = 1 / 1e6;

/** E³'s cpu-all-sum: the busy share (the states of `cpu` summed per timestamp), one series. */
function cpuSum(cpu: Strip): Strip {
  const sum = new Map<number, number>();
  for (const s of cpu.series) for (const [t, y] of s.points) sum.set(t, (sum.get(t) ?? 0) + y);
  return { id: 'cpu-sum', title: 'CPU busy (sum of states)', unit: '%', stacked: false, max: 100, series: [{ label: 'busy', points: [...sum.entries()].sort((a, b) => a[0] - b[0]) }] };
}

/** Swap use (GiB, stacked) and swap I/O (MB/s) when collectd's swap plugin (or the sampler) wrote them. */
async function swapStrips(src: Source, push: (s: Strip) => void): Promise<void> {
  const swap: Strip = { id: 'swap', title: 'Swap', unit: 'GiB', stacked: true, series: [] };
  for (const st of ['used', 'cached', 'free']) {
    const raw = await src.load('swap', `swap-${st}`);
    if (raw) swap.series.push({ label: st, points: gauge(raw, 0, GiB) });
  }
  push(swap);
  const io: Strip = { id: 'swap-io', title: 'Swap I/O', unit: 'MB/s', stacked: false, series: [] };
  for (const dir of ['in', 'out']) {
    const raw = await src.load('swap', `swap_io-${dir}`);
    if (raw) io.series.push({ label: dir, points: rate(raw, 0, MB) });
  }
  push(io);
}

/** The strips of one host, in the E³ report order; only what has data. */
async function strips(src: Source): Promise<Strip[]> {
  const out: Strip[] = [];
  const has = (p: string) => src.plugins.includes(p);
  const push = (s: Strip) => {
    if (s.series.some((x) => x.points.length)) out.push({ ...s, series: s.series.filter((x) => x.points.length) });
  };

  // cpu
  const cpu: Strip = { id: 'cpu', title: 'CPU', unit: '%', stacked: true, max: 100, series: [] };
  if (has('aggregation-cpu-average')) {
    for (const st of CPU_STATES) {
      const raw = await src.load('aggregation-cpu-average', `cpu-${st}`);
      if (raw) cpu.series.push({ label: st, points: rate(raw, 0) });
    }
  }
  // The aggregation folder may hold only older days: then the per-CPU folders are the data.
  if (!cpu.series.some((s) => s.points.length) && src.plugins.some((p) => /^cpu-\d+$/.test(p))) {
    cpu.series = [];
    const cpus = src.plugins.filter((p) => /^cpu-\d+$/.test(p));
    for (const st of CPU_STATES) {
      const sum = new Map<number, number>();
      for (const p of cpus) {
        const raw = await src.load(p, `cpu-${st}`);
        if (!raw) continue;
        for (const [t, y] of rate(raw, 0)) sum.set(Math.round(t / 1000) * 1000, (sum.get(Math.round(t / 1000) * 1000) ?? 0) + y / cpus.length);
      }
      if (sum.size) cpu.series.push({ label: st, points: [...sum.entries()].sort((a, b) => a[0] - b[0]) });
    }
  } else if (has('cpu')) {
    for (const st of CPU_STATES) {
      const raw = await src.load('cpu', `percent-${st}`);
      if (raw) cpu.series.push({ label: st, points: gauge(raw, 0) });
    }
  }
  push(cpu);
  push(cpuSum(cpu));

  // memory
  if (has('memory')) {
    const mem: Strip = { id: 'memory', title: 'Memory', unit: 'GiB', stacked: true, series: [] };
    for (const st of ['used', 'buffered', 'cached']) {
      const raw = await src.load('memory', `memory-${st}`);
      if (raw) mem.series.push({ label: st, points: gauge(raw, 0, GiB) });
    }
    push(mem);
  }

  if (has('swap')) await swapStrips(src, push);

  // load
  if (has('load')) {
    const raw = await src.load('load', 'load');
    if (raw) push({ id: 'load', title: 'Load average', unit: '', stacked: false, series: raw.columns.map((c, i) => ({ label: c, points: gauge(raw, i) })) });
  }

  // network
  const net: Strip = { id: 'network', title: 'Network', unit: 'MB/s', stacked: false, series: [] };
  for (const p of src.plugins.filter((p) => p.startsWith('interface-') && p !== 'interface-lo')) {
    const raw = await src.load(p, 'if_octets');
    if (raw) raw.columns.forEach((c, i) => net.series.push({ label: `${p.slice(10)} ${c}`, points: rate(raw, i, MB) }));
  }
  push(net);

  // disk
  const disk: Strip = { id: 'disk', title: 'Disk', unit: 'MB/s', stacked: false, series: [] };
  for (const p of src.plugins.filter((p) => p.startsWith('disk-'))) {
    const raw = await src.load(p, 'disk_octets');
    if (raw) raw.columns.forEach((c, i) => disk.series.push({ label: `${p.slice(5)} ${c}`, points: rate(raw, i, MB) }));
  }
  push(disk);

  // git processes
  if (has('processes-git')) {
    const procs: Strip = { id: 'git-processes', title: 'git processes', unit: 'count', stacked: false, series: [] };
    const count = await src.load('processes-git', 'ps_count');
    if (count) procs.series.push({ label: 'processes', points: gauge(count, 0) });
    push(procs);
    const rss = await src.load('processes-git', 'ps_rss');
    if (rss) push({ id: 'git-rss', title: 'git resident memory', unit: 'GiB', stacked: false, series: [{ label: 'rss', points: gauge(rss, 0, GiB) }] });
    // ps_cputime: microseconds of CPU per second → % of one core.
    const cputime = await src.load('processes-git', 'ps_cputime');
    if (cputime) push({ id: 'git-cpu', title: 'git CPU time', unit: '% of a core', stacked: true, series: cputime.columns.map((c, i) => ({ label: c, points: rate(cputime, i, 1e-4) })) });
    const io = (await src.load('processes-git', 'io_octets')) ?? (await src.load('processes-git', 'ps_disk_octets'));
    if (io) push({ id: 'git-disk', title: 'git disk I/O', unit: 'MB/s', stacked: false, series: io.columns.map((c, i) => ({ label: c, points: rate(io, i, MB) })) });
  }

  // JMX: hosting tickets first, then every other GenericJMX folder
  const jmx = src.plugins.filter((p) => p.startsWith('GenericJMX')).sort((a, b) => Number(b.endsWith('_HostingTickets')) - Number(a.endsWith('_HostingTickets')));
  for (const p of jmx) {
    const name = p.replace(/^GenericJMX-?/, '').replace(/^com\.atlassian\.bitbucket_?/, 'bitbucket ') || 'JMX';
    const s: Strip = { id: `jmx-${p.replace(/[^A-Za-z0-9]+/g, '-')}`, title: p.endsWith('_HostingTickets') ? 'Hosting tickets' : name, unit: '', stacked: false, series: [] };
    for (const type of src.files(p)) {
      const raw = await src.load(p, type);
      if (!raw) continue;
      const isRate = /^(derive|counter)-/.test(type);
      const label = type.replace(/^(gauge|derive|counter)-/, '');
      raw.columns.forEach((c, i) => s.series.push({ label: raw.columns.length > 1 ? `${label} ${c}` : label, points: isRate ? rate(raw, i) : gauge(raw, i) }));
    }
    push(s);
  }
  return out;
}

/**
 * System metrics of every node of every thread: collectd CSV files
 * (`<node>/collectd-csv/<host>/<plugin-instance>/<type-instance>-YYYY-MM-DD`), or RRD files through the
 * `rrdtool` CLI when a node has only `collectd-rrd`. Limited to the thread's stage windows ± 90 s.
 * Lenient: missing or unreadable files are skipped and reported in `warnings`.
 */
export async function readNodeMetrics(info: RunInfo, options: { rrdtool?: string; warnings?: string[] } = {}): Promise<NodeMetrics[]> {
  const out: NodeMetrics[] = [];
  const rrdtool = options.rrdtool ?? 'rrdtool';
  for (const thread of info.threads) {
    const starts = thread.stages.flatMap((s) => (s.start !== undefined ? [s.start] : []));
    const ends = thread.stages.flatMap((s) => (s.end !== undefined ? [s.end] : []));
    const window: [number, number] | undefined = starts.length && ends.length ? [Math.min(...starts) - 90_000, Math.max(...ends) + 90_000] : undefined;
    for (const node of thread.nodes) {
      const nodeDir = join(info.paths.threadDir(thread.index), node);
      const csvHosts = await list(join(nodeDir, COLLECTD_CSV_DIR), true);
      const rrdHosts = csvHosts.length ? [] : await list(join(nodeDir, COLLECTD_RRD_DIR), true);
      for (const host of csvHosts) {
        try {
          out.push({ thread: thread.index, node, host, source: 'csv', strips: await strips(await csvSource(join(nodeDir, COLLECTD_CSV_DIR, host), window)) });
        } catch (err) {
          options.warnings?.push(`${thread.dir}/${node}/${COLLECTD_CSV_DIR}/${host}: ${(err as Error).message}`);
        }
      }
      for (const host of rrdHosts) {
        try {
          out.push({ thread: thread.index, node, host, source: 'rrd', strips: await strips(await rrdSource(join(nodeDir, COLLECTD_RRD_DIR, host), window, rrdtool)) });
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          options.warnings?.push(
            e.code === 'ENOENT'
              ? `${thread.dir}/${node}: only RRD metrics and no \`rrdtool\` on PATH; install it (apt-get install rrdtool) to chart them`
              : `${thread.dir}/${node}/${COLLECTD_RRD_DIR}/${host}: ${e.message.split('\n')[0]}`,
          );
        }
      }
    }
  }
  return out.filter((m) => m.strips.length);
}
