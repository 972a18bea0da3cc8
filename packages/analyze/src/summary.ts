import { stageKey, type AnalysisSummary, type SummaryRow, type Threshold } from '@e3/model';

import { mergeCells, percentile, windowCount, type Aggregation, type Cell } from './aggregate.js';
import { formatMs, formatPercent, formatTps, roundFraction, roundMs, roundTps } from './format.js';
import type { RunInfo } from './run-dir.js';

/** Cells plus the derived test-level cells, indexed for lookups. */
export interface Table {
  cells: Cell[];
  /** The test level per thread/stage/test: its transactions, else its requests (merged as op "*" when a test has several ops). */
  testLevel(thread: number, stage: number, test: string): Cell | undefined;
  /** Tests seen, in first-seen order. */
  tests: string[];
  find(thread: number, stage: number, test: string, op: string, kind?: Cell['kind']): Cell | undefined;
}

const k = (...parts: Array<string | number>) => parts.join('\u0000');

/** Adds the test-level cells and returns lookups over all cells. */
export function buildTable(agg: Aggregation): Table {
  const groups = new Map<string, Cell[]>();
  const tests: string[] = [];
  for (const c of agg.cells) {
    if (!tests.includes(c.test)) tests.push(c.test);
    const key = k(c.thread, c.stage, c.test);
    const g = groups.get(key);
    if (g) g.push(c);
    else groups.set(key, [c]);
  }
  const cells = [...agg.cells];
  const level = new Map<string, Cell>();
  for (const [key, group] of groups) {
    const tx = group.filter((c) => c.kind === 'transaction');
    const req = group.filter((c) => c.kind === 'request');
    const use = tx.length ? tx : req;
    if (use.length === 1) level.set(key, use[0]!);
    else {
      const merged = mergeCells(use, '*');
      cells.push(merged);
      level.set(key, merged);
    }
  }
  const index = new Map<string, Cell>();
  for (const c of cells) index.set(k(c.thread, c.stage, c.test, c.op, c.kind), c);
  cells.sort((a, b) => a.thread - b.thread || a.stage - b.stage || tests.indexOf(a.test) - tests.indexOf(b.test) || (a.kind === b.kind ? 0 : a.kind === 'transaction' ? -1 : 1) || (a.op === '*' ? -1 : b.op === '*' ? 1 : a.op.localeCompare(b.op)));
  return {
    cells,
    tests,
    testLevel: (t, s, test) => level.get(k(t, s, test)),
    find: (t, s, test, op, kind) => (kind ? index.get(k(t, s, test, op, kind)) : index.get(k(t, s, test, op, 'request')) ?? index.get(k(t, s, test, op, 'transaction'))),
  };
}

export function rowOf(info: RunInfo, c: Cell): SummaryRow {
  const stage = info.threads[c.thread]!.stages[c.stage]!;
  // HDR reports the top of a value's bucket, which can lie just above the largest duration: never beyond min and max.
  const pct = (p: number) => (c.count ? roundMs(Math.min(c.max, Math.max(c.min, percentile(c, p)))) : 0);
  return {
    thread: c.thread,
    threadName: info.threads[c.thread]!.name,
    stage: c.stage,
    test: c.test,
    op: c.op,
    kind: c.kind,
    count: c.count,
    errors: c.errors,
    errorRate: c.count ? roundFraction(c.errors / c.count) : 0,
    cut: c.cut,
    drainCount: stage.loadWindow ? c.drain : null,
    tps: stage.windowMs ? roundTps(windowCount(c) / (stage.windowMs / 1000)) : null,
    mean: c.count ? roundMs(c.sum / c.count) : 0,
    min: c.count ? roundMs(c.min) : 0,
    p50: pct(50),
    p90: pct(90),
    p95: pct(95),
    p99: pct(99),
    max: c.count ? roundMs(c.max) : 0,
    bytes: c.bytes,
  };
}

/** A stage's test-level counts: per test its test level (transactions when recorded), summed over tests. */
export function stageCounts(table: Table, thread: number, stage: number): { completed: number; drain: number; cut: number } {
  const out = { completed: 0, drain: 0, cut: 0 };
  for (const test of table.tests) {
    const c = table.testLevel(thread, stage, test);
    if (!c) continue;
    out.completed += c.count;
    out.drain += c.drain;
    out.cut += c.cut;
  }
  return out;
}

/** Thread throughput at a stage: test-level completions that ended in the load window, per second of it. */
export function threadTps(info: RunInfo, table: Table, thread: number, stage: number): number | null {
  const s = info.threads[thread]!.stages[stage]!;
  if (!s.windowMs || s.status === 'missing') return null;
  const c = stageCounts(table, thread, stage);
  return roundTps((c.completed - c.drain) / (s.windowMs / 1000));
}

type Check = AnalysisSummary['verdict']['checks'][number];
const METRICS = ['p95', 'p99', 'mean', 'errorRate', 'cutRate', 'droppedRate', 'minTps'] as const;
const RATES: ReadonlySet<string> = new Set(['errorRate', 'cutRate', 'droppedRate']);

/** The measured value of `metric` for a row; undefined when the metric does not apply (droppedRate of a closed-model stage). */
function actualOf(metric: (typeof METRICS)[number], row: SummaryRow, dropped: { scheduled: number; dropped: number } | undefined): number | null | undefined {
  if (metric === 'minTps') return row.tps;
  if (metric === 'droppedRate') return dropped === undefined ? undefined : dropped.scheduled ? dropped.dropped / dropped.scheduled : 0;
  if (metric === 'cutRate') return row.count + (row.cut ?? 0) ? (row.cut ?? 0) / (row.count + (row.cut ?? 0)) : null;
  return row.count === 0 ? null : row[metric];
}

/**
 * A stage's open-model arrivals: stages.json's sums (the run phase writes them), else the sum of the
 * agents' summary.json; undefined for a closed-model stage or when a worker's summary is missing.
 */
export function arrivals(stage: RunInfo['threads'][number]['stages'][number]): { scheduled: number; started: number; late: number; dropped: number } | undefined {
  const r = stage.record;
  if (r?.scheduled !== undefined && r.dropped !== undefined) return { scheduled: r.scheduled, started: r.started ?? 0, late: r.late ?? 0, dropped: r.dropped };
  if (stage.rate === undefined || !stage.agents.length || stage.agents.some((a) => !a.arrivals)) return undefined;
  if (stage.agents.length < stage.sampleFiles.length) return undefined;
  const sum = { scheduled: 0, started: 0, late: 0, dropped: 0 };
  for (const a of stage.agents) {
    sum.scheduled += a.arrivals!.scheduled;
    sum.started += a.arrivals!.started;
    sum.late += a.arrivals!.late;
    sum.dropped += a.arrivals!.dropped;
  }
  return sum;
}

/** All thresholds of the run: the experiment's first, then each thread's (scoped to that thread). */
export function runThresholds(info: RunInfo): Array<{ threshold: Threshold; threadIndex?: number }> {
  const out: Array<{ threshold: Threshold; threadIndex?: number }> = (info.runFile.thresholds ?? []).map((threshold) => ({ threshold: threshold as Threshold }));
  for (const t of info.threads) for (const threshold of t.thresholds) out.push({ threshold, threadIndex: t.index });
  return out;
}

const describeScope = (t: Threshold) =>
  [t.thread && `thread "${t.thread}"`, t.test && `test "${t.test}"`, t.op && `op "${t.op}"`, t.stage !== undefined && `stage ${stageKey(t.stage)}`].filter(Boolean).join(', ') || 'every test';

/** How a check reads: a pass as the rule it met (≤, ≥), a failure as what went wrong ("exceeds", "is below"). */
function checkWord(metric: string, passed: boolean): string {
  if (metric === 'minTps') return passed ? '≥' : 'is below';
  return passed ? '≤' : 'exceeds';
}

/**
 * Applies every threshold to every aggregate it matches (each test separately when `test` is absent;
 * the test level when `op` is absent). Missing stages are skipped; a threshold that matches nothing fails.
 */
export function evaluateThresholds(info: RunInfo, table: Table): AnalysisSummary['verdict'] {
  const all = runThresholds(info);
  const checks: Check[] = [];
  for (const [index, { threshold: th, threadIndex }] of all.entries()) {
    let matched = 0;
    for (const thread of info.threads) {
      if (threadIndex !== undefined && thread.index !== threadIndex) continue;
      if (th.thread !== undefined && th.thread !== thread.name) continue;
      for (const stage of thread.stages) {
        if (th.stage !== undefined && th.stage !== stage.index) continue;
        if (stage.status === 'missing') continue;
        for (const test of table.tests) {
          if (th.test !== undefined && th.test !== test) continue;
          const cell = th.op !== undefined ? table.find(thread.index, stage.index, test, th.op) : table.testLevel(thread.index, stage.index, test);
          if (!cell) continue;
          matched++;
          const row = rowOf(info, cell);
          for (const metric of METRICS) {
            const limit = th[metric];
            if (limit === undefined) continue;
            const actual = actualOf(metric, row, arrivals(stage));
            if (actual === undefined) continue;
            const passed = actual !== null && (metric === 'minTps' ? actual >= limit : actual <= limit);
            const what = `${thread.name} stage ${stageKey(stage.index)} ${test}${cell.op !== test && cell.op !== '*' ? ` / ${cell.op}` : ''} (${cell.kind})`;
            const shown = actual === null ? 'n/a' : RATES.has(metric) ? formatPercent(actual) : metric === 'minTps' ? `${formatTps(actual)} TPS` : `${formatMs(actual)} ms`;
            const lim = RATES.has(metric) ? formatPercent(limit) : `${limit}${metric === 'minTps' ? ' TPS' : ' ms'}`;
            checks.push({
              threshold: th, index, metric, limit, actual: actual === null ? null : RATES.has(metric) ? roundFraction(actual) : metric === 'minTps' ? roundTps(actual) : roundMs(actual), passed,
              thread: thread.name, stage: stage.index, test, op: cell.op, kind: cell.kind,
              message: `${passed ? 'ok' : 'FAILED'}: ${what}: ${metric} ${shown} ${checkWord(metric, passed)} ${lim}`,
            });
          }
        }
      }
    }
    if (matched === 0) {
      checks.push({
        threshold: th, index, metric: METRICS.find((m) => th[m] !== undefined) ?? 'p95', limit: NaN, actual: null, passed: false,
        thread: th.thread ?? '*', stage: th.stage ?? -1, test: th.test ?? '*', op: th.op ?? '*', kind: '*',
        message: `FAILED: threshold #${index + 1} (${describeScope(th)}) matched no samples`,
      });
    }
  }
  const failed = checks.filter((c) => !c.passed).map((c) => c.message);
  return { passed: failed.length === 0, thresholds: all.length, checks: checks.map((c) => (Number.isNaN(c.limit) ? { ...c, limit: 0 } : c)), failed };
}
