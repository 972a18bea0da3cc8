import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The run directory, defined once. Every other package gets file names from here.
 * The prose description lives in packages/model/README.md#run-directory.
 */
export const RUN_DIR_FORMAT_VERSION = 1;

export const PHASES = ['provision', 'run', 'gather', 'analyze', 'deprovision'] as const;
export type Phase = (typeof PHASES)[number];

export const LEDGER_FILE = 'ledger.ndjson';
export const PHASES_DIR = 'phases';
export const STAGES_FILE = 'stages.json';
export const SAMPLES_FILE = 'samples.csv';
export const STAGE_SUMMARY_FILE = 'summary.json';
export const AGENT_LOG_FILE = 'agent.log';
export const GATHER_MANIFEST_FILE = 'gather.json';
export const ANALYSIS_DIR = 'analysis';
export const INSTANCES_COPY_DIR = 'instances';
/** Lock file guarding read-modify-write of the run file (created with O_EXCL, removed after). */
export const RUN_FILE_LOCK = '.run-file.lock';

/** e3-home folder that deprovision moves finished runs into: `archive/<run>/`. */
export const ARCHIVE_DIR = 'archive';
/** e3-home folder of CloudFormation templates: `templates/<Template>.template`. */
export const TEMPLATES_DIR = 'templates';
/** Private key of an instance file: `instances/<name>.pem`. */
export function instanceKeyFileName(name: string): string {
  return `${name}.pem`;
}
/** `archive/<run>` in `home`. */
export function archivedRunDir(home: string, run: string): string {
  return join(home, ARCHIVE_DIR, run);
}
/** CloudFormation template file name: `<Template>.template`. */
export function templateFileName(template: string): string {
  return `${template}.template`;
}

const pad3 = (n: number): string => String(n).padStart(3, '0');

/** `<run>.json` */
export function runFileName(run: string): string {
  return `${run}.json`;
}
/** `thread-001` for index 0. */
export function threadDirName(threadIndex: number): string {
  return `thread-${pad3(threadIndex + 1)}`;
}
/** `worker-node-001` for index 0. */
export function workerNodeDirName(nodeIndex: number): string {
  return `worker-node-${pad3(nodeIndex + 1)}`;
}
/** `cluster-node-001` for index 0. */
export function clusterNodeDirName(nodeIndex: number): string {
  return `cluster-node-${pad3(nodeIndex + 1)}`;
}
/** `file-server-001` for index 0. */
export function fileServerDirName(nodeIndex: number): string {
  return `file-server-${pad3(nodeIndex + 1)}`;
}
/** `stage-000` for index 0 (E³ numbered stages from 000). */
export function stageDirName(stageIndex: number): string {
  return `stage-${pad3(stageIndex)}`;
}
/**
 * `stage-000.attempt-1`: an earlier attempt at stage 0 (interrupted, then `--resume`d), kept beside the
 * stage folder and left out of the stage's numbers. Attempts count from 1, oldest first.
 */
export function stageAttemptDirName(stageIndex: number, attempt: number): string {
  return `${stageDirName(stageIndex)}.attempt-${attempt}`;
}
/** The attempt number when `name` is an earlier-attempt folder of stage `stageIndex`, else undefined. */
export function stageAttemptOf(name: string, stageIndex: number): number | undefined {
  const prefix = `${stageDirName(stageIndex)}.attempt-`;
  if (!name.startsWith(prefix) || !/^[1-9]\d*$/.test(name.slice(prefix.length))) return undefined;
  return Number(name.slice(prefix.length));
}
/** The stage key E³ used: `000`, `001`, … */
export function stageKey(stageIndex: number): string {
  return pad3(stageIndex);
}

export interface RunDirPaths {
  root: string;
  runFile: string;
  ledger: string;
  runFileLock: string;
  phasesDir: string;
  phaseFile(phase: Phase): string;
  instancesDir: string;
  analysisDir: string;
  threadDir(thread: number): string;
  stagesFile(thread: number): string;
  workerNodeDir(thread: number, node: number): string;
  clusterNodeDir(thread: number, node: number): string;
  stageDir(thread: number, node: number, stage: number): string;
  samplesFile(thread: number, node: number, stage: number): string;
  stageSummaryFile(thread: number, node: number, stage: number): string;
  agentLogFile(thread: number, node: number, stage: number): string;
  gatherManifest: string;
}

/** All paths of the run directory `root` whose run name is its base name. Indexes are 0-based. */
export function runDirPaths(root: string, run: string = root.split(/[\\/]/).filter(Boolean).pop()!): RunDirPaths {
  const threadDir = (t: number) => join(root, threadDirName(t));
  const workerNodeDir = (t: number, n: number) => join(threadDir(t), workerNodeDirName(n));
  const stageDir = (t: number, n: number, s: number) => join(workerNodeDir(t, n), stageDirName(s));
  return {
    root,
    runFile: join(root, runFileName(run)),
    ledger: join(root, LEDGER_FILE),
    runFileLock: join(root, RUN_FILE_LOCK),
    phasesDir: join(root, PHASES_DIR),
    phaseFile: (phase) => join(root, PHASES_DIR, `${phase}.json`),
    instancesDir: join(root, INSTANCES_COPY_DIR),
    analysisDir: join(root, ANALYSIS_DIR),
    threadDir,
    stagesFile: (t) => join(threadDir(t), STAGES_FILE),
    workerNodeDir,
    clusterNodeDir: (t, n) => join(threadDir(t), clusterNodeDirName(n)),
    stageDir,
    samplesFile: (t, n, s) => join(stageDir(t, n, s), SAMPLES_FILE),
    stageSummaryFile: (t, n, s) => join(stageDir(t, n, s), STAGE_SUMMARY_FILE),
    agentLogFile: (t, n, s) => join(stageDir(t, n, s), AGENT_LOG_FILE),
    gatherManifest: join(root, GATHER_MANIFEST_FILE),
  };
}

/**
 * collectd-CSV folder name, both on a node (`<dataDir>/collectd-csv/<host>/…`, where the agent's built-in
 * sampler and the local target write) and in a run-dir node folder (`<node>/collectd-csv/<host>/…`, where
 * gather puts every node's CSV and analyze reads it). Same string as analysis-layout's COLLECTD_CSV_DIR.
 */
export const NODE_COLLECTD_CSV_DIR = 'collectd-csv';
/** `<dataDir>/collectd-csv`: the collectd-CSV root e3 writes on a node (sampler, local target). */
export function nodeCollectdCsvDir(dataDir: string): string {
  return `${dataDir}/${NODE_COLLECTD_CSV_DIR}`;
}

/** e3's folder on a remote worker or cluster node when the instance file sets no `dataDir`. */
export const DEFAULT_NODE_DATA_DIR = '/tmp/e3';

/**
 * The one rule for e3's folder on a node: the instance file's `dataDir`; else, for `localhost` (this
 * machine, no SSH), `<os.tmpdir()>/e3`; else DEFAULT_NODE_DATA_DIR. Run, gather and nodes all use it.
 */
export function nodeDataDir(instance: { dataDir?: string }, node: string): string {
  return instance.dataDir ?? (node === 'localhost' ? join(tmpdir(), 'e3') : DEFAULT_NODE_DATA_DIR);
}

/**
 * Where things live on a node under its data dir (`Instance.dataDir` or DEFAULT_NODE_DATA_DIR): the agent
 * bundle, the stage folders the agent writes (gather copies them to the run dir's worker-node folders),
 * the agent's scratch space and the pid files of what e3 started there. Paths carry the worker index,
 * so workers that share a file system (NFS, or test hosts in network namespaces) never collide.
 */
export function nodePaths(dataDir: string, run: string) {
  const workerDir = (t: number, w: number) => `${dataDir}/runs/${run}/${threadDirName(t)}/${workerNodeDirName(w)}`;
  return {
    agentBundle: `${dataDir}/bin/e3-agent.cjs`,
    runDir: `${dataDir}/runs/${run}`,
    workerDir,
    stageDir: (t: number, w: number, s: number) => `${workerDir(t, w)}/${stageDirName(s)}`,
    /** Everything the run's agents keep as scratch, user keys included: removed at the end of the run and by deprovision. */
    scratchDir: `${dataDir}/scratch/${run}`,
    workDir: (t: number, w: number) => `${dataDir}/scratch/${run}/${threadDirName(t)}/${workerNodeDirName(w)}`,
    pidFile: (t: number, w: number) => `${dataDir}/pids/${run}-${threadDirName(t)}-${workerNodeDirName(w)}.pid`,
    pidDir: `${dataDir}/pids`,
    collectdCsvDir: nodeCollectdCsvDir(dataDir),
    /** Pid file of the built-in sampler e3 started on `node` for the run (named by node: data dirs may be shared). */
    monitorPidFile: (node: string) => `${dataDir}/pids/${run}-monitor-${node.replace(/[^A-Za-z0-9._-]+/g, '_')}.pid`,
  };
}
