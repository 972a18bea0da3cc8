/**
 * Generates analysis summaries (what `e3 compare` reads) of runs with known run-to-run variance, without
 * writing run folders: each run's latency scale is drawn from a log-normal (σ = latencySigma, shared by all
 * its ops), each stage's throughput from a log-normal (σ = tpsSigma); within a run, every aggregate's
 * durations are drawn from its op's log-normal and its percentiles computed from them exactly.
 */
import { prng, type AnalysisSummary, type SummaryRow } from '@e3/model';

import type { RunStats } from '../../src/compare-stats.js';
import { normalCdf } from '../../src/stats.js';

export interface SummaryOp {
  test: string;
  op: string;
  medianMs: number;
  sigma: number;
  errorRate?: number;
}

export const CALIBRATION_OPS: SummaryOp[] = [
  { test: 'browse', op: 'GET /projects', medianMs: 40, sigma: 0.3 },
  { test: 'browse', op: 'GET /repos', medianMs: 60, sigma: 0.3 },
  { test: 'clone', op: 'git clone', medianMs: 120, sigma: 0.4, errorRate: 0.01 },
  { test: 'push', op: 'git push', medianMs: 200, sigma: 0.4 },
];

export interface SummaryRunOptions {
  run: string;
  seed: number;
  ops?: SummaryOp[];
  /** Clients per stage; each stage's base count per op is `perClient` × clients. */
  clients?: number[];
  perClient?: number;
  windowMs?: number;
  /** Run-to-run σ of the log latency scale (default 0.05). */
  latencySigma?: number;
  /** Run-to-run σ of each stage's log throughput (default 0.03). */
  tpsSigma?: number;
  /** Multiplies an op's durations (op → factor). */
  latencyFactor?: Record<string, number>;
  /** Multiplies a stage's throughput (stage → factor). */
  throughputFactor?: Record<number, number>;
  /**
   * Draw every duration and keep them for sample-level tests (slow). Otherwise each percentile is drawn
   * from the distribution of its order statistic: F⁻¹(U) with U ~ N(q, q(1 − q)/n), the asymptotic law of
   * the sample quantile (no durations kept).
   */
  exact?: boolean;
}

/** Φ⁻¹ (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

const phi = normalCdf;

/** Quantile u of a mixture of log-normals (weights w, log-medians mu, sigmas s), by bisection on log x. */
function mixtureQuantile(u: number, parts: Array<{ w: number; mu: number; s: number }>): number {
  if (parts.length === 1) return Math.exp(parts[0]!.mu + parts[0]!.s * normalQuantile(u));
  let lo = Math.min(...parts.map((p) => p.mu - 8 * p.s));
  let hi = Math.max(...parts.map((p) => p.mu + 8 * p.s));
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    const f = parts.reduce((a, p) => a + p.w * phi((mid - p.mu) / p.s), 0);
    if (f < u) lo = mid;
    else hi = mid;
  }
  return Math.exp((lo + hi) / 2);
}

/** Percentiles of n draws of a log-normal mixture, each drawn from its order statistic's asymptotic law. */
function approximateRow(n: number, parts: Array<{ w: number; mu: number; s: number }>, rand: () => number, base: { errors: number } & Record<string, unknown>, windowMs: number): SummaryRow {
  const pct = (q: number) => mixtureQuantile(Math.min(1 - 1e-9, Math.max(1e-9, q + Math.sqrt((q * (1 - q)) / n) * normal(rand))), parts);
  const mean = parts.reduce((a, p) => a + p.w * Math.exp(p.mu + (p.s * p.s) / 2), 0);
  const errors = base.errors;
  return { ...base, count: n, errorRate: errors / n, tps: n / (windowMs / 1000), mean, min: 0, p50: pct(0.5), p90: pct(0.9), p95: pct(0.95), p99: pct(0.99), max: 0, bytes: 0 } as SummaryRow;
}

function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const at = (sorted: Float64Array, q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

function row(values: Float64Array, base: Omit<SummaryRow, 'count' | 'errorRate' | 'tps' | 'mean' | 'min' | 'p50' | 'p90' | 'p95' | 'p99' | 'max' | 'bytes'>, windowMs: number): SummaryRow {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  return {
    ...base,
    count: n,
    errorRate: n ? base.errors / n : 0,
    tps: n / (windowMs / 1000),
    mean: s.reduce((a, b) => a + b, 0) / n,
    min: s[0]!,
    p50: at(s, 0.5),
    p90: at(s, 0.9),
    p95: at(s, 0.95),
    p99: at(s, 0.99),
    max: s[n - 1]!,
    bytes: 0,
  };
}

/** One run's summary (thread "t") and its durations, for compareStats. */
export function generateSummary(o: SummaryRunOptions): RunStats {
  const rand = prng(o.seed);
  const ops = o.ops ?? CALIBRATION_OPS;
  const clients = o.clients ?? [4, 8];
  const windowMs = o.windowMs ?? 600_000;
  const scale = Math.exp((o.latencySigma ?? 0.05) * normal(rand));
  const rows: SummaryRow[] = [];
  const durations = new Map<SummaryRow, Float64Array>();
  const stages: AnalysisSummary['threads'][number]['stages'] = [];
  for (const [s, c] of clients.entries()) {
    const tpsScale = Math.exp((o.tpsSigma ?? 0.03) * normal(rand)) * (o.throughputFactor?.[s] ?? 1);
    const byTest = new Map<string, { n: number; errors: number; values: Float64Array[]; parts: Array<{ n: number; mu: number; s: number }> }>();
    for (const op of ops) {
      const n = Math.max(1, Math.round((o.perClient ?? 500) * c * tpsScale));
      const mu = Math.log(op.medianMs * scale * (o.latencyFactor?.[op.op] ?? 1));
      const p = op.errorRate ?? 0;
      const errors = Math.max(0, Math.round(n * p + Math.sqrt(n * p * (1 - p)) * normal(rand)));
      const base = { thread: 0, threadName: 't', stage: s, test: op.test, op: op.op, kind: 'request' as const, errors };
      const g = byTest.get(op.test) ?? { n: 0, errors: 0, values: [], parts: [] };
      g.n += n;
      g.errors += errors;
      g.parts.push({ n, mu, s: op.sigma });
      byTest.set(op.test, g);
      if (!o.exact) {
        rows.push(approximateRow(n, [{ w: 1, mu, s: op.sigma }], rand, base, windowMs));
        continue;
      }
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) values[i] = Math.exp(mu + op.sigma * normal(rand));
      const r = row(values, { ...base, min: 0 } as never, windowMs);
      rows.push(r);
      durations.set(r, values);
      g.values.push(values);
    }
    let testLevel = 0;
    for (const [test, g] of byTest) {
      testLevel += g.n;
      if (g.parts.length < 2) continue;
      const base = { thread: 0, threadName: 't', stage: s, test, op: '*', kind: 'request' as const, errors: g.errors };
      if (!o.exact) {
        rows.push(approximateRow(g.n, g.parts.map((x) => ({ w: x.n / g.n, mu: x.mu, s: x.s })), rand, base, windowMs));
        continue;
      }
      const all = new Float64Array(g.n);
      let k = 0;
      for (const v of g.values) all.set(v, (k += v.length) - v.length);
      const r = row(all, base as never, windowMs);
      rows.push(r);
      durations.set(r, all);
    }
    stages.push({ index: s, key: String(s).padStart(3, '0'), status: 'succeeded', clients: c, load: c, start: 0, end: windowMs, windowMs, samples: testLevel, tps: testLevel / (windowMs / 1000), notes: [] });
  }
  const best = stages.reduce((a, b) => (b.tps! > a.tps! ? b : a));
  return {
    run: o.run,
    summary: { threads: [{ index: 0, name: 't', dir: 'thread-001', nodes: [], stages, peak: { stage: best.index, load: best.load, tps: best.tps! } }], rows },
    durations: (r) => durations.get(r),
  };
}

/** `n` runs of one configuration, seeds seed, seed + 1, … */
export function replicates(n: number, seed: number, o: Omit<SummaryRunOptions, 'run' | 'seed'> = {}, name = 'run'): RunStats[] {
  return Array.from({ length: n }, (_, i) => generateSummary({ ...o, run: `${name}-${i + 1}`, seed: seed + i }));
}
