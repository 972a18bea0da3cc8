import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import {
  ANALYSIS_REPORT_FILE,
  ANALYSIS_SUMMARY_FILE,
  E3_VERSION,
  E3Error,
  EXIT,
  RUN_DIR_FORMAT_VERSION,
  loadFile,
  requirePhase,
  stageKey,
  withPhase,
  writeFileAtomic,
  writeJsonAtomic,
  type AnalysisSummary,
} from '@e3/model';
import { COMMAND_HELP, defineCommand } from '@e3/model/cli';

import { aggregateRun, type Aggregation } from './aggregate.js';
import { verdictLines } from './answer.js';
import { formatNumber, formatPercent, formatTps } from './format.js';
import { junitXml } from './junit.js';
import { buildCharts, type ChartSpec } from './charts.js';
import { readNodeMetrics, type NodeMetrics } from './metrics.js';
import { generatorBound, metricsSummary } from './vitals.js';
import { renderCharts } from './render-png.js';
import { renderReport } from './report.js';
import { readRun, resolveRunDir, type RunInfo } from './run-dir.js';
import { readTimeSeries, TIMESERIES_FILE, timeSeriesCharts, timeSeriesCsv, type ThreadSeries } from './timeseries.js';
import { arrivals, buildTable, evaluateThresholds, rowOf, stageCounts, threadTps, type Table } from './summary.js';
import { accountingNote, checkSampleFiles } from './trust.js';

export interface AnalyzeOptions {
  /** Run name (in e3-home/runs) or path of a run folder. */
  run: string;
  home?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Analyse even though the run failed or is still running. */
  force?: boolean;
  /** Open report.html in the desktop's viewer when done (default false). */
  open?: boolean;
  /** Render PNG charts (default true). */
  charts?: boolean;
  /** Write report.html (default true). */
  report?: boolean;
  /** Worker threads for the aggregation (default: by CPU count for runs over 64 MB of samples; 0: in process). */
  workers?: number;
  signal?: AbortSignal;
  /** Progress for people. */
  log?: (message: string) => void;
  /** Machine-readable progress: samples aggregated so far, after each stage. */
  onProgress?: (event: { samples: number; total: number }) => void;
}

export interface AnalyzeResult {
  run: string;
  runDir: string;
  analysisDir: string;
  summaryFile: string;
  reportFile?: string;
  /** PNG files written (absolute paths). */
  charts: string[];
  summary: AnalysisSummary;
  /** 0, or 5 when a threshold failed. */
  exitCode: number;
  timings: Record<string, number>;
}

/** Everything computed from a run, before it is written: used by analyze and the report. */
export interface Analysis {
  info: RunInfo;
  agg: Aggregation;
  table: Table;
  summary: AnalysisSummary;
  metrics: NodeMetrics[];
  charts: ChartSpec[];
  /** Per-second series of every thread, from the samples (active clients and arrivals from the agents' ticks). */
  series: ThreadSeries[];
}

function buildSummary(info: RunInfo, agg: Aggregation, table: Table): AnalysisSummary {
  const verdict = evaluateThresholds(info, table);
  const threads = info.threads.map((t) => ({
    index: t.index,
    name: t.name,
    dir: t.dir,
    nodes: t.nodes,
    stages: t.stages.map((s) => stageSummary(info, agg, table, t.index, s)),
  }));
  for (const t of threads) Object.assign(t, glance(t.stages, (stage) => testLevelErrorRate(table, t.index, stage)));
  const complete = info.threads.every((t) => t.stages.every((s) => s.status === 'succeeded' && s.notes.length === 0));
  return {
    formatVersion: RUN_DIR_FORMAT_VERSION,
    run: info.run,
    ...(info.runFile.experiment !== undefined ? { experiment: info.runFile.experiment } : {}),
    ...(info.runFile.description !== undefined ? { description: info.runFile.description } : {}),
    generatedAt: new Date().toISOString(),
    version: E3_VERSION,
    complete,
    samples: agg.total,
    threads,
    rows: table.cells.map((c) => rowOf(info, c)),
    errors: agg.errors.slice(0, 200),
    verdict,
    charts: [],
    warnings: [...info.warnings, ...agg.warnings],
  };
}

type StageOut = AnalysisSummary['threads'][number]['stages'][number];

/** One stage of summary.json: window, throughput, drain, cut, open-model accounting and trust. */
function stageSummary(info: RunInfo, agg: Aggregation, table: Table, thread: number, s: RunInfo['threads'][number]['stages'][number]): StageOut {
  const counts = stageCounts(table, thread, s.index);
  const a = arrivals(s);
  if (a && s.status !== 'missing') {
    const tx = table.cells.filter((c) => c.thread === thread && c.stage === s.index && c.kind === 'transaction' && c.op !== '*');
    const note = accountingNote(s, a, tx.reduce((n, c) => n + c.count, 0), tx.reduce((n, c) => n + c.cut, 0));
    if (note && !s.notes.includes(note)) s.notes.push(note);
  }
  return {
    index: s.index,
    key: s.key,
    status: s.status,
    ...(s.workload !== undefined ? { workload: s.workload } : {}),
    ...(s.clients !== undefined ? { clients: s.clients } : {}),
    ...(s.rate !== undefined ? { rate: s.rate } : {}),
    load: s.load,
    ...(s.start !== undefined ? { start: s.start } : {}),
    ...(s.end !== undefined ? { end: s.end } : {}),
    windowMs: s.windowMs,
    loadWindow: s.loadWindow,
    ...(s.drainEnd !== undefined ? { drainEnd: s.drainEnd } : {}),
    samples: agg.samples[thread]?.[s.index] ?? 0,
    tps: threadTps(info, table, thread, s.index),
    drainCount: s.loadWindow ? counts.drain : null,
    completed: counts.completed,
    cut: counts.cut,
    ...(a ?? {}),
    complete: s.status === 'succeeded' && s.notes.length === 0,
    notes: s.notes,
  };
}

function testLevelErrorRate(table: Table, thread: number, stage: number): number {
  let n = 0;
  let e = 0;
  for (const test of table.tests) {
    const c = table.testLevel(thread, stage, test);
    if (c) {
      n += c.count;
      e += c.errors;
    }
  }
  return n ? e / n : 0;
}

/**
 * The answer at a glance: the stage of highest throughput, and the first stage where the thread broke —
 * throughput fell, throughput per unit of load dropped below 70 % of the first stage's, or more than 5 %
 * of test-level samples failed.
 */
export function glance(
  stages: Array<{ index: number; load: number | null; tps: number | null; status: string }>,
  errorRate: (stage: number) => number,
): { peak?: { stage: number; load: number | null; tps: number }; breaksAt?: { stage: number; load: number | null; reason: string } } {
  const ran = stages.filter((s) => s.status !== 'missing' && s.tps !== null);
  if (!ran.length) return {};
  const best = ran.reduce((a, b) => (b.tps! > a.tps! ? b : a));
  const out: ReturnType<typeof glance> = { peak: { stage: best.index, load: best.load, tps: best.tps! } };
  const first = ran[0]!;
  const perLoad = first.load ? first.tps! / first.load : undefined;
  for (let i = 0; i < ran.length; i++) {
    const s = ran[i]!;
    const err = errorRate(s.index);
    let reason: string | undefined;
    if (err > 0.05) reason = `${formatPercent(err)} of samples failed`;
    else if (i > 0 && s.tps! < ran[i - 1]!.tps!) reason = `throughput fell from ${formatTps(ran[i - 1]!.tps)} to ${formatTps(s.tps)} TPS`;
    else if (i > 0 && perLoad && s.load && s.tps! / s.load < 0.7 * perLoad) {
      reason = `throughput per unit of load fell to ${formatNumber(((s.tps! / s.load) / perLoad) * 100, 0)} % of stage ${stageKey(first.index)}'s`;
    }
    if (reason) {
      out.breaksAt = { stage: s.index, load: s.load, reason };
      break;
    }
  }
  return out;
}

/**
 * Computes the analysis of a run folder without writing anything: one streaming pass over the samples,
 * the summary and verdict, node metrics and the chart specifications.
 */
export async function computeAnalysis(
  runDir: string,
  options: { signal?: AbortSignal; timings?: Record<string, number>; workers?: number; onProgress?: AnalyzeOptions['onProgress'] } = {},
): Promise<Analysis> {
  const timings = options.timings ?? {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - t);
    t = now;
  };
  const info = await readRun(runDir);
  const agg = await aggregateRun(info, {
    signal: options.signal,
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.onProgress ? { onProgress: (e: { samples: number; total: number }) => options.onProgress!({ samples: e.samples, total: e.total }) } : {}),
  });
  await checkSampleFiles(info, agg);
  lap('aggregate');
  const table = buildTable(agg);
  const summary = buildSummary(info, agg, table);
  lap('summary');
  const metrics = await readNodeMetrics(info, { warnings: summary.warnings });
  summary.metrics = await metricsSummary(info, metrics);
  summary.generatorBound = generatorBound(info);
  lap('metrics');
  const series = await readTimeSeries(info, agg);
  const charts = [...buildCharts({ info, agg, table, summary, metrics }), ...timeSeriesCharts(series)];
  return { info, agg, table, summary, metrics, charts, series };
}

/**
 * Analyses a run: reads `<run>.json`, `thread-*\/stages.json` and every `samples.csv` and collectd file,
 * writes `analysis/*.png`, `analysis/summary.json`, `analysis/report.html` and then `phases/analyze.json`.
 * Returns exit code 5 in the result (not an error) when a threshold failed.
 * Throws E3_RUN_NOT_FOUND, E3_PHASE_NOT_READY (no stages.json), E3_INVALID_FILE, E3_SAMPLES_FORMAT,
 * E3_RUN_DIR_INCOMPATIBLE, E3_IO and E3_INTERRUPTED. Refuses a run that failed or is still running
 * (E3_PHASE_NOT_READY) unless `force`; a run dir without a run status (E³'s) is analysed.
 */
export async function analyze(options: AnalyzeOptions): Promise<AnalyzeResult> {
  const runDir = resolveRunDir(options.run, options);
  await requirePhase(runDir, 'run', { next: 'analyze', allowMissing: true, force: options.force });
  const timings: Record<string, number> = {};
  const run = runDir.split(/[\\/]/).filter(Boolean).pop()!;
  return withPhase(runDir, 'analyze', async () => {
    options.log?.(`analysing ${runDir}`);
    const a = await computeAnalysis(runDir, {
      signal: options.signal,
      timings,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const analysisDir = a.info.paths.analysisDir;
    options.log?.(`aggregated ${a.summary.samples} samples in ${((timings.aggregate ?? 0) / 1000).toFixed(1)} s`);
    await mkdir(analysisDir, { recursive: true });
    await removeStaleCharts(analysisDir, new Set(a.charts.map((c) => c.file)));
    let t = performance.now();
    let charts: string[] = [];
    if (options.charts !== false) {
      charts = await renderCharts(a.charts, analysisDir, { signal: options.signal, ...(options.workers !== undefined ? { workers: options.workers } : {}) });
      a.summary.charts = a.charts.map((c) => c.file);
      options.log?.(`rendered ${charts.length} charts in ${(((performance.now() - t) / 1000)).toFixed(1)} s`);
    }
    timings.charts = Math.round(performance.now() - t);
    t = performance.now();
    const summaryFile = join(analysisDir, ANALYSIS_SUMMARY_FILE);
    await writeJsonAtomic(summaryFile, a.summary);
    await writeFileAtomic(join(analysisDir, TIMESERIES_FILE), timeSeriesCsv(a.series));
    let reportFile: string | undefined;
    if (options.report !== false) {
      reportFile = join(analysisDir, ANALYSIS_REPORT_FILE);
      await writeFileAtomic(reportFile, renderReport(a, { pngs: options.charts !== false }));
    }
    timings.report = Math.round(performance.now() - t);
    if (options.open && reportFile) openViewer(reportFile, options.env);
    return {
      run, runDir, analysisDir, summaryFile, ...(reportFile ? { reportFile } : {}), charts, summary: a.summary,
      exitCode: a.summary.verdict.passed ? EXIT.ok : EXIT.thresholds, timings,
    };
  }, { signal: options.signal });
}

/** Removes the PNGs a previous analysis listed in its summary.json that this one does not write. */
async function removeStaleCharts(dir: string, keep: Set<string>): Promise<void> {
  let previous: string[];
  try {
    previous = (await loadFile<AnalysisSummary>('analysis-summary', join(dir, ANALYSIS_SUMMARY_FILE))).charts;
  } catch {
    return;
  }
  if (!Array.isArray(previous)) return;
  for (const f of previous) {
    if (typeof f === 'string' && /^[\w.-]+\.png$/.test(f) && !keep.has(f)) await rm(join(dir, f), { force: true });
  }
}

function openViewer(file: string, env: NodeJS.ProcessEnv = process.env): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(cmd, [file], { detached: true, stdio: 'ignore', env });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    /* no viewer: the path is printed anyway */
  }
}

/** The text `e3 analyze` prints: where the files are, a stage table and the verdict. */
export function formatAnalyzeResult(r: AnalyzeResult): string {
  const s = r.summary;
  const lines: string[] = [`${s.run}: ${s.samples} samples${s.complete ? '' : ' (partial run)'}`];
  for (const t of s.threads) {
    const peak = t.peak ? `: peak ${formatTps(t.peak.tps)} TPS at load ${t.peak.load ?? '?'}` : '';
    const breaks = t.breaksAt ? `; breaks at stage ${stageKey(t.breaksAt.stage)} (load ${t.breaksAt.load ?? '?'}): ${t.breaksAt.reason}` : t.peak ? '; did not break' : '';
    lines.push(`  ${t.name} (${t.dir})${peak}${breaks}`);
    for (const st of t.stages) {
      const errors = s.rows.filter((row) => row.thread === t.index && row.stage === st.index && (row.kind === 'transaction' || row.op === '*'));
      const errCount = errors.reduce((a, b) => a + b.errors, 0);
      const n = errors.reduce((a, b) => a + b.count, 0);
      lines.push(
        `    stage ${st.key}  load ${st.load ?? '?'}  ${st.status.padEnd(9)} ${formatTps(st.tps).padStart(6)} TPS` +
          `${st.drainCount ? `  +${st.drainCount} in drain` : ''}${st.cut ? `  cut ${st.cut}` : ''}${st.scheduled !== undefined ? `  dropped ${st.dropped ?? 0}/${st.scheduled}` : ''}` +
          `${n ? `  errors ${formatPercent(errCount / n)}` : ''}${st.notes.length && st.status !== 'missing' ? `  (${st.notes.join('; ')})` : ''}`,
      );
    }
  }
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  lines.push(...verdictLines(s.verdict));
  lines.push(`report: ${r.reportFile ?? '(not written)'}`, `summary: ${r.summaryFile}`);
  return lines.join('\n');
}

export interface AnalyzeArgs {
  run: string;
  open: boolean;
  force: boolean;
  junit?: string;
}

/** `e3 analyze -r <run> [--open] [--json]`: exit 0, or 5 when a threshold failed. */
export const analyzeCommand = defineCommand<AnalyzeArgs>({
  name: 'analyze',
  description: COMMAND_HELP.analyze,
  options: {
    run: { type: 'string', alias: 'r', required: true, description: 'Run name (in e3-home/runs or archive), or the path of a run folder' },
    force: { type: 'boolean', default: false, description: 'Analyse even though the run failed or is still running' },
    open: { type: 'boolean', default: false, description: 'Open report.html when done (--no-open, the default, launches nothing)' },
    junit: { type: 'string', description: 'Also write the thresholds verdict as JUnit XML to this file (one test case per check; failed checks are failures)' },
  },
  examples: [
    ['e3 analyze -r demo-20261125T093000Z', 'analyse a run; prints the verdict and where report.html is'],
    ['e3 analyze -r runs/demo-20261125T093000Z --json', 'the summary as JSON'],
    ['e3 analyze -r demo-20261125T093000Z --junit e3-verdict.xml', 'the verdict for CI as JUnit XML'],
  ],
  async run(args, ctx) {
    if (!args.run) throw new E3Error('USAGE', 'missing --run', { hint: 'Pass the run: `e3 analyze -r <run>` (see `e3 list runs`)' });
    const r = await analyze({
      run: args.run, home: args.home, cwd: ctx.cwd, env: ctx.env, open: args.open, force: args.force, signal: ctx.signal, log: ctx.log,
      onProgress: (e) => ctx.event({ event: 'analyze.progress', ...e }),
    });
    if (args.junit) await writeFileAtomic(resolve(ctx.cwd, args.junit), junitXml(r.summary));
    return { text: formatAnalyzeResult(r), data: r.summary, exitCode: r.exitCode };
  },
});
