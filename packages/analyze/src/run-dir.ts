import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';

import {
  E3Error,
  NODE_DIR_PATTERN,
  readGatherManifest,
  readPhaseStatus,
  readRunFile,
  readStages,
  resolveHome,
  resolveRunDir as resolveModelRunDir,
  runDirPaths,
  stageAttemptOf,
  stageDirName,
  stageHealth,
  stageKey,
  threadDirName,
  threadName,
  type RunDirPaths,
  type RunFile,
  type GatherManifest,
  type StageHealth,
  type StageRecord,
  type StageSummary,
  type Threshold,
} from '@e3/model';

/** One stage as analysis sees it: the stages.json record when there is one, else the plan. */
export interface StageInfo {
  index: number;
  key: string;
  dir: string;
  /** stages.json status, or `missing` when the run never recorded the stage. */
  status: StageRecord['status'] | 'missing';
  record?: StageRecord;
  workload?: string;
  clients?: number;
  rate?: number;
  /** Load axis value: clients (closed) or rate (open). */
  load: number | null;
  /** Window TPS divides by: stages.json loadStart/loadEnd, else (older runs) start/end, which include the drain. */
  start?: number;
  end?: number;
  windowMs: number | null;
  /** True when start/end are the load window (stages.json has loadEnd). */
  loadWindow: boolean;
  /** Set only with a load window: completions ending after it are the drain. */
  loadEnd?: number;
  drainEnd?: number;
  /** samples.csv files found, one per worker that has one. */
  sampleFiles: SampleFile[];
  /** The workers' own summary.json accounting, one per worker that has a readable one. */
  agents: AgentAccount[];
  notes: string[];
}

/** A worker's samples.csv and what vouches for it. */
export interface SampleFile {
  worker: number;
  file: string;
  /** Rows the agent's summary.json says it wrote. */
  expectedRows?: number;
  /** Size and sha256 gather.json recorded when it copied the file. */
  gathered?: { size: number; sha256: string };
}

/** What one agent's summary.json says about its stage. */
export interface AgentAccount {
  worker: number;
  samples: number;
  arrivals?: { scheduled: number; started: number; late: number; dropped: number };
  /** The agent's vital signs over the stage (agents before the health field: computed from ticks, or none). */
  health?: StageHealth;
}

export interface ThreadInfo {
  index: number;
  name: string;
  dir: string;
  /** Node folder names, sorted: cluster-node-*, file-server-*, worker-node-*. */
  nodes: string[];
  stages: StageInfo[];
  thresholds: Threshold[];
}

export interface RunInfo {
  run: string;
  runDir: string;
  paths: RunDirPaths;
  runFile: RunFile;
  threads: ThreadInfo[];
  warnings: string[];
}

/** The run folder `run` names, resolved as every phase does (`resolveRunDir` of @e3/model). Throws E3_RUN_NOT_FOUND. */
export function resolveRunDir(run: string, options: { home?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const cwd = options.cwd ?? process.cwd();
  return resolveModelRunDir(resolveHome({ home: options.home, cwd, env: options.env }), run, { cwd });
}

/** gather.json's files by path relative to the run dir. */
function gatheredFiles(m: GatherManifest | undefined): Map<string, { size: number; sha256: string }> {
  const out = new Map<string, { size: number; sha256: string }>();
  for (const node of m?.nodes ?? []) for (const [path, f] of Object.entries(node.files ?? {})) out.set(path, { size: f.size, sha256: f.sha256 });
  return out;
}

/** The row count and arrivals of a worker's summary.json; undefined (and a note when unreadable) without one. */
async function readAgentAccount(file: string, worker: number, notes: string[]): Promise<AgentAccount | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as Partial<StageSummary>;
    if (typeof s.samples !== 'number') throw new Error('no samples count');
    const a = s.arrivals;
    const health = s.health ?? (Array.isArray(s.ticks) ? stageHealth(s.ticks) : undefined);
    return { worker, samples: s.samples, ...(a ? { arrivals: { scheduled: a.scheduled, started: a.started, late: a.late, dropped: a.dropped } } : {}), ...(health ? { health } : {}) };
  } catch (err) {
    notes.push(`worker ${worker + 1}: ${basename(file)} unreadable (${(err as Error).message}): its row count cannot be checked`);
    return undefined;
  }
}

async function listDirs(dir: string, pattern: RegExp): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && pattern.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new E3Error('IO', `cannot list ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Reads the run file and every thread's stages.json, and finds the sample files. Stages come from
 * stages.json (the clients actually run, the windows actually held); planned stages the run never
 * reached are `missing`. A thread without stages.json keeps its planned stages, all `missing`.
 * Throws E3_RUN_NOT_FOUND, E3_INVALID_FILE/E3_JSON_PARSE (bad run file or stages.json),
 * E3_RUN_DIR_INCOMPATIBLE (newer formatVersion) and E3_PHASE_NOT_READY (no thread has stages.json).
 */
export async function readRun(runDir: string): Promise<RunInfo> {
  const run = basename(runDir);
  const paths = runDirPaths(runDir, run);
  const warnings: string[] = [];
  const runFile = await readRunFile(runDir);

  const manifest = gatheredFiles(await readGatherManifest(runDir).catch(() => undefined));
  const threads: ThreadInfo[] = [];
  let anyStages = false;
  for (const [ti, planned] of runFile.threads.entries()) {
    const threadDir = paths.threadDir(ti);
    const stagesFile = await readStages(runDir, ti);
    if (stagesFile) anyStages = true;
    else {
      warnings.push(`${threadDirName(ti)}: no ${basename(paths.stagesFile(ti))}; its stages are reported as missing (run \`e3 run -r ${run}\` or \`e3 gather -r ${run}\`)`);
    }
    const nodes = await listDirs(threadDir, NODE_DIR_PATTERN);
    const workerNodes = nodes.filter((n) => n.startsWith('worker-node-'));
    const nodeDirs = new Map(await Promise.all(workerNodes.map(async (n) => [n, await listDirs(join(threadDir, n), /./)] as const)));
    const count = Math.max(planned.stages.length, ...(stagesFile?.stages.map((s) => s.index + 1) ?? [0]));
    const stages: StageInfo[] = [];
    for (let si = 0; si < count; si++) {
      const record = stagesFile?.stages.find((s) => s.index === si);
      const plan = planned.stages[si];
      const sampleFiles: StageInfo['sampleFiles'] = [];
      for (const node of workerNodes) {
        const worker = Number(node.slice('worker-node-'.length)) - 1;
        const file = paths.samplesFile(ti, worker, si);
        if (existsSync(file)) sampleFiles.push({ worker, file });
      }
      const notes: string[] = [];
      const status = record?.status ?? 'missing';
      if (status === 'missing') notes.push('missing: the run never recorded this stage');
      else if (status !== 'succeeded') notes.push(`status ${status}`);
      for (const w of record?.workers ?? []) {
        if (w.status !== 'succeeded') notes.push(`worker ${w.index + 1} (${w.node}) ${w.status}${w.error ? `: ${w.error}` : ''}`);
        if ((w.clients ?? w.rate ?? 0) > 0 && !sampleFiles.some((f) => f.worker === w.index)) {
          notes.push(`worker ${w.index + 1} (${w.node}): no ${stageDirName(si)} samples file`);
        }
      }
      for (const [node, dirs] of nodeDirs) {
        for (const d of dirs.filter((name) => stageAttemptOf(name, si) !== undefined)) {
          warnings.push(`${threadDirName(ti)}/${node}/${d}: an earlier, interrupted attempt at stage ${stageKey(si)}, kept by --resume; not counted in its numbers`);
        }
      }
      const loadWindow = record?.loadEnd !== undefined;
      const start = loadWindow ? record!.loadStart ?? record!.start : record?.start;
      const end = loadWindow ? record!.loadEnd : record?.end;
      const windowMs = start !== undefined && end !== undefined && end > start ? end - start : null;
      if (record && windowMs === null) notes.push('window unknown (no start or end in stages.json): TPS not computed');
      else if (record && !loadWindow) warnings.push(`${threadDirName(ti)}/${stageDirName(si)}: stages.json has no loadEnd (a run older than the load window): TPS divides by end − start, which includes the drain`);
      const agents: AgentAccount[] = [];
      for (const f of sampleFiles) {
        const rel = relative(runDir, f.file).split(sep).join('/');
        const gathered = manifest.get(rel);
        if (gathered) f.gathered = gathered;
        const account = await readAgentAccount(paths.stageSummaryFile(ti, f.worker, si), f.worker, notes);
        if (account) {
          f.expectedRows = account.samples;
          agents.push(account);
        }
      }
      const clients = record ? record.clients : undefined;
      const rate = record ? record.rate : undefined;
      stages.push({
        index: si,
        key: record?.key ?? stageKey(si),
        dir: stageDirName(si),
        status,
        ...(record ? { record } : {}),
        workload: record?.workload ?? plan?.workload ?? runFile.workload,
        ...(clients !== undefined ? { clients } : {}),
        ...(rate !== undefined ? { rate } : {}),
        load: clients ?? rate ?? null,
        ...(start !== undefined ? { start } : {}),
        ...(end !== undefined ? { end } : {}),
        windowMs,
        loadWindow,
        ...(loadWindow && end !== undefined ? { loadEnd: end } : {}),
        ...(record?.drainEnd !== undefined ? { drainEnd: record.drainEnd } : {}),
        sampleFiles: record ? sampleFiles : [],
        agents: record ? agents : [],
        notes,
      });
      if (!record && sampleFiles.length) warnings.push(`${threadDirName(ti)}/${stageDirName(si)}: samples exist but stages.json has no record; ignored`);
    }
    threads.push({
      index: ti,
      name: stagesFile?.name ?? threadName(planned, ti),
      dir: threadDirName(ti),
      nodes,
      stages,
      thresholds: (planned.thresholds ?? []) as Threshold[],
    });
  }
  if (!anyStages) {
    throw new E3Error('PHASE_NOT_READY', `${runDir}: no thread has a stages.json, so there is nothing to analyse`, {
      hint: `Run \`e3 run -r ${run}\` (and \`e3 gather -r ${run}\` for remote workers) first`,
    });
  }
  for (const phase of ['run', 'gather'] as const) {
    const status = await readPhaseStatus(runDir, phase).catch(() => undefined);
    if (status && status.status !== 'succeeded') warnings.push(`phases/${phase}.json says ${status.status}: this analysis covers what had arrived by now`);
  }
  return { run, runDir, paths, runFile, threads, warnings };
}
