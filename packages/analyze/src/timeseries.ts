import { readFile } from 'node:fs/promises';

import type { StageSummary, Tick, TickOp } from '@e3/model';

import type { Band, ChartSpec } from './charts.js';
import type { RunInfo } from './run-dir.js';

/** The time series file in analysis/: one row per thread, second and test (`*`: every test). */
export const TIMESERIES_FILE = 'timeseries.csv';

/** One second of one thread (every worker), from the agents' ticks. Durations in ms; null when nothing ended. */
export interface SeriesPoint {
  /** End of the second, epoch ms. */
  t: number;
  stage: number;
  /** Passes (transactions; a test without transactions: its requests) that ended in the second. */
  completions: number;
  errors: number;
  /** Percentiles of the second: each worker's, weighted by its count (exact with one worker). */
  p50: number | null;
  p95: number | null;
  /** Null when the agent did not record it (ticks older than p99). */
  p99: number | null;
  max: number | null;
  /** Operations in flight at the end of the second, every worker. */
  active: number;
  /** Open model: arrivals due in the second. */
  arrivals?: number;
}

export interface ThreadSeries {
  thread: number;
  name: string;
  dir: string;
  /** Stage windows (epoch ms). */
  stages: Array<{ index: number; key: string; start: number; end: number }>;
  overall: SeriesPoint[];
  /** Per test (workload job description). */
  tests: Record<string, SeriesPoint[]>;
}

interface Acc {
  t: number;
  stage: number;
  count: number;
  errors: number;
  w50: number;
  w95: number;
  w99: number;
  n99: number;
  max: number;
  active: number;
  arrivals?: number;
}

const newAcc = (t: number, stage: number): Acc => ({ t, stage, count: 0, errors: 0, w50: 0, w95: 0, w99: 0, n99: 0, max: 0, active: 0 });

function addOp(a: Acc, op: TickOp & { p99?: number }): void {
  a.count += op.count;
  a.errors += op.errors;
  a.w50 += op.p50 * op.count;
  a.w95 += op.p95 * op.count;
  if (op.p99 !== undefined) {
    a.w99 += op.p99 * op.count;
    a.n99 += op.count;
  }
  if (op.max > a.max) a.max = op.max;
}

const r3 = (n: number) => Math.round(n * 1000) / 1000;

function point(a: Acc): SeriesPoint {
  const has = a.count > 0;
  return {
    t: a.t, stage: a.stage, completions: a.count, errors: a.errors,
    p50: has ? r3(a.w50 / a.count) : null, p95: has ? r3(a.w95 / a.count) : null,
    p99: a.n99 > 0 && a.n99 === a.count ? r3(a.w99 / a.n99) : null, max: has ? a.max : null,
    active: a.active, ...(a.arrivals !== undefined ? { arrivals: a.arrivals } : {}),
  };
}

async function readTicks(file: string): Promise<Tick[]> {
  try {
    const s = JSON.parse(await readFile(file, 'utf8')) as Partial<StageSummary>;
    return Array.isArray(s.ticks) ? s.ticks : [];
  } catch {
    return [];
  }
}

/** The ops that count as a test's completions: its transactions, or its requests when it records none. */
function countedOps(ticks: Tick[]): (op: TickOp) => boolean {
  const withTx = new Set<string>();
  for (const tick of ticks) for (const op of tick.ops) if (op.kind === 'transaction') withTx.add(op.test);
  return (op) => (withTx.has(op.test) ? op.kind === 'transaction' : op.kind === 'request');
}

/** Per-second series of every thread over the whole run, from each worker's stage summary.json ticks. */
export async function readTimeSeries(info: RunInfo): Promise<ThreadSeries[]> {
  const out: ThreadSeries[] = [];
  for (const thread of info.threads) {
    const ticks: Array<{ stage: number; tick: Tick }> = [];
    for (const stage of thread.stages) {
      for (const f of stage.sampleFiles) {
        for (const tick of await readTicks(info.paths.stageSummaryFile(thread.index, f.worker, stage.index))) ticks.push({ stage: stage.index, tick });
      }
    }
    const counted = countedOps(ticks.map((x) => x.tick));
    const overall = new Map<string, Acc>();
    const tests = new Map<string, Map<string, Acc>>();
    const accOf = (m: Map<string, Acc>, stage: number, t: number) => {
      const key = `${stage}:${t}`;
      let a = m.get(key);
      if (!a) m.set(key, (a = newAcc(t, stage)));
      return a;
    };
    for (const { stage, tick } of ticks) {
      const t = Math.round(tick.t / 1000) * 1000;
      const all = accOf(overall, stage, t);
      all.active += tick.active;
      if (tick.arrivals !== undefined) all.arrivals = (all.arrivals ?? 0) + tick.arrivals;
      for (const op of tick.ops) {
        if (!counted(op)) continue;
        addOp(all, op);
        if (!tests.has(op.test)) tests.set(op.test, new Map());
        addOp(accOf(tests.get(op.test)!, stage, t), op);
      }
    }
    const sorted = (m: Map<string, Acc>) => [...m.values()].sort((a, b) => a.t - b.t || a.stage - b.stage).map(point);
    out.push({
      thread: thread.index, name: thread.name, dir: thread.dir,
      stages: thread.stages.flatMap((s) => (s.start !== undefined && s.end !== undefined ? [{ index: s.index, key: s.key, start: s.start, end: s.end }] : [])),
      overall: sorted(overall),
      tests: Object.fromEntries([...tests.keys()].sort().map((k) => [k, sorted(tests.get(k)!)])),
    });
  }
  return out;
}

const csvCell = (v: string | number | null | undefined): string => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** timeseries.csv: thread, stage, test (`*` every test), second end (ISO and epoch ms), then the measures. */
export function timeSeriesCsv(series: ThreadSeries[]): string {
  const lines = ['thread,stage,test,time,epoch_ms,completions,errors,p50_ms,p95_ms,p99_ms,max_ms,active,arrivals'];
  for (const s of series) {
    const rows = (test: string, points: SeriesPoint[]) => {
      for (const p of points) {
        const active = test === '*' ? p.active : '';
        lines.push([s.name, p.stage, test, new Date(p.t).toISOString(), p.t, p.completions, p.errors, p.p50, p.p95, p.p99, p.max, active, test === '*' ? p.arrivals : ''].map(csvCell).join(','));
      }
    };
    rows('*', s.overall);
    for (const [test, points] of Object.entries(s.tests)) rows(test, points);
  }
  return lines.join('\n') + '\n';
}

const LINE = { pointRadius: 0, borderWidth: 1.5, fill: false, spanGaps: false };

/** Two charts per thread over the whole run, stage windows shaded: rates (and active clients), and percentiles. */
export function timeSeriesCharts(series: ThreadSeries[]): ChartSpec[] {
  const charts: ChartSpec[] = [];
  for (const s of series) {
    if (!s.overall.length) continue;
    const origin = Math.min(...s.stages.map((x) => x.start), s.overall[0]!.t - 1000);
    const x = (t: number) => r3((t - origin) / 1000);
    const bands: Band[] = s.stages.map((st) => ({ from: x(st.start), to: x(st.end), label: st.key }));
    const xAxis = { type: 'linear', min: 0, title: { display: true, text: 'Seconds since the first stage started' } };
    const open = s.overall.some((p) => p.arrivals !== undefined);
    const rateSets = [
      { label: 'completions/s', data: s.overall.map((p) => ({ x: x(p.t), y: p.completions })), borderColor: '#1f77b4', backgroundColor: '#1f77b4', ...LINE },
      { label: 'errors/s', data: s.overall.map((p) => ({ x: x(p.t), y: p.errors })), borderColor: '#d62728', backgroundColor: '#d62728', ...LINE },
      open
        ? { label: 'arrivals/s', data: s.overall.map((p) => ({ x: x(p.t), y: p.arrivals ?? 0 })), borderColor: '#7f7f7f', backgroundColor: '#7f7f7f', borderDash: [4, 3], ...LINE }
        : { label: 'active clients (in flight)', data: s.overall.map((p) => ({ x: x(p.t), y: p.active })), borderColor: '#7f7f7f', backgroundColor: '#7f7f7f', borderDash: [4, 3], ...LINE },
    ];
    const pct = (key: 'p50' | 'p95' | 'p99', colour: string) => ({
      label: `${key} ms`, data: s.overall.filter((p) => p[key] !== null).map((p) => ({ x: x(p.t), y: p[key] })), borderColor: colour, backgroundColor: colour, ...LINE,
    });
    const pctSets = [pct('p50', '#2ca02c'), pct('p95', '#ff7f0e'), pct('p99', '#9467bd')].filter((d) => d.data.length);
    const chart = (file: string, title: string, y: string, datasets: Array<Record<string, unknown>>): ChartSpec => ({
      file, group: 'timeseries', title, width: 1200, height: 320, thread: s.thread,
      config: {
        type: 'line', data: { datasets },
        options: {
          animation: false, responsive: false, parsing: true,
          scales: { x: xAxis, y: { type: 'linear', beginAtZero: true, title: { display: true, text: y } } },
          plugins: { title: { display: true, text: title, font: { size: 14 } }, legend: { position: 'bottom' }, e3Bands: { bands } },
        },
      },
    });
    charts.push(chart(`timeseries-${s.dir}-rates.png`, `${s.name}: completions, errors and ${open ? 'arrivals' : 'active clients'} per second`, 'per second', rateSets));
    if (pctSets.length) charts.push(chart(`timeseries-${s.dir}-latency.png`, `${s.name}: response time percentiles per second (every test)`, 'ms', pctSets));
  }
  return charts;
}
