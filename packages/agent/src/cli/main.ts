import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

import { E3_VERSION, E3Error, assertValid, validateValue, workloadJobs, type StageSummary, type Tick, type WorkloadFile } from '@e3/model';

import { runStage, type LogFn, type StageResult } from '../engine/stage.js';
import { runMonitor } from '../monitor/proc.js';
import { serveStdio } from '../protocol/stdio.js';
import type { Script } from '../script/api.js';
import { bundleUserScript, isUserScriptPath, loadUserScript } from '../script/user-scripts.js';
import { parseArgs, parseCount, parseDuration, parseThinkTime } from './args.js';

/** The options of a local `e3-agent` run (the plain CLI). Flag values are strings until here. */
export const RUN_FLAGS = {
  workload: 'Workload file: a JSON array of {script, description, weight} (E³) or {"jobs": [...]}.',
  instance: 'Instance file (E³ format): URL with context path, RunConfig.admin_password, snapshot.',
  snapshot: 'Snapshot file; default <instance dir>/../snapshots/<instance.snapshot>.json.',
  keys: 'Keys file for SSH users without a key.',
  clients: 'Closed model: concurrent clients on this agent.',
  rate: 'Open model: arrivals per second.',
  pool: 'Open model: virtual users serving the arrivals (default 64).',
  duration: 'Stage duration: 30s, 5m, 1500ms.',
  out: 'Stage directory for samples.csv, summary.json and agent.log.',
  'work-dir': 'Scratch space (homes, clones, repository cache).',
  offset: 'Global number of the first client (default 0).',
  total: 'Clients over all agents (default offset + clients).',
  assignment: 'weighted (default) or bands (E³).',
  grace: 'Grace period for in-flight operations at the end (default 5s).',
  'user-per-iteration': 'Draw a new user for every iteration.',
  'think-time': 'Closed model: pause after each pass, not measured: 1s, or a uniform range 0.5s..1.5s (default none; a job\'s own thinkTime wins).',
  quiet: 'No per-second progress on stderr.',
} as const;

export const USAGE = `e3-agent ${E3_VERSION} — the e3 load agent

Usage:
  e3-agent [--stdio]                 speak the NDJSON control protocol on stdin/stdout
  e3-agent --workload F --instance F (--clients N | --rate R) --duration 30s --out DIR [options]
  e3-agent monitor --out DIR [--interval 5s] [--duration 1h] [--host NAME]
  e3-agent --version | --help

Run options:
${Object.entries(RUN_FLAGS).map(([k, v]) => `  --${k.padEnd(20)} ${v}`).join('\n')}
`;

export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal?: AbortSignal;
}

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new E3Error('FILE_NOT_FOUND', `${what} file ${file} does not exist`, { cause: err, hint: `Check the path given to --${what}.` });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new E3Error('JSON_PARSE', `${file} is not valid JSON: ${(err as Error).message}`, { cause: err, hint: `Fix ${file}.` });
  }
}

/** Finds the snapshot of an instance: `--snapshot`, else `<e3-home>/snapshots/<name>.json` next to the instances folder. */
export function snapshotPathFor(instanceFile: string, snapshotName: string): string {
  return join(dirname(resolve(instanceFile)), '..', 'snapshots', `${snapshotName}.json`);
}

/** A one-line-per-op table of a summary, for the terminal. */
export function formatSummary(summary: StageSummary): string {
  const rows = summary.ops.map((o) =>
    [o.test, o.kind === 'transaction' ? `[${o.op}]` : o.op, o.count, o.errors, o.mean.toFixed(1), o.p95.toFixed(1), o.max.toFixed(1)].join('\t'),
  );
  return ['test\top\tcount\terrors\tmean ms\tp95 ms\tmax ms', ...rows].join('\n') + '\n';
}

const tickLine = (t: Tick): string => {
  const tx = t.ops.filter((o) => o.kind === 'transaction');
  const n = tx.reduce((a, o) => a + o.count, 0);
  const e = tx.reduce((a, o) => a + o.errors, 0);
  return `${String(t.second).padStart(4)}s  active ${t.active}  passes ${n}  errors ${e}${t.dropped ? `  dropped ${t.dropped}` : ''}\n`;
};

/** Flags of a local run, as strings (booleans as true), named as on the command line. */
export type LocalRunFlags = Partial<Record<keyof typeof RUN_FLAGS, string | true>>;

/**
 * One local stage from files: reads the workload (E³ list or `{jobs}`), instance, snapshot (default next to
 * the instance in e3-home) and keys; bundles user scripts; runs the stage into `out`.
 * Throws E3_USAGE (flags), E3_FILE_NOT_FOUND / E3_JSON_PARSE / E3_INVALID_FILE (files).
 */
export async function runLocal(
  flags: LocalRunFlags,
  hooks: { signal?: AbortSignal; onTick?: (tick: Tick) => void; log?: LogFn } = {},
): Promise<StageResult> {
  const need = (name: keyof typeof RUN_FLAGS): string => {
    const v = flags[name];
    if (typeof v !== 'string') throw new E3Error('USAGE', `--${name} is required`, { hint: 'Run e3-agent --help.' });
    return v;
  };
  const workloadFile = need('workload');
  const instanceFile = need('instance');
  const workload = workloadJobs(assertValid(validateValue<WorkloadFile>('workload', await readJson(workloadFile, 'workload'), workloadFile)));
  const instance = (await readJson(instanceFile, 'instance')) as Record<string, unknown>;
  const snapshotFile =
    typeof flags.snapshot === 'string'
      ? flags.snapshot
      : typeof instance.snapshot === 'string'
        ? snapshotPathFor(instanceFile, instance.snapshot)
        : need('snapshot');
  const snapshot = (await readJson(snapshotFile, 'snapshot')) as Record<string, unknown>;
  const keys = typeof flags.keys === 'string' ? ((await readJson(flags.keys, 'keys')) as Record<string, unknown>) : undefined;
  const out = need('out');
  const workDir = typeof flags['work-dir'] === 'string' ? flags['work-dir'] : undefined;
  const userScripts: Record<string, Script> = {};
  for (const job of workload) {
    if (!isUserScriptPath(job.script) || userScripts[job.script]) continue;
    const file = isAbsolute(job.script) ? job.script : resolve(dirname(workloadFile), job.script);
    const code = await bundleUserScript(file);
    userScripts[job.script] = await loadUserScript({ name: basename(job.script), code, dir: join(workDir ?? out, '.user-scripts') });
  }
  const rate = typeof flags.rate === 'string' ? parseCount(flags.rate, '--rate') : undefined;
  const clients = typeof flags.clients === 'string' ? parseCount(flags.clients, '--clients') : typeof flags.pool === 'string' ? parseCount(flags.pool, '--pool') : undefined;
  if (rate === undefined && clients === undefined) throw new E3Error('USAGE', 'give --clients N (closed model) or --rate R (open model)', { hint: 'Run e3-agent --help.' });
  return runStage({
    workload, instance, snapshot, ...(keys ? { keys } : {}),
    stageDir: out,
    ...(workDir ? { workDir } : {}),
    durationMs: parseDuration(need('duration'), '--duration'),
    ...(clients !== undefined ? { clients } : {}),
    ...(rate !== undefined ? { rate } : {}),
    ...(typeof flags.offset === 'string' ? { clientOffset: parseCount(flags.offset, '--offset') } : {}),
    ...(typeof flags.total === 'string' ? { totalClients: parseCount(flags.total, '--total') } : {}),
    ...(flags.assignment === 'bands' ? { assignment: 'bands' as const } : {}),
    ...(flags.assignment !== undefined && flags.assignment !== 'bands' && flags.assignment !== 'weighted'
      ? (() => {
          throw new E3Error('USAGE', `--assignment must be weighted or bands, got "${String(flags.assignment)}"`, { hint: 'Run e3-agent --help.' });
        })()
      : {}),
    ...(typeof flags.grace === 'string' ? { graceMs: parseDuration(flags.grace, '--grace') } : {}),
    userPerIteration: flags['user-per-iteration'] === true,
    ...(typeof flags['think-time'] === 'string' ? { thinkTimeMs: parseThinkTime(flags['think-time'], '--think-time') } : {}),
    userScripts,
    ...(hooks.signal ? { signal: hooks.signal } : {}),
    ...(hooks.onTick ? { onTick: hooks.onTick } : {}),
    ...(hooks.log ? { log: hooks.log } : {}),
  });
}

/**
 * The e3-agent command line. Returns the exit code; prints results to stdout and progress to stderr.
 * Throws E3Error for bad usage or files (the bin renders it).
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv[0] === 'monitor') {
    const { flags } = parseArgs(argv.slice(1), []);
    if (typeof flags.out !== 'string') throw new E3Error('USAGE', 'monitor needs --out DIR', { hint: 'e3-agent monitor --out /tmp/collectd-csv' });
    const ctl = new AbortController();
    io.signal?.addEventListener('abort', () => ctl.abort(), { once: true });
    const timer = typeof flags.duration === 'string' ? setTimeout(() => ctl.abort(), parseDuration(flags.duration, '--duration')) : undefined;
    const r = await runMonitor({
      out: flags.out,
      ...(typeof flags.host === 'string' ? { host: flags.host } : {}),
      intervalMs: typeof flags.interval === 'string' ? parseDuration(flags.interval, '--interval') : 5000,
      signal: ctl.signal,
    });
    if (timer) clearTimeout(timer);
    io.stderr.write(`monitor: ${r.rounds} rounds written to ${flags.out}\n`);
    return 0;
  }
  const { flags } = parseArgs(argv, ['stdio', 'help', 'version', 'user-per-iteration', 'quiet']);
  if (flags.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (flags.version) {
    io.stdout.write(E3_VERSION + '\n');
    return 0;
  }
  if (flags.stdio || Object.keys(flags).length === 0) {
    await serveStdio({ input: io.stdin as never, output: io.stdout as never });
    return 0;
  }
  const result = await runLocal(flags as LocalRunFlags, {
    ...(io.signal ? { signal: io.signal } : {}),
    onTick: (t) => {
      if (flags.quiet !== true) io.stderr.write(tickLine(t));
    },
    log: (level, message) => {
      if (level === 'warn' || level === 'error') io.stderr.write(`${level}: ${message}\n`);
    },
  });
  io.stdout.write(formatSummary(result.summary));
  return 0;
}
