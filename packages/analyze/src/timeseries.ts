import { readFile } from 'node:fs/promises';

import type { StageSummary, Tick } from '@e3/model';

import type { Aggregation } from './aggregate.js';
import type { Band, ChartSpec } from './charts.js';
import { roundTo } from './format.js';
import type { RunInfo } from './run-dir.js';

/** The time series file in analysis/: one row per thread, second and test (`*`: every test). */
export const TIMESERIES_FILE = 'timeseries.csv';

/** One second of one thread (every worker). Durations in ms; null when nothing ended in the second. */
export interface SeriesPoint {
  /** End of the second, epoch ms: it holds the samples that ended in (t − 1000, t]. */
  t: number;
  stage: number;
  /** Passes (transactions; a test without transactions: its requests) that ended in the second, ok or failed, cut excluded. */
  completions: number;
  errors: number;
  /** Exact nearest-rank percentiles of the durations of those completions, over every worker's samples. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  /** Operations in flight at the end of the second, every worker's tick; null when no worker ticked that second. */
  active: number | null;
  /** Open model: arrivals due in the second (from the ticks). */
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

const r3 = (n: number) => roundTo(n, 3);

async function readTicks(file: string): Promise<Tick[]> {
  try {
    const s = JSON.parse(await readFile(file, 'utf8')) as Partial<StageSummary>;
    return Array.isArray(s.ticks) ? s.ticks : [];
  } catch {
    return [];
  }
}

/** Per second (end, epoch ms) of a thread-stage: active and arrivals summed over its workers' ticks. */
async function stageTicks(info: RunInfo, thread: number, stage: RunInfo['threads'][number]['stages'][number]): Promise<Map<number, { active: number; arrivals?: number }>> {
  const out = new Map<number, { active: number; arrivals?: number }>();
  for (const f of stage.sampleFiles) {
    for (const tick of await readTicks(info.paths.stageSummaryFile(thread, f.worker, stage.index))) {
      const t = Math.round(tick.t / 1000) * 1000;
      let a = out.get(t);
      if (!a) out.set(t, (a = { active: 0 }));
      a.active += tick.active;
      if (tick.arrivals !== undefined) a.arrivals = (a.arrivals ?? 0) + tick.arrivals;
    }
  }
  return out;
}

const noCompletions = (t: number): Omit<SeriesPoint, 'stage' | 'active'> => ({ t, completions: 0, errors: 0, p50: null, p95: null, p99: null, max: null });

/**
 * Per-second series of every thread over the whole run: completions, errors and percentiles from the
 * samples (`agg.series`, every worker, killed ones too); active clients and arrivals from the ticks in
 * each worker's stage summary.json. A second with ticks and no completions has zero completions.
 */
export async function readTimeSeries(info: RunInfo, agg: Pick<Aggregation, 'series'>): Promise<ThreadSeries[]> {
  const out: ThreadSeries[] = [];
  for (const thread of info.threads) {
    const overall: SeriesPoint[] = [];
    const tests = new Map<string, SeriesPoint[]>();
    for (const stage of thread.stages) {
      const ticks = await stageTicks(info, thread.index, stage);
      const series = agg.series[thread.index]?.[stage.index];
      const points = new Map((series?.overall ?? []).map((p) => [p.t, p]));
      for (const t of [...new Set([...points.keys(), ...ticks.keys()])].sort((a, b) => a - b)) {
        const tick = ticks.get(t);
        const p = points.get(t) ?? noCompletions(t);
        overall.push({ ...p, stage: stage.index, active: tick ? tick.active : null, ...(tick?.arrivals !== undefined ? { arrivals: tick.arrivals } : {}) });
      }
      for (const [test, ps] of Object.entries(series?.tests ?? {})) {
        if (!tests.has(test)) tests.set(test, []);
        tests.get(test)!.push(...ps.map((p): SeriesPoint => ({ ...p, stage: stage.index, active: null })));
      }
    }
    const sorted = (ps: SeriesPoint[]) => ps.sort((a, b) => a.t - b.t || a.stage - b.stage);
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
