import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';

import {
  E3Error,
  isE3Error,
  nodeDataDir,
  nodePaths,
  readGatherManifest,
  readPhaseStatus,
  COLLECTD_CSV_DIR,
  readRunFile,
  readStages,
  requirePhase,
  resolveHome,
  resolveRunDir,
  runDirPaths,
  threadMachines,
  withPhase,
  writeGatherManifest,
  type GatheredNode,
  type RunFile,
  type StackMachines,
} from '@e3/model';
import { createStackConnector, globMatcher, shellQuote, syncDir, type NodeHandle, type StackConnector } from '@e3/remote';

/** Bitbucket's log folder when an instance file names none (E³ gathered the same). */
export const DEFAULT_SERVER_LOG_DIR = '/var/atlassian/application-data/bitbucket/log';
export const DEFAULT_COLLECTD_CSV_DIR = '/var/lib/collectd/csv';
export const DEFAULT_COLLECTD_RRD_DIR = '/var/lib/collectd/rrd';

export interface GatherOptions {
  /** The run: a name in e3-home/runs or archive, or the path of a run folder (resolveRunDir). */
  run: string;
  /** Gather even though the run failed or never started. */
  force?: boolean;
  home?: string;
  cwd?: string;
  insecureHostKeys?: boolean;
  /** collectd's folders on the nodes. */
  collectdCsvDir?: string;
  collectdRrdDir?: string;
  /** Metrics and logs from this long before the run started and after it ended are kept (ms, default 10 min). */
  marginMs?: number;
  /** Nodes gathered at once (default 4). */
  concurrency?: number;
  signal?: AbortSignal;
  log?(message: string): void;
  /** Called as files land and when a node is done. */
  onProgress?(progress: NodeProgress): void;
}

export interface NodeProgress {
  dir: string;
  node: string;
  files: number;
  bytes: number;
  done: boolean;
}

export interface GatheredNodeResult {
  thread: number;
  role: GatheredNode['role'];
  index: number;
  node: string;
  /** Its folder, relative to the run dir. */
  dir: string;
  filesMoved: number;
  bytesMoved: number;
  /** Bytes of samples.csv files moved. */
  sampleBytesMoved: number;
  error?: { code: string; message: string; hint?: string };
}

export interface GatherResult {
  run: string;
  runDir: string;
  status: 'succeeded' | 'partial';
  nodes: GatheredNodeResult[];
  filesMoved: number;
  bytesMoved: number;
}

interface Source {
  src: string;
  /** Folder under the node's run-dir folder ('' = the folder itself). */
  dest: string;
  include?: string[];
  newerThan?: number;
  /** Missing on the node is worth a warning (an explicitly configured folder). */
  expected?: boolean;
}

interface NodeJob {
  thread: number;
  role: GatheredNode['role'];
  index: number;
  node: string;
  machines: StackMachines;
  dir: string;
  sources: Source[];
}

const ymd = (d: Date, utc: boolean) =>
  utc
    ? d.toISOString().slice(0, 10)
    : `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

/** collectd CSV files are per day (`<type>-YYYY-MM-DD`): globs for the days the window touches. */
export function collectdDayGlobs(from: number, to: number): string[] {
  const days = new Set<string>();
  for (let t = from; t <= to + 86_400_000; t += 86_400_000) {
    const d = new Date(Math.min(t, to));
    days.add(ymd(d, true));
    days.add(ymd(d, false));
  }
  return [...days].sort().map((d) => `*-${d}`);
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string) => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await visit(p);
      else if (e.isFile() && !e.name.startsWith('.')) out.push(p);
    }
  };
  await visit(root);
  return out;
}

/**
 * Copies everything a run produced on its nodes into the run dir (ARCHITECTURE "The run directory"):
 * worker stage folders (samples, summaries, agent logs), collectd CSV and RRD limited to the run's time
 * window, server logs of cluster nodes, and file-server metrics. Safe while the run goes on and as often
 * as wanted: only new or changed bytes move, a file is never visible half-copied, and `gather.json`
 * records every file's size, mtime and hash. Nodes come from the run file's copies of the instance files,
 * so it works after deprovision. A node that fails is reported with its coded error and the others are
 * still gathered (status `partial`). Throws E3_RUN_NOT_FOUND, E3_PHASE_NOT_READY (the run failed or never
 * started; a run still going is fine) unless `force`.
 */
export async function gather(options: GatherOptions): Promise<GatherResult> {
  const home = resolveHome({ home: options.home, cwd: options.cwd });
  const runDir = resolveRunDir(home, options.run, { cwd: options.cwd });
  const runFile = await readRunFile(runDir);
  await requirePhase(runDir, 'run', { allowRunning: true, next: 'gather', force: options.force });
  const named = { ...options, run: basename(runDir) };
  return withPhase(runDir, 'gather', () => gatherIn(home, runDir, runFile, named), {
    signal: options.signal,
    outcome: (r) => {
      const failed = r.nodes.filter((n) => n.error);
      if (!failed.length) return { status: 'succeeded' };
      return { status: 'partial', error: { code: 'E3_GATHER_PARTIAL', message: `${failed.length} of ${r.nodes.length} node(s) could not be gathered: ${failed.map((f) => f.node).join(', ')}` } };
    },
  });
}

async function gatherIn(home: string, runDir: string, runFile: RunFile, options: GatherOptions): Promise<GatherResult> {
  const log = options.log ?? (() => undefined);
  const paths = runDirPaths(runDir);
  const runStatus = await readPhaseStatus(runDir, 'run');
  const margin = options.marginMs ?? 600_000;
  // Without a run status (--force), the window is the stages' (or now).
  let windowStart = runStatus ? Date.parse(runStatus.startedAt) : Infinity;
  let windowEnd = runStatus?.finishedAt ? Date.parse(runStatus.finishedAt) : Date.now();
  for (let t = 0; t < runFile.threads.length; t++) {
    for (const s of (await readStages(runDir, t))?.stages ?? []) {
      if (s.start) windowStart = Math.min(windowStart, s.start);
      if (s.end) windowEnd = Math.max(windowEnd, s.end);
    }
  }
  if (!Number.isFinite(windowStart)) windowStart = windowEnd;
  const from = windowStart - margin;
  const to = windowEnd + margin;
  const csvDir = options.collectdCsvDir ?? DEFAULT_COLLECTD_CSV_DIR;
  const rrdDir = options.collectdRrdDir ?? DEFAULT_COLLECTD_RRD_DIR;
  // e3's own CSV on a node (built-in sampler, local target): same run-dir folder as collectd's.
  const e3Csv = (src: string): Source => ({ src, dest: COLLECTD_CSV_DIR, include: collectdDayGlobs(from, to) });
  const metrics = (): Source[] => [
    { src: csvDir, dest: COLLECTD_CSV_DIR, include: collectdDayGlobs(from, to) },
    { src: rrdDir, dest: 'collectd-rrd', newerThan: from },
  ];

  const jobs: NodeJob[] = [];
  for (let t = 0; t < runFile.threads.length; t++) {
    const workers = await threadMachines(home, runDir, runFile, t, 'worker');
    workers.instance.ClusterNodes.forEach((node, w) => {
      const local = node === 'localhost';
      const np = nodePaths(nodeDataDir(workers.instance, node), options.run);
      jobs.push({
        thread: t, role: 'worker', index: w, node, machines: workers,
        dir: relative(runDir, paths.workerNodeDir(t, w)),
        // Local workers write their stages straight into the run dir.
        sources: [...(local ? [] : [{ src: np.workerDir(t, w), dest: '' }]), e3Csv(np.collectdCsvDir), ...metrics()],
      });
    });
    const sut = await threadMachines(home, runDir, runFile, t, 'instance');
    const logDirs = sut.instance.logDirs ?? [DEFAULT_SERVER_LOG_DIR];
    sut.instance.ClusterNodes.forEach((node, c) => {
      jobs.push({
        thread: t, role: 'cluster', index: c, node, machines: sut,
        dir: relative(runDir, paths.clusterNodeDir(t, c)),
        sources: [
          ...logDirs.map((d, i) => ({ src: d, dest: logDirs.length > 1 ? `log/${i + 1}` : 'log', newerThan: from, expected: Boolean(sut.instance.logDirs) })),
          e3Csv(nodePaths(nodeDataDir(sut.instance, node), options.run).collectdCsvDir),
          ...metrics(),
        ],
      });
    });
    if (sut.instance.FileServerConnectionString) {
      jobs.push({
        thread: t, role: 'file-server', index: 0, node: sut.instance.FileServerConnectionString, machines: sut,
        dir: relative(runDir, join(paths.threadDir(t), 'file-server-001')),
        sources: metrics(),
      });
    }
  }

  const previous = new Map((await readGatherManifest(runDir).catch(() => undefined))?.nodes.map((n) => [n.dir, n]) ?? []);
  const connector: StackConnector = createStackConnector({
    insecure: options.insecureHostKeys,
    keyDirs: [paths.instancesDir],
    onPinned: (node, fp) => log(`pinned the host key of ${node}: ${fp}`),
    signal: options.signal,
  });
  if (options.insecureHostKeys) log('--insecure-host-keys: SSH host keys are NOT checked');

  const results: GatheredNodeResult[] = [];
  const manifest: GatheredNode[] = [];
  const gatherNode = async (job: NodeJob) => {
    const result: GatheredNodeResult = { thread: job.thread, role: job.role, index: job.index, node: job.node, dir: job.dir, filesMoved: 0, bytesMoved: 0, sampleBytesMoved: 0 };
    const local = join(runDir, job.dir);
    const old = previous.get(job.dir);
    let files = old?.files ?? {};
    try {
      const handle: NodeHandle = await connector.connect(job.machines, job.node);
      for (const source of job.sources) {
        const there = await handle.stat(source.src);
        if (!there || there.type !== 'dir') {
          if (source.expected) log(`${job.node}: ${source.src} does not exist (thread ${job.thread + 1}, ${job.role} ${job.index + 1})`);
          continue;
        }
        const dest = source.dest ? join(local, source.dest) : local;
        if (handle.kind === 'ssh' && (await upToDate(handle, source, dest))) continue;
        await syncDir({
          from: handle.kind === 'local' ? 'local' : handle,
          to: 'local',
          src: source.src,
          dest,
          ...(source.include ? { include: source.include } : {}),
          ...(source.newerThan !== undefined ? { newerThan: source.newerThan } : {}),
          signal: options.signal,
          onFile: (f) => {
            result.filesMoved++;
            result.bytesMoved += f.bytes;
            if (f.path.endsWith('/samples.csv') || f.path === 'samples.csv') result.sampleBytesMoved += f.bytes;
            options.onProgress?.({ dir: job.dir, node: job.node, files: result.filesMoved, bytes: result.bytesMoved, done: false });
          },
        });
      }
      files = await describe(runDir, local, files);
      manifest.push({ thread: job.thread, role: job.role, index: job.index, node: job.node, dir: job.dir, lastSync: new Date().toISOString(), files });
    } catch (err) {
      if (isE3Error(err) && err.code === 'E3_INTERRUPTED') throw err;
      const e = isE3Error(err) ? err : new E3Error('IO', (err as Error).message, { cause: err });
      result.error = { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
      log(`${job.dir} (${job.node}): [${e.code}] ${e.message}`);
      manifest.push({ thread: job.thread, role: job.role, index: job.index, node: job.node, dir: job.dir, ...(old?.lastSync ? { lastSync: old.lastSync } : {}), files: await describe(runDir, local, files), error: { code: e.code, message: e.message } });
    }
    options.onProgress?.({ dir: job.dir, node: job.node, files: result.filesMoved, bytes: result.bytesMoved, done: true });
    results.push(result);
  };

  try {
    const queue = [...jobs];
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency ?? 4, queue.length) }, async () => {
        for (let job = queue.shift(); job; job = queue.shift()) await gatherNode(job);
      }),
    );
  } finally {
    await connector.closeAll();
  }

  const order = (a: { dir: string }, b: { dir: string }) => a.dir.localeCompare(b.dir);
  results.sort(order);
  manifest.sort(order);
  await writeGatherManifest(runDir, { nodes: manifest });
  const status = results.some((r) => r.error) ? 'partial' : 'succeeded';
  return {
    run: options.run, runDir, status, nodes: results,
    filesMoved: results.reduce((a, r) => a + r.filesMoved, 0),
    bytesMoved: results.reduce((a, r) => a + r.bytesMoved, 0),
  };
}

/**
 * True when every file of `source` on the node (after its filters) exists locally with the same size and
 * mtime (whole seconds): one `find` over the open connection instead of a sync round trip.
 */
async function upToDate(handle: NodeHandle, source: Source, dest: string): Promise<boolean> {
  const r = await handle.exec(`find ${shellQuote(source.src)} -type f -printf '%P\\t%s\\t%T@\\n'`);
  if (r.code !== 0) return false;
  const include = (source.include ?? []).map(globMatcher);
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    const [path, size, mtime] = line.split('\t');
    const mtimeMs = Number(mtime) * 1000;
    if (source.newerThan !== undefined && mtimeMs <= source.newerThan) continue;
    if (include.length && !include.some((m) => m(path!))) continue;
    const st = await stat(join(dest, path!)).catch(() => undefined);
    if (!st || st.size !== Number(size) || Math.floor(st.mtimeMs / 1000) !== Math.floor(mtimeMs / 1000)) return false;
  }
  return true;
}

/** The files under `dir` with size, mtime and hash; hashes are reused for files whose size and mtime did not change. */
async function describe(runDir: string, dir: string, known: GatheredNode['files']): Promise<GatheredNode['files']> {
  const out: GatheredNode['files'] = {};
  for (const file of await walk(dir)) {
    const rel = relative(runDir, file).split(sep).join('/');
    const st = await stat(file);
    const prior = known[rel];
    out[rel] =
      prior && prior.size === st.size && prior.mtimeMs === st.mtimeMs ? prior : { size: st.size, mtimeMs: st.mtimeMs, sha256: await sha256File(file) };
  }
  return out;
}
