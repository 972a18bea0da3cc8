import { statSync } from 'node:fs';

import * as hdr from 'hdr-histogram-js';

import { prng, scanSamples, type SampleRow } from '@e3/model';

import { canUseWorkers, runPool, workerCount } from './pool.js';
import type { RunInfo, StageInfo } from './run-dir.js';
import { addSample, finishSeries, newSeriesAcc, type StageSeries } from './series.js';
import { createReservoir, offer, type Reservoir } from './stats.js';

type Histogram = hdr.Histogram;
export type Kind = SampleRow['kind'];

/** Durations are recorded in microseconds: HDR keeps integers, 3 significant digits. */
const US = 1000;

export function newHistogram(wasm = false): Histogram {
  return hdr.build({ numberOfSignificantValueDigits: 3, useWebAssembly: wasm, bitBucketSize: 32 });
}

/** Recording through hdr-histogram-js's WebAssembly build is about 4× faster than its JS build. */
let wasm: boolean | undefined;
function wasmReady(): boolean {
  if (wasm === undefined) {
    try {
      hdr.initWebAssemblySync();
      wasm = true;
    } catch {
      wasm = false;
    }
  }
  return wasm;
}

/** A plain JS copy of a (WebAssembly) histogram, which is destroyed: stage results hold no wasm memory. */
function toJsHistogram(h: Histogram): Histogram {
  const js = hdr.decodeFromCompressedBase64(hdr.encodeIntoCompressedBase64(h), 32, false);
  h.destroy();
  return js;
}

/** One aggregate: thread × stage × test × op × kind. */
export interface Cell {
  thread: number;
  stage: number;
  test: string;
  op: string;
  kind: Kind;
  /** Samples that ended, ok or failed (cut ones excluded), load window and drain. */
  count: number;
  errors: number;
  /** Of count, those that ended after the stage's loadEnd (0 when the load window is unknown). */
  drain: number;
  /** Samples cut when the grace period ran out: in neither count nor the latencies. */
  cut: number;
  sum: number;
  min: number;
  max: number;
  bytes: number;
  hist: Histogram;
  /** Present when values are kept (compare). */
  values?: Reservoir;
}

export interface GanttBar {
  client: number;
  /** Seconds from the stage start. */
  s: number;
  e: number;
  test: number;
  ok: boolean;
}

/** Per thread-stage data for the Gantt and the scatter, bounded in memory. */
export interface StageVisuals {
  tests: string[];
  kind: Kind;
  /** Every sample as a bar while there are at most `maxBars`; undefined beyond. */
  bars?: GanttBar[];
  /** Busy grid: per client, per time bin, the test index + 1 that ran there (0 = idle). */
  grid: Map<number, { tests: Uint16Array; errors: Uint8Array }>;
  bins: number;
  binSeconds: number;
  /** Error marks (client, seconds), at most `maxBars`. */
  errorMarks: Array<{ client: number; t: number }>;
  /** Scatter points per test index: x seconds from stage start, y ms. */
  scatter: Array<{ ok: Reservoir; t: Reservoir }>;
  scatterErrors: Array<{ t: number; ms: number; test: number }>;
  count: number;
}

export interface ErrorGroupAcc {
  thread: number;
  stage: number;
  test: string;
  op: string;
  kind: Kind;
  error: string;
  count: number;
  examples: string[];
}

export interface Aggregation {
  cells: Cell[];
  /** thread → stage → samples read. */
  samples: number[][];
  /** thread → stage → rows read per sample file (StageInfo.sampleFiles order). */
  fileRows: number[][][];
  total: number;
  errors: ErrorGroupAcc[];
  /** thread → stage → visuals (requests when there are any, else transactions). */
  visuals: Array<Array<StageVisuals | undefined>>;
  /** thread → stage → per-second series from the samples (undefined when `series` is false). */
  series: Array<Array<StageSeries | undefined>>;
  warnings: string[];
}

export interface AggregateOptions {
  /** Collect Gantt and scatter data (default true). */
  visuals?: boolean;
  /** Compute the per-second series with exact percentiles (default true; holds every counted duration of a stage). */
  series?: boolean;
  /** Keep a uniform sample of this many durations per cell (compare). */
  keepValues?: number;
  maxBars?: number;
  scatterPerTest?: number;
  bins?: number;
  /** Worker threads for the stages; default: up to the CPU count when compiled and the samples exceed 64 MB, else 0. */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (event: { file: string; samples: number; total: number }) => void;
}

/** Folds an error message into its class: long numbers, hex ids and quoted paths become `#`. */
export function errorClass(message: string): string {
  return message
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '#')
    .replace(/\b[0-9a-f]{12,}\b/gi, '#')
    .replace(/\d{4,}/g, '#')
    .replace(/'[^']*'/g, "'#'")
    .slice(0, 160);
}

function newVisuals(stage: StageInput, kind: Kind, o: Required<Pick<AggregateOptions, 'bins'>>): StageVisuals {
  const seconds = (stage.windowMs ?? 60_000) / 1000;
  return { tests: [], kind, bars: [], grid: new Map(), bins: o.bins, binSeconds: seconds / o.bins, errorMarks: [], scatter: [], scatterErrors: [], count: 0 };
}

/** The aggregate of one thread-stage: independent of every other stage, so stages can run in parallel. */
export interface StageAggregate {
  thread: number;
  stage: number;
  cells: Cell[];
  errors: ErrorGroupAcc[];
  visuals?: StageVisuals;
  series?: StageSeries;
  samples: number;
  /** Rows read per sample file, in `sampleFiles` order. */
  fileRows: number[];
}

/** Options a stage aggregation needs (plain data, so they cross to a worker thread). */
export type StageOptions = Pick<AggregateOptions, 'visuals' | 'series' | 'keepValues' | 'maxBars' | 'scatterPerTest' | 'bins'>;

/** The plain-data part of a stage a worker needs. */
export type StageInput = Pick<StageInfo, 'index' | 'start' | 'windowMs' | 'sampleFiles' | 'loadEnd'>;

/**
 * Aggregates the samples of one thread-stage in one streaming pass: per test × op × kind counts, errors,
 * exact mean/min/max, an HDR histogram; error groups; bounded Gantt/scatter data; the per-second series.
 * Deterministic for a stage.
 */
export async function aggregateStage(thread: number, stage: StageInput, options: StageOptions & { signal?: AbortSignal } = {}): Promise<StageAggregate> {
  const withVisuals = options.visuals !== false;
  const maxBars = options.maxBars ?? 5000;
  const scatterPerTest = options.scatterPerTest ?? 1500;
  const bins = options.bins ?? 400;
  const rand = prng(1 + thread * 1000 + stage.index);
  const useWasm = wasmReady();
  const cells: Cell[] = [];
  const errors = new Map<string, ErrorGroupAcc>();
  const byTest = new Map<string, Map<string, Cell[]>>();
  const req = withVisuals ? newVisuals(stage, 'request', { bins }) : undefined;
  const tx = withVisuals ? newVisuals(stage, 'transaction', { bins }) : undefined;
  const t0 = stage.start ?? 0;
  const visual = { maxBars, scatterPerTest, rand };
  const loadEnd = stage.loadEnd ?? Infinity;
  const series = options.series !== false ? newSeriesAcc() : undefined;
  const visit = (row: SampleRow): void => {
    let ops = byTest.get(row.test);
    if (!ops) byTest.set(row.test, (ops = new Map()));
    let pair = ops.get(row.op);
    if (!pair) ops.set(row.op, (pair = []));
    const ki = row.kind === 'request' ? 0 : 1;
    let cell = pair[ki];
    if (!cell) {
      cell = pair[ki] = {
        thread, stage: stage.index, test: row.test, op: row.op, kind: row.kind,
        count: 0, errors: 0, drain: 0, cut: 0, sum: 0, min: Infinity, max: -Infinity, bytes: 0, hist: newHistogram(useWasm),
        ...(options.keepValues ? { values: createReservoir(options.keepValues) } : {}),
      };
      cells.push(cell);
    }
    if (series) addSample(series, row);
    // An operation still running when the stage ended and its grace ran out is recorded as cut: it
    // neither succeeded nor failed, and its duration is not a latency (as in the agent's summary).
    if (!row.ok && row.error === 'cut') {
      cell.cut++;
      return;
    }
    const d = row.duration;
    cell.count++;
    // Its end: the open model measures from the intended start.
    if ((row.intended ?? row.start) + d > loadEnd) cell.drain++;
    cell.sum += d;
    if (d < cell.min) cell.min = d;
    if (d > cell.max) cell.max = d;
    cell.bytes += row.bytes;
    cell.hist.recordValue(d > 0 ? Math.round(d * US) : 0);
    if (cell.values) offer(cell.values, d, rand);
    if (!row.ok) {
      cell.errors++;
      const message = row.error ?? `status ${row.status}`;
      const cls = errorClass(message);
      const key = `${row.kind}\u0000${row.test}\u0000${row.op}\u0000${cls}`;
      let g = errors.get(key);
      if (!g) errors.set(key, (g = { thread, stage: stage.index, test: row.test, op: row.op, kind: row.kind, error: cls, count: 0, examples: [] }));
      g.count++;
      if (g.examples.length < 3 && !g.examples.includes(message)) g.examples.push(message);
    }
    if (req) addVisual(ki === 0 ? req : tx!, row, t0, visual);
  };
  let samples = 0;
  const fileRows: number[] = [];
  try {
    // A last line without its newline is a row cut off by an abort (the writer ends every row): skipped.
    for (const { file } of stage.sampleFiles) {
      const n = await scanSamples(file, visit, { signal: options.signal });
      fileRows.push(n);
      samples += n;
    }
  } catch (err) {
    if (useWasm) for (const c of cells) c.hist.destroy();
    throw err;
  }
  if (useWasm) for (const c of cells) c.hist = toJsHistogram(c.hist);
  const visuals = req && req.count > 0 ? req : tx && tx.count > 0 ? tx : undefined;
  return { thread, stage: stage.index, cells, errors: [...errors.values()], ...(visuals ? { visuals } : {}), ...(series ? { series: finishSeries(series) } : {}), samples, fileRows };
}

/** A stage aggregate as plain data (histograms encoded) for postMessage. */
export function encodeStage(s: StageAggregate): unknown {
  return { ...s, cells: s.cells.map((c) => ({ ...c, hist: hdr.encodeIntoCompressedBase64(c.hist) })) };
}

export function decodeStage(data: unknown): StageAggregate {
  const s = data as StageAggregate & { cells: Array<Cell & { hist: unknown }> };
  return { ...s, cells: s.cells.map((c) => ({ ...c, hist: hdr.decodeFromCompressedBase64(c.hist as unknown as string, 32, false) })) };
}

/**
 * One streaming pass over every samples.csv of the run (stages in parallel worker threads when
 * `workers` > 0 and the package runs compiled): per thread × stage × test × op × kind aggregates, error
 * groups, bounded Gantt/scatter data and the per-second series. Memory is bounded by the number of
 * distinct keys, not samples, except the series: a stage's counted durations (8 bytes each) until it ends.
 * Throws E3_SAMPLES_FORMAT (bad file) and the signal's reason (E3_INTERRUPTED) when aborted.
 */
export async function aggregateRun(info: RunInfo, options: AggregateOptions = {}): Promise<Aggregation> {
  const stageOptions: StageOptions = {
    visuals: options.visuals, series: options.series, keepValues: options.keepValues, maxBars: options.maxBars, scatterPerTest: options.scatterPerTest, bins: options.bins,
  };
  const jobs = info.threads.flatMap((t) => t.stages.map((s) => ({ thread: t.index, stage: { index: s.index, start: s.start, windowMs: s.windowMs, sampleFiles: s.sampleFiles, ...(s.loadEnd !== undefined ? { loadEnd: s.loadEnd } : {}) } })));
  const sizes = jobs.map((j) => j.stage.sampleFiles.reduce((a, f) => a + fileSize(f.file), 0));
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const workers = options.workers ?? defaultWorkers(totalBytes, jobs.length);
  let results: StageAggregate[];
  if (workers > 1 && canUseWorkers) {
    let total = 0;
    const encoded = await runPool<{ thread: number; stage: StageInput; options: StageOptions }, unknown>(
      WORKER_URL,
      jobs.map((j) => ({ ...j, options: stageOptions })),
      workers,
      { weights: sizes, signal: options.signal },
    );
    results = encoded.map((e) => {
      const r = decodeStage(e);
      total += r.samples;
      options.onProgress?.({ file: '', samples: r.samples, total });
      return r;
    });
  } else {
    results = [];
    let total = 0;
    for (const j of jobs) {
      const r = await aggregateStage(j.thread, j.stage, { ...stageOptions, signal: options.signal });
      total += r.samples;
      options.onProgress?.({ file: '', samples: r.samples, total });
      results.push(r);
    }
  }
  const samples: number[][] = info.threads.map(() => []);
  const fileRows: number[][][] = info.threads.map(() => []);
  const visuals: Aggregation['visuals'] = info.threads.map(() => []);
  const series: Aggregation['series'] = info.threads.map(() => []);
  const cells: Cell[] = [];
  const errors: ErrorGroupAcc[] = [];
  let total = 0;
  for (const r of results) {
    samples[r.thread]![r.stage] = r.samples;
    fileRows[r.thread]![r.stage] = r.fileRows;
    visuals[r.thread]![r.stage] = r.visuals;
    series[r.thread]![r.stage] = r.series;
    cells.push(...r.cells);
    errors.push(...r.errors);
    total += r.samples;
  }
  errors.sort((a, b) => b.count - a.count);
  return { cells, samples, fileRows, total, errors, visuals, series, warnings: [] };
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

const WORKER_URL = new URL('./aggregate-worker.js', import.meta.url);

/** Worker threads only from compiled JS (a .ts source cannot start one) and only for big runs. */
function defaultWorkers(totalBytes: number, stages: number): number {
  return canUseWorkers && totalBytes >= 64 << 20 ? workerCount(stages) : 0;
}

function addVisual(v: StageVisuals, row: SampleRow, t0: number, o: { maxBars: number; scatterPerTest: number; rand: () => number }): void {
  v.count++;
  let ti = v.tests.indexOf(row.test);
  if (ti < 0) {
    ti = v.tests.push(row.test) - 1;
    v.scatter.push({ ok: createReservoir(o.scatterPerTest), t: createReservoir(o.scatterPerTest) });
  }
  const s = (row.start - t0) / 1000;
  const e = s + row.duration / 1000;
  if (v.bars) {
    if (v.bars.length < o.maxBars) v.bars.push({ client: row.client, s, e, test: ti, ok: row.ok });
    else v.bars = undefined;
  }
  let g = v.grid.get(row.client);
  if (!g) v.grid.set(row.client, (g = { tests: new Uint16Array(v.bins), errors: new Uint8Array(v.bins) }));
  const b0 = Math.max(0, Math.floor(s / v.binSeconds));
  const b1 = Math.min(v.bins - 1, Math.floor(e / v.binSeconds));
  for (let b = b0; b <= b1; b++) g.tests[b] = ti + 1;
  if (!row.ok) {
    if (b1 >= 0 && b1 < v.bins) g.errors[b1] = 1;
    if (v.errorMarks.length < o.maxBars) v.errorMarks.push({ client: row.client, t: e });
    if (v.scatterErrors.length < o.scatterPerTest) v.scatterErrors.push({ t: s, ms: row.duration, test: ti });
  } else {
    // One reservoir for times and one for durations, kept in step by sharing the random draw.
    const sc = v.scatter[ti]!;
    const r = o.rand();
    reservoirPair(sc.t, sc.ok, s, row.duration, r);
  }
}

function reservoirPair(a: Reservoir, b: Reservoir, x: number, y: number, r: number): void {
  a.seen++;
  b.seen++;
  if (a.length < a.values.length) {
    a.values[a.length++] = x;
    b.values[b.length++] = y;
    return;
  }
  const j = Math.floor(r * a.seen);
  if (j < a.values.length) {
    a.values[j] = x;
    b.values[j] = y;
  }
}

/** Count-weighted merge of cells (the test level of a test that records no transactions). */
export function mergeCells(cells: Cell[], op: string): Cell {
  const first = cells[0]!;
  const hist = newHistogram();
  const out: Cell = { thread: first.thread, stage: first.stage, test: first.test, op, kind: first.kind, count: 0, errors: 0, drain: 0, cut: 0, sum: 0, min: Infinity, max: -Infinity, bytes: 0, hist };
  for (const c of cells) {
    out.count += c.count;
    out.errors += c.errors;
    out.drain += c.drain;
    out.cut += c.cut;
    out.sum += c.sum;
    out.min = Math.min(out.min, c.min);
    out.max = Math.max(out.max, c.max);
    out.bytes += c.bytes;
    hist.add(c.hist);
  }
  return out;
}

/** Completions that ended in the load window: what throughput counts. */
export function windowCount(cell: Cell): number {
  return cell.count - cell.drain;
}

/** Percentile of a cell in ms (HDR, 3 significant digits). */
export function percentile(cell: Cell, p: number): number {
  if (cell.count === 0) return 0;
  return cell.hist.getValueAtPercentile(p) / US;
}
