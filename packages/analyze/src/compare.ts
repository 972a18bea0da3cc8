import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';

import {
  ANALYSIS_SUMMARY_FILE,
  COMPARE_JSON_FILE,
  COMPARE_REPORT_FILE,
  E3Error,
  EXIT,
  archivedRunDir,
  resolveHome,
  runFileName,
  writeFileAtomic,
  writeJsonAtomic,
  type AnalysisSummary,
  type SummaryRow,
} from '@e3/model';
import { COMMAND_HELP, defineCommand } from '@e3/model/cli';

import { aggregateRun } from './aggregate.js';
import { computeAnalysis } from './analyze.js';
import { formatCompare, renderCompareHtml } from './compare-render.js';
import { compareStats, type CommonShift, type Finding, type RunStats, type Tolerance } from './compare-stats.js';
import { readRun, resolveRunDir } from './run-dir.js';
import { reservoirValues } from './stats.js';

export { formatCompare } from './compare-render.js';
export type { CommonShift, Finding, RunStats, Tolerance } from './compare-stats.js';

export interface CompareOptions {
  /** Baseline run(s): names in e3-home/runs or e3-home/archive, or paths of run folders. */
  baseline: string | string[];
  /** Contender runs, replicates of one configuration: one comparison of all baselines with all of them. */
  contender?: string[];
  /** Old form: each run compared with the baseline separately; none (and no contender): the baseline's threads with its first thread. */
  runs?: string[];
  home?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Default tolerance of latency percentiles and throughput, relative (default 0.05 = 5 %). */
  noiseFloor?: number;
  /** Default tolerance of the error rate, absolute (default 0.01 = 1 point). */
  errorFloor?: number;
  /** Per-test tolerances, over the defaults (a --tolerance file and --test-tolerance flags). */
  tests?: Record<string, Partial<Tolerance>>;
  /** JSON file of tolerances: { noiseFloor?, errorFloor?, tests?: { <test>: number | { latency?, throughput?, errorRate? } } }. */
  toleranceFile?: string;
  /** One-sided significance level of every test (default 0.01). */
  alpha?: number;
  /** Durations kept per aggregate for sample-level tests (uniform reservoir, default 2000). */
  sampleSize?: number;
  /** Folder for compare.html and compare.json (default: the analysis folder of the first contender). */
  out?: string;
  /** Write compare.html and compare.json (default true). */
  write?: boolean;
  signal?: AbortSignal;
}

export interface Comparison {
  baseline: string[];
  contender: string[];
  /** Set when threads of one run are compared. */
  threads?: { baseline: string; contender: string };
  /** `runs`: judged against the run-to-run spread; `samples`: one run on a side, sample-level evidence only. */
  evidence: 'runs' | 'samples';
  statement: string;
  findings: Finding[];
  common: CommonShift[];
  unmatched: string[];
  regressions: number;
  improvements: number;
  insufficient: number;
}

export interface CompareResult {
  generatedAt: string;
  method: string;
  alpha: number;
  noiseFloor: number;
  errorFloor: number;
  tests: Record<string, Partial<Tolerance>>;
  comparisons: Comparison[];
  regressions: number;
  htmlFile?: string;
  jsonFile?: string;
}

/** The run folder for a name or path: e3-home/runs, a path, then e3-home/archive. Throws E3_RUN_NOT_FOUND. */
export function locateRun(run: string, o: { home?: string; cwd?: string; env?: NodeJS.ProcessEnv }): string {
  try {
    return resolveRunDir(run, o);
  } catch (err) {
    try {
      const dir = archivedRunDir(resolveHome({ home: o.home, cwd: o.cwd ?? process.cwd(), env: o.env }), run);
      if (existsSync(join(dir, runFileName(basename(dir))))) return dir;
    } catch {
      // no e3-home: the first error says what was tried
    }
    throw err;
  }
}

async function readSummary(file: string): Promise<AnalysisSummary | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let parsed: AnalysisSummary;
  try {
    parsed = JSON.parse(text) as AnalysisSummary;
  } catch (err) {
    throw new E3Error('JSON_PARSE', `${file}: ${(err as Error).message}`, { hint: 'Re-run `e3 analyze <run>` to rewrite it' });
  }
  if (!Array.isArray(parsed.threads) || !Array.isArray(parsed.rows)) {
    throw new E3Error('INVALID_FILE', `${file}: "threads" and "rows" must be arrays`, { hint: 'Re-run `e3 analyze <run>` to rewrite it' });
  }
  return parsed;
}

const cellKey = (thread: number, stage: number, test: string, op: string, kind: string) => [thread, stage, test, op, kind].join('\u0000');

/**
 * One run: its analysis/summary.json (computed in memory when the run was never analysed), and with
 * `samples` a reservoir of each aggregate's durations for sample-level tests.
 */
async function loadRun(ref: string, o: CompareOptions, samples: boolean): Promise<RunStats & { analysisDir: string }> {
  const runDir = locateRun(ref, o);
  const info = await readRun(runDir);
  const summary = (await readSummary(join(info.paths.analysisDir, ANALYSIS_SUMMARY_FILE))) ?? (await computeAnalysis(runDir, o.signal ? { signal: o.signal } : {})).summary;
  const out: RunStats & { analysisDir: string } = { run: info.run, summary, analysisDir: info.paths.analysisDir };
  if (!samples) return out;
  const agg = await aggregateRun(info, { visuals: false, series: false, keepValues: o.sampleSize ?? 2000, ...(o.signal ? { signal: o.signal } : {}) });
  const cells = new Map(agg.cells.map((c) => [cellKey(c.thread, c.stage, c.test, c.op, c.kind), c]));
  out.durations = (row: SummaryRow) => {
    const c = cells.get(cellKey(row.thread, row.stage, row.test, row.op, row.kind));
    if (c?.values) return reservoirValues(c.values);
    if (row.op !== '*') return undefined;
    const parts = agg.cells.filter((x) => x.thread === row.thread && x.stage === row.stage && x.test === row.test && x.kind === row.kind && x.values);
    return parts.length ? Float64Array.from(parts.flatMap((x) => [...reservoirValues(x.values!)])) : undefined;
  };
  return out;
}

/** A run seen as only one of its threads, renamed `as` (to compare threads of one run). */
function threadView(r: RunStats, index: number, as: string): RunStats {
  const t = r.summary.threads.find((x) => x.index === index)!;
  return {
    ...r,
    summary: { threads: [{ ...t, name: as }], rows: r.summary.rows.filter((x) => x.thread === index).map((x) => ({ ...x, threadName: as })) },
  };
}

const isFraction = (x: unknown, max: number): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x < max;

/** Reads a tolerance file. Throws E3_FILE_NOT_FOUND, E3_JSON_PARSE, E3_INVALID_FILE naming the field. */
export async function readToleranceFile(file: string): Promise<{ noiseFloor?: number; errorFloor?: number; tests: Record<string, Partial<Tolerance>> }> {
  const hint = 'A tolerance file is JSON: { "noiseFloor": 0.05, "errorFloor": 0.01, "tests": { "<test>": 0.1 | { "latency": 0.1, "throughput": 0.05, "errorRate": 0.02 } } } (docs/analyze.md#comparing-runs)';
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new E3Error('FILE_NOT_FOUND', `tolerance file ${file} does not exist`, { hint });
    throw new E3Error('JSON_PARSE', `${file}: ${(err as Error).message}`, { hint });
  }
  const bad = (field: string, why: string) => new E3Error('INVALID_FILE', `${file}: ${field} ${why}`, { hint });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('the top level', 'must be an object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['noiseFloor', 'errorFloor', 'tests'].includes(k)) throw bad(k, 'is not a field (noiseFloor, errorFloor, tests)');
  if (o.noiseFloor !== undefined && !isFraction(o.noiseFloor, 1)) throw bad('noiseFloor', 'must be a number in [0, 1)');
  if (o.errorFloor !== undefined && !isFraction(o.errorFloor, 1)) throw bad('errorFloor', 'must be a number in [0, 1)');
  const tests: Record<string, Partial<Tolerance>> = {};
  if (o.tests !== undefined) {
    if (typeof o.tests !== 'object' || o.tests === null || Array.isArray(o.tests)) throw bad('tests', 'must be an object of test names');
    for (const [test, v] of Object.entries(o.tests)) {
      if (isFraction(v, 1)) tests[test] = { latency: v, throughput: v };
      else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const t: Partial<Tolerance> = {};
        for (const [k, x] of Object.entries(v)) {
          if (!['latency', 'throughput', 'errorRate'].includes(k)) throw bad(`tests.${test}.${k}`, 'is not a field (latency, throughput, errorRate)');
          if (!isFraction(x, 1)) throw bad(`tests.${test}.${k}`, 'must be a number in [0, 1)');
          t[k as keyof Tolerance] = x;
        }
        tests[test] = t;
      } else throw bad(`tests.${test}`, 'must be a number in [0, 1) or an object');
    }
  }
  return { ...(o.noiseFloor !== undefined ? { noiseFloor: o.noiseFloor as number } : {}), ...(o.errorFloor !== undefined ? { errorFloor: o.errorFloor as number } : {}), tests };
}

const STATEMENT = {
  runs: (a: number, b: number) => `${a} baseline and ${b} contender runs: differences are judged against the run-to-run spread.`,
  samples: () =>
    'One run on a side: only sample-level evidence. Run-to-run variance is unknown, so a flagged difference may be noise of the environment; repeat runs (--baseline A1 A2 A3 --contender B1 B2 B3) to judge it.',
};

function comparison(A: RunStats[], B: RunStats[], o: { alpha: number; tolerance: (test: string | undefined) => Tolerance }, threads?: Comparison['threads']): Comparison {
  const s = compareStats(A, B, o);
  const count = (v: Finding['verdict']) => s.findings.filter((f) => f.verdict === v).length + s.common.filter((c) => c.verdict === v).length;
  return {
    baseline: A.map((r) => r.run),
    contender: B.map((r) => r.run),
    ...(threads ? { threads } : {}),
    evidence: s.evidence,
    statement: s.evidence === 'runs' ? STATEMENT.runs(A.length, B.length) : STATEMENT.samples(),
    findings: s.findings,
    common: s.common,
    unmatched: s.unmatched,
    regressions: count('regression'),
    improvements: count('improvement'),
    insufficient: count('insufficient data'),
  };
}

async function settings(options: CompareOptions) {
  const file = options.toleranceFile ? await readToleranceFile(resolve(options.cwd ?? process.cwd(), options.toleranceFile)) : { tests: {} };
  const noiseFloor = options.noiseFloor ?? file.noiseFloor ?? 0.05;
  const errorFloor = options.errorFloor ?? file.errorFloor ?? 0.01;
  const alpha = options.alpha ?? 0.01;
  if (!isFraction(noiseFloor, 1) || !isFraction(errorFloor, 1) || !(alpha > 0 && alpha < 0.5)) {
    throw new E3Error('USAGE', `--noise-floor and --error-floor must be in [0, 1) and --alpha in (0, 0.5); got ${noiseFloor}, ${errorFloor} and ${alpha}`, {
      hint: 'e.g. `e3 compare --baseline A1 A2 A3 --contender B1 B2 B3 --noise-floor 0.05 --alpha 0.01`',
    });
  }
  const tests = { ...file.tests, ...(options.tests ?? {}) };
  const tolerance = (test: string | undefined): Tolerance => ({ latency: noiseFloor, throughput: noiseFloor, errorRate: errorFloor, ...(test !== undefined ? tests[test] : {}) });
  return { noiseFloor, errorFloor, alpha, tests, tolerance };
}

/**
 * Compares baseline runs with contender runs (replicates), or each of `runs` with the baseline, or the
 * baseline's threads with its first thread: per thread, stage, test and op the throughput, error rate
 * and latency percentiles, per thread the peak and break point. A regression is a one-sided significant
 * change beyond its tolerance (docs/analyze.md#comparing-runs). Writes compare.html and compare.json.
 * Throws E3_RUN_NOT_FOUND, E3_PHASE_NOT_READY, E3_SAMPLES_FORMAT, E3_USAGE, E3_INVALID_FILE, E3_JSON_PARSE.
 */
export async function compare(options: CompareOptions): Promise<CompareResult> {
  const s = await settings(options);
  const baseRefs = Array.isArray(options.baseline) ? options.baseline : [options.baseline];
  if (!baseRefs.length) throw new E3Error('USAGE', 'no baseline run given', { hint: 'e3 compare --baseline A1 A2 A3 --contender B1 B2 B3' });
  if (options.contender?.length && options.runs?.length) {
    throw new E3Error('USAGE', 'give contender runs either with --contender or as positional runs, not both', { hint: 'e3 compare --baseline A1 A2 A3 --contender B1 B2 B3' });
  }
  const groups: string[][] = options.contender?.length ? [options.contender] : (options.runs ?? []).map((r) => [r]);
  const samples = baseRefs.length < 2 || groups.some((g) => g.length < 2);
  const cache = new Map<string, Promise<RunStats & { analysisDir: string }>>();
  const load = (ref: string) => {
    const dir = locateRun(ref, options);
    if (!cache.has(dir)) cache.set(dir, loadRun(dir, options, samples));
    return cache.get(dir)!;
  };
  const A = await Promise.all(baseRefs.map(load));
  const comparisons: Comparison[] = [];
  let outDir = options.out;
  if (!groups.length) {
    const threads = A[0]!.summary.threads;
    if (baseRefs.length > 1 || threads.length < 2) {
      throw new E3Error('USAGE', `${A[0]!.run} ${threads.length < 2 ? 'has one thread' : 'and its replicates have no contender'}; name runs to compare with it`, { hint: `e3 compare --baseline ${baseRefs.join(' ')} --contender <run>…` });
    }
    const first = threads[0]!;
    for (const t of threads.slice(1)) comparisons.push(comparison([threadView(A[0]!, first.index, first.name)], [threadView(A[0]!, t.index, first.name)], s, { baseline: first.name, contender: t.name }));
    outDir ??= A[0]!.analysisDir;
  }
  for (const g of groups) {
    const B = await Promise.all(g.map(load));
    outDir ??= B[0]!.analysisDir;
    comparisons.push(comparison(A, B, s));
  }
  const result: CompareResult = {
    generatedAt: new Date().toISOString(),
    method: method(s.alpha),
    alpha: s.alpha,
    noiseFloor: s.noiseFloor,
    errorFloor: s.errorFloor,
    tests: s.tests,
    comparisons,
    regressions: comparisons.reduce((n, c) => n + c.regressions, 0),
  };
  if (options.write !== false) {
    const dir = resolve(options.cwd ?? process.cwd(), outDir!);
    result.htmlFile = join(dir, COMPARE_REPORT_FILE);
    result.jsonFile = join(dir, COMPARE_JSON_FILE);
    await writeJsonAtomic(result.jsonFile, result);
    await writeFileAtomic(result.htmlFile, renderCompareHtml(result));
  }
  return result;
}

const method = (alpha: number) =>
  `one-sided tests at α = ${alpha} of "worse beyond tolerance" and "better beyond tolerance". With ≥ 2 runs a side: moderated t on the per-run log values ` +
  `(latency after removing each thread's common shift, itself tested against the run-to-run spread); with one run a side: Mann–Whitney on durations ` +
  `stretched by the tolerance (p50), bootstrap of the percentile ratio (p95, p99), Poisson counts (throughput). Error rates: Agresti–Caffo two-proportion test beyond the error floor. See docs/analyze.md#comparing-runs`;

export interface CompareArgs {
  runs?: string[];
  baseline?: string[];
  contender?: string[];
  noiseFloor?: number;
  errorFloor?: number;
  tolerance?: string;
  testTolerance?: string[];
  alpha: number;
  out?: string;
  failOnRegression: boolean;
}

/** `--test-tolerance clone=0.2` (latency and throughput) or `clone:errorRate=0.02`. Throws E3_USAGE. */
export function parseTestTolerances(flags: string[]): Record<string, Partial<Tolerance>> {
  const out: Record<string, Partial<Tolerance>> = {};
  for (const flag of flags) {
    const m = /^(.+?)(?::(latency|throughput|errorRate))?=([0-9.]+)$/.exec(flag);
    const v = m ? Number(m[3]) : NaN;
    if (!m || !isFraction(v, 1)) throw new E3Error('USAGE', `--test-tolerance ${flag}: expected <test>=<fraction> or <test>:<latency|throughput|errorRate>=<fraction>`, { hint: 'e.g. --test-tolerance "clone=0.2" --test-tolerance "push:errorRate=0.02"' });
    const t = (out[m[1]!] ??= {});
    if (m[2]) t[m[2] as keyof Tolerance] = v;
    else Object.assign(t, { latency: v, throughput: v });
  }
  return out;
}

/** `e3 compare`: exit 0, or 6 (EXIT.regression) with --fail-on-regression when a regression is flagged. */
export const compareCommand = defineCommand<CompareArgs>({
  name: 'compare [runs..]',
  description: COMMAND_HELP.compare,
  positionals: {
    runs: { description: 'Old form: <baseline> <run>… (each run against the baseline; only <baseline>: its threads against its first thread)', array: true },
  },
  options: {
    baseline: { type: 'array', description: 'Baseline runs (names in e3-home/runs or archive, or paths): replicates of one configuration' },
    contender: { type: 'array', description: 'Contender runs compared with all the baseline runs together' },
    'noise-floor': { type: 'number', description: 'Default tolerance of latency percentiles and throughput (default 0.05 = 5 %, or the tolerance file\'s)' },
    'error-floor': { type: 'number', description: 'Default tolerance of the error rate, in absolute terms (default 0.01 = 1 point, or the tolerance file\'s)' },
    tolerance: { type: 'string', description: 'JSON file of tolerances: { noiseFloor, errorFloor, tests: { <test>: 0.1 | { latency, throughput, errorRate } } }' },
    'test-tolerance': { type: 'array', description: 'Per-test tolerance: <test>=<fraction> or <test>:<latency|throughput|errorRate>=<fraction> (repeatable)' },
    alpha: { type: 'number', default: 0.01, description: 'One-sided significance level of every test' },
    out: { type: 'string', description: 'Folder for compare.html and compare.json (default: analysis/ of the first contender run)' },
    'fail-on-regression': { type: 'boolean', default: false, description: 'Exit 6 when a regression is flagged' },
  },
  examples: [
    ['e3 compare --baseline A1 A2 A3 --contender B1 B2 B3', 'replicates of each side, judged against the run-to-run spread'],
    ['e3 compare demo-20261125T093000Z demo-20261126T093000Z', 'one run against a baseline (sample-level evidence only)'],
    ['e3 compare demo-20261125T093000Z', 'the threads of one run against its first thread'],
    ['e3 compare --baseline A1 A2 A3 --contender B1 B2 B3 --tolerance tolerances.json --fail-on-regression', 'a CI gate: exit 6 on a regression'],
  ],
  async run(args, ctx) {
    const list = (xs: unknown[] | undefined) => (xs ?? []).filter((x) => x !== undefined && x !== null && x !== '').map(String);
    const positional = list(args.runs);
    const given = list(args.baseline);
    const contender = list(args.contender);
    const baseline = given.length ? given : positional.slice(0, 1);
    const runs = given.length ? positional : positional.slice(1);
    if (!baseline.length) throw new E3Error('USAGE', 'no baseline run given', { hint: 'e3 compare --baseline A1 A2 A3 --contender B1 B2 B3, or e3 compare <baseline> <run>' });
    const r = await compare({
      baseline, runs, ...(contender.length ? { contender } : {}),
      home: args.home, cwd: ctx.cwd, env: ctx.env, alpha: args.alpha,
      ...(args.noiseFloor !== undefined ? { noiseFloor: args.noiseFloor } : {}), ...(args.errorFloor !== undefined ? { errorFloor: args.errorFloor } : {}),
      ...(args.tolerance ? { toleranceFile: args.tolerance } : {}), tests: parseTestTolerances(list(args.testTolerance)),
      ...(args.out ? { out: args.out } : {}), signal: ctx.signal,
    });
    return { text: formatCompare(r), data: r, exitCode: args.failOnRegression && r.regressions ? EXIT.regression : EXIT.ok };
  },
});
