import type { AnalysisSummary } from '@e3/model';

import { windowCount, type Aggregation, type StageVisuals } from './aggregate.js';
import type { NodeMetrics } from './metrics.js';
import type { RunInfo } from './run-dir.js';
import { DIGITS, roundTo } from './format.js';
import { fitCurve, fitExponential, reservoirValues } from './stats.js';
import type { Table } from './summary.js';

/**
 * One chart: a Chart.js configuration made only of JSON data (no functions), so the same spec renders
 * to PNG in Node and interactively in report.html.
 */
export interface ChartSpec {
  /** PNG file name in analysis/. */
  file: string;
  group: 'throughput' | 'time' | 'breakdown' | 'gantt' | 'times' | 'metrics' | 'timeseries';
  title: string;
  width: number;
  height: number;
  thread?: number;
  stage?: number;
  node?: string;
  /** Chart.js configuration (type, data, options); plugin `e3Bands` draws stage windows and marks. */
  config: { type: string; data: { labels?: unknown[]; datasets: Array<Record<string, unknown>> }; options: Record<string, unknown> };
}

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79', '#637939', '#8c6d31'];
export const ERROR_COLOUR = '#d62728';
const colour = (i: number) => PALETTE[i % PALETTE.length]!;

/**
 * A test's colour in every chart of a run: fixed by its index in the run's tests sorted by name, so a test
 * keeps its colour from one stage's chart to the next even when the stages ran different tests.
 */
export function testColours(tests: readonly string[]): (test: string) => string {
  const sorted = [...new Set(tests)].sort();
  return (test) => {
    const i = sorted.indexOf(test);
    return i < 0 ? colour(sorted.length) : colour(i);
  };
}

const alpha = (hex: string, a: number) => `${hex}${Math.round(a * 255).toString(16).padStart(2, '0')}`;

export interface Band {
  from: number;
  to: number;
  label: string;
}

const r3 = (n: number) => roundTo(n, 3);

function baseOptions(title: string, x: string, y: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    animation: false,
    responsive: false,
    plugins: { title: { display: true, text: title, font: { size: 18 } }, legend: { position: 'bottom' } },
    scales: { x: { type: 'linear', title: { display: true, text: x } }, y: { type: 'linear', beginAtZero: true, title: { display: true, text: y } } },
    ...extra,
  };
}

/** Fewest measured points a series needs before its a + b·e^(cx) trend is drawn. */
export const MIN_FIT_POINTS = 4;

/**
 * A measured series, its points drawn and joined in load order, and from MIN_FIT_POINTS points its
 * a + b·e^(cx) trend over the loads measured (never extrapolated): faint, thin, dashed and behind the
 * points (Chart.js draws higher `order` first), labelled "<series> trend" with no formula.
 */
export function withFit(label: string, points: Array<[number, number]>, c: string, options: { dashed?: boolean; digits?: number } = {}): Array<Record<string, unknown>> {
  const dashed = options.dashed ?? false;
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  const out: Array<Record<string, unknown>> = [
    {
      type: 'line', label, data: sorted.map(([x, y]) => ({ x, y: roundTo(y, options.digits ?? 3) })), order: 1,
      backgroundColor: c, borderColor: c, borderWidth: 2, borderDash: dashed ? [6, 4] : [], pointRadius: 5, pointStyle: dashed ? 'triangle' : 'circle', showLine: true, fill: false,
    },
  ];
  const fit = sorted.length >= MIN_FIT_POINTS ? fitExponential(sorted) : undefined;
  if (fit) {
    out.push({
      type: 'line', label: `${label} trend`, order: 2,
      data: fitCurve(fit, sorted[0]![0], sorted[sorted.length - 1]![0], 60).map((p) => ({ x: r3(p.x), y: r3(p.y) })),
      borderColor: alpha(c, 0.35), backgroundColor: alpha(c, 0.35), pointRadius: 0, borderWidth: 1, borderDash: [3, 3], showLine: true, fill: false,
    });
  }
  return out;
}

const stageLabel = (s: { key: string; load: number | null }) => `${s.key} (load ${s.load ?? '?'})`;

/** Every chart of the E³ set for this run. */
export function buildCharts(input: { info: RunInfo; agg: Aggregation; table: Table; summary: AnalysisSummary; metrics: NodeMetrics[] }): ChartSpec[] {
  const { info, agg, table, summary } = input;
  const charts: ChartSpec[] = [];
  const testColour = testColours(table.tests);
  const ran = (t: number) => summary.threads[t]!.stages.filter((s) => s.status !== 'missing' && s.load !== null);

  // Throughput vs load per thread: measured points, and a trend from MIN_FIT_POINTS loads.
  charts.push({
    file: 'throughput.png', group: 'throughput', title: `Throughput in ${summary.experiment ?? summary.run}`, width: 1400, height: 700,
    config: {
      type: 'scatter',
      data: {
        datasets: summary.threads.flatMap((t) =>
          withFit(t.name, ran(t.index).filter((s) => s.tps !== null).map((s) => [s.load!, s.tps!] as [number, number]), colour(t.index), { digits: DIGITS.tps }),
        ),
      },
      options: baseOptions(`Throughput in ${summary.experiment ?? summary.run}`, 'Load (clients or arrivals/s)', 'TPS (per test: transactions, else requests)'),
    },
  });

  // Mean and p95 time vs load, per test.
  table.tests.forEach((test, ti) => {
    const datasets: Array<Record<string, unknown>> = [];
    summary.threads.forEach((t) => {
      const mean: Array<[number, number]> = [];
      const p95: Array<[number, number]> = [];
      for (const s of ran(t.index)) {
        const cell = table.testLevel(t.index, s.index, test);
        if (!cell || cell.count === 0) continue;
        const row = summary.rows.find((r) => r.thread === t.index && r.stage === s.index && r.test === test && r.op === cell.op && r.kind === cell.kind)!;
        mean.push([s.load!, row.mean]);
        p95.push([s.load!, row.p95]);
      }
      datasets.push(...withFit(`${t.name} mean`, mean, colour(t.index)), ...withFit(`${t.name} p95`, p95, colour(t.index), { dashed: true }));
    });
    const title = `${test}: mean and p95 time`;
    charts.push({
      file: `time-${String(ti + 1).padStart(3, '0')}.png`, group: 'time', title, width: 1400, height: 700,
      config: { type: 'scatter', data: { datasets }, options: baseOptions(title, 'Load (clients or arrivals/s)', 'Time (ms)') },
    });
  });

  // Stacked throughput breakdown per thread.
  for (const t of summary.threads) {
    const stages = t.stages.filter((s) => s.status !== 'missing');
    const title = `Throughput breakdown in ${summary.experiment ?? summary.run} (${t.name})`;
    charts.push({
      file: `breakdown-${t.dir}.png`, group: 'breakdown', title, width: 1400, height: 700, thread: t.index,
      config: {
        type: 'bar',
        data: {
          labels: stages.map(stageLabel),
          datasets: table.tests.map((test) => ({
            label: test,
            data: stages.map((s) => {
              const cell = table.testLevel(t.index, s.index, test);
              return cell && s.windowMs ? roundTo(windowCount(cell) / (s.windowMs / 1000), DIGITS.tps) : 0;
            }),
            backgroundColor: testColour(test),
            stack: 'tps',
          })),
        },
        options: {
          ...baseOptions(title, 'Stage', 'TPS'),
          scales: { x: { type: 'category', stacked: true, title: { display: true, text: 'Stage (load)' } }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'TPS' } } },
        },
      },
    });
  }

  // Gantt and response-time scatter per thread-stage.
  for (const t of info.threads) {
    for (const s of t.stages) {
      const v = agg.visuals[t.index]?.[s.index];
      if (!v) continue;
      const seconds = (s.windowMs ?? 0) / 1000;
      const bands = { lines: [0, seconds].filter((x, i) => i === 0 || x > 0) };
      const at = { threadName: t.name, threadDir: t.dir, stageDir: s.dir, thread: t.index, stage: s.index, testColour };
      charts.push(ganttChart(at, v, bands));
      charts.push(timesChart(at, v, bands));
    }
  }

  // System-metric strips per node, aligned with the stage windows.
  for (const m of input.metrics) {
    const thread = info.threads[m.thread]!;
    const t0 = Math.min(...thread.stages.flatMap((s) => (s.start !== undefined ? [s.start] : [])));
    const origin = Number.isFinite(t0) ? t0 : Math.min(...m.strips.flatMap((s) => s.series.flatMap((x) => x.points.map((p) => p[0]))));
    const bands: Band[] = thread.stages.flatMap((s) => (s.start !== undefined && s.end !== undefined ? [{ from: r3((s.start - origin) / 1000), to: r3((s.end - origin) / 1000), label: s.key }] : []));
    const hostPart = input.metrics.filter((x) => x.thread === m.thread && x.node === m.node).length > 1 ? `-${m.host}` : '';
    for (const strip of m.strips) {
      const title = `${thread.name} ${m.node}${hostPart ? ` (${m.host})` : ''}: ${strip.title}${strip.unit ? ` (${strip.unit})` : ''}`;
      charts.push({
        file: `metrics-${thread.dir}-${m.node}${hostPart}-${strip.id}.png`, group: 'metrics', title, width: 1400, height: 260, thread: m.thread, node: m.node,
        config: {
          type: 'line',
          data: {
            datasets: strip.series.map((x, i) => ({
              label: x.label,
              data: x.points.map(([tt, y]) => ({ x: r3((tt - origin) / 1000), y: r3(y) })),
              borderColor: colour(i), backgroundColor: alpha(colour(i), 0.35), pointRadius: 0, borderWidth: 1.5,
              fill: strip.stacked ? (i === 0 ? 'origin' : '-1') : false,
            })),
          },
          options: {
            ...baseOptions(title, 'Seconds since the first stage started', strip.unit),
            scales: {
              x: { type: 'linear', ...xRange(strip.series, origin), title: { display: true, text: 'Seconds since the first stage started' } },
              y: { type: 'linear', beginAtZero: true, stacked: strip.stacked, ...(strip.max ? { suggestedMax: strip.max } : {}), title: { display: Boolean(strip.unit), text: strip.unit } },
            },
            plugins: { title: { display: true, text: title, font: { size: 14 } }, legend: { position: 'right' }, e3Bands: { bands } },
          },
        },
      });
    }
  }
  return charts;
}

function xRange(series: Array<{ points: Array<[number, number]> }>, origin: number): { min?: number; max?: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const x of series) for (const [t] of x.points) {
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return Number.isFinite(min) ? { min: r3((min - origin) / 1000), max: r3((max - origin) / 1000) } : {};
}

/** Where a stage chart belongs, and the run's test colours. */
interface StageAt {
  threadName: string;
  threadDir: string;
  stageDir: string;
  thread: number;
  stage: number;
  testColour: (test: string) => string;
}

function ganttChart(at: StageAt, v: StageVisuals, bands: { lines: number[] }): ChartSpec {
  const { threadName, threadDir, stageDir, thread, stage } = at;
  const clients = [...v.grid.keys()];
  const minClient = Math.min(...clients);
  const maxClient = Math.max(...clients);
  const rows = maxClient - minClient + 1;
  const height = Math.min(2400, Math.max(420, 140 + rows * 6));
  const perRow = (height - 140) / rows;
  const thickness = perRow > 4 ? Math.floor(perRow * 0.8) : Math.round(perRow * 100) / 100;
  const perTest: Array<Array<{ x: [number, number]; y: number }>> = v.tests.map(() => []);
  const errors: Array<{ x: [number, number]; y: number }> = [];
  let mode: string;
  if (v.bars) {
    mode = `each ${v.kind} a bar`;
    for (const b of v.bars) (b.ok ? perTest[b.test]! : errors).push({ x: [r3(b.s), r3(Math.max(b.e, b.s + 0.001))], y: b.client });
  } else {
    mode = `busy time per ${r3(v.binSeconds)} s bin (${v.count} ${v.kind}s)`;
    for (const [client, g] of v.grid) {
      let b = 0;
      while (b < v.bins) {
        const test = g.tests[b]!;
        let e = b;
        while (e + 1 < v.bins && g.tests[e + 1] === test) e++;
        if (test > 0) perTest[test - 1]!.push({ x: [r3(b * v.binSeconds), r3((e + 1) * v.binSeconds)], y: client });
        b = e + 1;
      }
      // Error bins are drawn three bins wide so that they stay visible at this scale.
      for (let k = 0; k < v.bins; k++) if (g.errors[k]) errors.push({ x: [r3(Math.max(0, k - 1) * v.binSeconds), r3(Math.min(v.bins, k + 2) * v.binSeconds)], y: client });
    }
  }
  const title = `Gantt ${threadName} stage ${stageDir.slice(6)}: ${mode}`;
  const separate = Boolean(v.bars) && thickness >= 6;
  // Chart.js draws lower `order` on top: errors over the tests' bars.
  const ds = (label: string, data: unknown[], c: string, order = 1) => ({ type: 'bar', label, data, order, backgroundColor: c, borderColor: '#ffffff', borderWidth: separate ? { left: 1 } : 0, borderSkipped: false, barThickness: thickness, grouped: false });
  return {
    file: `gantt-${threadDir}-${stageDir}.png`, group: 'gantt', title, width: 1400, height, thread, stage,
    config: {
      type: 'bar',
      data: { datasets: [...v.tests.map((test, i) => ds(test, perTest[i]!, at.testColour(test))), ds('errors', errors, ERROR_COLOUR, 0)] },
      options: {
        ...baseOptions(title, 'Seconds since the stage started', 'Client'),
        indexAxis: 'y',
        scales: {
          x: { type: 'linear', min: 0, ...(bands.lines[1] ? { max: bands.lines[1] } : {}), title: { display: true, text: 'Seconds since the stage started' } },
          y: { type: 'linear', reverse: true, offset: false, min: minClient - 0.5, max: maxClient + 0.5, ticks: { precision: 0, includeBounds: false }, grid: { display: rows <= 100 }, title: { display: true, text: 'Client' } },
        },
        plugins: { title: { display: true, text: title, font: { size: 16 } }, legend: { position: 'bottom' }, e3Bands: bands },
      },
    },
  };
}

function timesChart(at: StageAt, v: StageVisuals, bands: { lines: number[] }): ChartSpec {
  const { threadName, threadDir, stageDir, thread, stage } = at;
  const datasets: Array<Record<string, unknown>> = v.tests.map((test, i) => {
    const xs = reservoirValues(v.scatter[i]!.t);
    const ys = reservoirValues(v.scatter[i]!.ok);
    const data: Array<{ x: number; y: number }> = [];
    for (let k = 0; k < xs.length; k++) data.push({ x: r3(xs[k]!), y: Math.max(0.001, r3(ys[k]!)) });
    return { label: `${test}${v.scatter[i]!.t.seen > xs.length ? ` (${xs.length} of ${v.scatter[i]!.t.seen})` : ''}`, data, backgroundColor: alpha(at.testColour(test), 0.6), borderColor: at.testColour(test), pointRadius: 2 };
  });
  datasets.push({ label: 'errors', data: v.scatterErrors.map((e) => ({ x: r3(e.t), y: Math.max(0.001, r3(e.ms)) })), backgroundColor: ERROR_COLOUR, borderColor: ERROR_COLOUR, pointRadius: 3, pointStyle: 'crossRot' });
  const title = `Response times ${threadName} stage ${stageDir.slice(6)} (${v.kind}s)`;
  return {
    file: `times-${threadDir}-${stageDir}.png`, group: 'times', title, width: 1400, height: 600, thread, stage,
    config: {
      type: 'scatter',
      data: { datasets },
      options: {
        ...baseOptions(title, 'Seconds since the stage started', 'Time (ms, log)'),
        scales: {
          x: { type: 'linear', min: 0, ...(bands.lines[1] ? { max: bands.lines[1] } : {}), title: { display: true, text: 'Seconds since the stage started' } },
          y: { type: 'logarithmic', title: { display: true, text: 'Time (ms, log scale)' } },
        },
        plugins: { title: { display: true, text: title, font: { size: 16 } }, legend: { position: 'bottom' }, e3Bands: bands },
      },
    },
  };
}

/**
 * Chart.js plugin `e3Bands`: shaded stage windows (`bands: [{from, to, label}]`) and vertical marks
 * (`lines: [x]`) in x-axis units. Self-contained so report.html can inline its source.
 */
export const bandsPlugin = {
  id: 'e3Bands',
  beforeDatasetsDraw(chart: { ctx: CanvasRenderingContext2DLike; chartArea: { left: number; right: number; top: number; bottom: number }; scales: Record<string, { getPixelForValue(v: number): number }> }, _args: unknown, opts: { bands?: Array<{ from: number; to: number; label: string }>; lines?: number[] }) {
    const ctx = chart.ctx;
    const area = chart.chartArea;
    const x = chart.scales.x;
    if (!x || !area) return;
    ctx.save();
    (opts.bands || []).forEach(function (b, i) {
      const x0 = Math.max(area.left, x.getPixelForValue(b.from));
      const x1 = Math.min(area.right, x.getPixelForValue(b.to));
      if (x1 <= x0) return;
      ctx.fillStyle = i % 2 ? 'rgba(120,120,120,0.10)' : 'rgba(31,119,180,0.10)';
      ctx.fillRect(x0, area.top, x1 - x0, area.bottom - area.top);
      ctx.fillStyle = 'rgba(60,60,60,0.9)';
      ctx.font = '12px sans-serif';
      ctx.fillText('stage ' + b.label, x0 + 4, area.top + 12);
    });
    ctx.strokeStyle = 'rgba(0,0,0,0.6)';
    ctx.lineWidth = 1;
    (opts.lines || []).forEach(function (v) {
      const px = x.getPixelForValue(v);
      if (px < area.left || px > area.right) return;
      ctx.beginPath();
      ctx.moveTo(px, area.top);
      ctx.lineTo(px, area.bottom);
      ctx.stroke();
    });
    ctx.restore();
  },
};

/** The subset of the canvas 2D context the bands plugin uses. */
interface CanvasRenderingContext2DLike {
  save(): void;
  restore(): void;
  fillRect(x: number, y: number, w: number, h: number): void;
  fillText(text: string, x: number, y: number): void;
  beginPath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  stroke(): void;
  fillStyle: unknown;
  strokeStyle: unknown;
  lineWidth: number;
  font: string;
}
