/**
 * The statistics of `e3 compare`, on analysis summaries (no file access): each baseline and contender run
 * is an `analysis/summary.json`; sample-level tests also read the durations of an aggregate when given.
 * docs/analyze.md#comparing-runs explains every rule here.
 */
import type { AnalysisSummary, SummaryRow } from '@e3/model';

import { formatNumber } from './format.js';
import { mannWhitney, normalCdf } from './stats.js';
import { prng, stageKey } from '@e3/model';

/** One run as compare reads it. */
export interface RunStats {
  run: string;
  summary: Pick<AnalysisSummary, 'threads' | 'rows'>;
  /** Durations (ms) of one aggregate for sample-level tests; absent when samples were not read. */
  durations?: (row: SummaryRow) => ArrayLike<number> | undefined;
}

type StageSummary = AnalysisSummary['threads'][number]['stages'][number];
type ThreadSummary = AnalysisSummary['threads'][number];

/**
 * Throughput as summary.json states it (the analysis owns its definition): the thread's at a stage, its
 * window in ms, and the completions it counts (`completed` − `drainCount`) for sample-level tests.
 */
export function stageThroughput(stage: StageSummary): { tps: number | null; windowMs: number | null; counted?: number } {
  return { tps: stage.tps ?? null, windowMs: stage.windowMs ?? null, ...(stage.completed !== undefined ? { counted: stage.completed - (stage.drainCount ?? 0) } : {}) };
}

/** Throughput of one aggregate as summary.json states it. */
export function rowThroughput(row: SummaryRow): number | null {
  return row.tps ?? null;
}

export interface Tolerance {
  /** Relative change of a latency percentile that is tolerated (0.05 = 5 %). */
  latency: number;
  /** Relative drop of throughput that is tolerated. */
  throughput: number;
  /** Rise of the error rate that is tolerated, in absolute terms (0.01 = 1 point). */
  errorRate: number;
}

export interface CompareStatsOptions {
  /** One-sided significance level of every test (default 0.01). */
  alpha: number;
  /** The tolerance of a test (per-test tolerances already merged over the default). */
  tolerance: (test: string | undefined) => Tolerance;
}

export type Metric = 'p50' | 'p95' | 'p99' | 'tps' | 'errorRate' | 'peak tps' | 'break load';
export type Verdict = 'regression' | 'improvement' | 'within tolerance' | 'insufficient data';

export interface Finding {
  metric: Metric;
  thread: string;
  stage?: number;
  test?: string;
  op?: string;
  kind?: SummaryRow['kind'];
  /** Thread/Stage/Test label for people. */
  label: string;
  /** Mean over the side's runs (null when no run has a value). */
  baseline: number | null;
  contender: number | null;
  /** contender − baseline. */
  diff: number | null;
  /** Relative change of the means (absolute change for errorRate). */
  change: number | null;
  /** The change the test judged: for latency with replicates, the change beyond the thread's common shift. */
  judged: number | null;
  tolerance: number;
  /** One-sided p of "worse beyond tolerance" (null when not tested). */
  pWorse: number | null;
  pBetter: number | null;
  verdict: Verdict;
  /** Why the data is insufficient, or what the verdict rests on. */
  note?: string;
}

/** Each thread's latency shift common to all its ops (replicates only), per percentile. */
export interface CommonShift {
  thread: string;
  metric: 'p50' | 'p95' | 'p99';
  change: number;
  pWorse: number;
  pBetter: number;
  verdict: Verdict;
}

export interface StatsResult {
  evidence: 'runs' | 'samples';
  findings: Finding[];
  common: CommonShift[];
  /** Aggregates or threads only one side has. */
  unmatched: string[];
}

// ---------------------------------------------------------------------------------------------------
// Distributions

/** Continued fraction of the regularised incomplete beta function (Numerical Recipes betacf). */
function betacf(a: number, b: number, x: number): number {
  const eps = 1e-12;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < 1e-300) d = 1e-300;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = 1 + aa / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = 1 + aa / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < eps) break;
  }
  return h;
}

function logGamma(x: number): number {
  const g = [76.1800917294715, -86.5053203294168, 24.0140982408309, -1.23173957245015, 0.00120865097386618, -0.000005395239384953];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const c of g) ser += c / ++y;
  return -tmp + Math.log((Math.sqrt(2 * Math.PI) * ser) / x);
}

/** Regularised incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const bt = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (bt * betacf(a, b, x)) / a : 1 - (bt * betacf(b, a, 1 - x)) / b;
}

/** P(T > t) for Student's t with `df` degrees of freedom (df = Infinity: the normal). */
export function tSurvival(t: number, df: number): number {
  if (!Number.isFinite(df)) return 1 - normalCdf(t);
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? tail : 1 - tail;
}

// ---------------------------------------------------------------------------------------------------
// Matching the two sides

interface Side {
  runs: RunStats[];
}

const rowKey = (thread: string, r: Pick<SummaryRow, 'stage' | 'test' | 'op' | 'kind'>) => [thread, r.stage, r.test, r.op, r.kind].join('\u0000');

/** Per key, the row of each run of the side (undefined where a run lacks it). */
function rowsByKey(side: Side): Map<string, Array<SummaryRow | undefined>> {
  const out = new Map<string, Array<SummaryRow | undefined>>();
  side.runs.forEach((run, i) => {
    const names = new Map(run.summary.threads.map((t) => [t.index, t.name]));
    for (const row of run.summary.rows) {
      const k = rowKey(names.get(row.thread) ?? row.threadName, row);
      let list = out.get(k);
      if (!list) out.set(k, (list = new Array<SummaryRow | undefined>(side.runs.length).fill(undefined)));
      list[i] = row;
    }
  });
  return out;
}

const threadOf = (run: RunStats, name: string): ThreadSummary | undefined => run.summary.threads.find((t) => t.name === name);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const label = (f: Pick<Finding, 'thread' | 'stage' | 'test' | 'op' | 'kind'>): string =>
  [f.thread, f.stage !== undefined ? `stage ${stageKey(f.stage)}` : undefined, f.test, f.op !== undefined && f.op !== '*' && f.op !== f.test ? `${f.op}${f.kind === 'transaction' ? ' (tx)' : ''}` : f.kind === 'transaction' ? '(tx)' : undefined]
    .filter((x) => x !== undefined)
    .join(' / ');

export { mean, median, rowsByKey, rowKey, threadOf, type Side };

// ---------------------------------------------------------------------------------------------------
// Replicate-level tests (a family of keys on the log scale)

export interface FamilyItem {
  finding: Finding;
  /** ln(value) per run; undefined marks insufficient data. */
  a?: number[];
  b?: number[];
  /** Part of the thread's common latency shift estimate (op-level request rows). */
  common?: boolean;
}

/** Weight of the family's variance in each key's (degrees of freedom of the prior, at most (keys − 1) × df). */
export const PRIOR_DF = 12;

/** Worse direction: +1 when higher is worse (latency), −1 when lower is worse (throughput). */
export function logThreshold(worse: 1 | -1, tol: number): number {
  return worse > 0 ? Math.log1p(tol) : -Math.log1p(-Math.min(tol, 0.999999));
}

function residuals(xs: number[]): number[] {
  const m = mean(xs);
  return xs.map((x) => x - m);
}

/**
 * Judges a family of keys with replicates: per key the difference of the mean logs, tested one-sided
 * against the tolerance with a moderated t (the key's residual variance shrunk towards the family's,
 * prior weight PRIOR_DF degrees of freedom). With `commonShift`, each run's shift shared by the family's op-level
 * rows (median residual) is removed first and tested on its own, against the run-to-run spread.
 */
export function judgeFamily(items: FamilyItem[], worse: 1 | -1, alpha: number, commonShift: boolean): { change: number; pWorse: number; pBetter: number; tolerance: number } | undefined {
  const ok = items.filter((x) => x.a && x.b);
  if (!ok.length) return undefined;
  const nA = ok[0]!.a!.length;
  const nB = ok[0]!.b!.length;
  const df = nA + nB - 2;
  const ea = ok.map((x) => residuals(x.a!));
  const eb = ok.map((x) => residuals(x.b!));
  const commonKeys = ok.map((x, i) => (commonShift && x.common ? i : -1)).filter((i) => i >= 0);
  const useCommon = commonKeys.length >= 3;
  const ca = Array.from({ length: nA }, (_, r) => (useCommon ? median(commonKeys.map((i) => ea[i]![r]!)) : 0));
  const cb = Array.from({ length: nB }, (_, r) => (useCommon ? median(commonKeys.map((i) => eb[i]![r]!)) : 0));
  const d = ok.map((x) => mean(x.b!) - mean(x.a!));
  const shift = useCommon ? median(commonKeys.map((i) => d[i]!)) : 0;
  const s2 = ok.map((_, i) => {
    let ss = 0;
    ea[i]!.forEach((e, r) => (ss += (e - ca[r]!) ** 2));
    eb[i]!.forEach((e, r) => (ss += (e - cb[r]!) ** 2));
    return ss / df;
  });
  const prior = mean(s2);
  const d0 = Math.min(PRIOR_DF, (ok.length - 1) * df);
  const k = Math.sqrt(1 / nA + 1 / nB);
  ok.forEach((x, i) => {
    const tol = x.finding.tolerance;
    const thr = logThreshold(worse, tol);
    const s = Math.sqrt((d0 * prior + df * s2[i]!) / (d0 + df));
    const se = Math.max(s * k, 1e-9);
    const judged = worse * (d[i]! - shift);
    x.finding.judged = Math.expm1(d[i]! - shift);
    x.finding.pWorse = tSurvival((judged - thr) / se, d0 + df);
    x.finding.pBetter = tSurvival((-judged - thr) / se, d0 + df);
    x.finding.verdict = x.finding.pWorse < alpha ? 'regression' : x.finding.pBetter < alpha ? 'improvement' : 'within tolerance';
  });
  if (!useCommon) return undefined;
  const sc = Math.sqrt((ca.reduce((s, c) => s + c * c, 0) + cb.reduce((s, c) => s + c * c, 0)) / df);
  const se = Math.max(sc * k, 1e-9);
  const tol = ok[0]!.finding.tolerance;
  const thr = logThreshold(worse, tol);
  return { change: Math.expm1(shift), pWorse: tSurvival((worse * shift - thr) / se, df), pBetter: tSurvival((-worse * shift - thr) / se, df), tolerance: tol };
}

// ---------------------------------------------------------------------------------------------------
// Sample-level tests (one run on a side)

/**
 * One-sided Mann–Whitney for "B is slower than A by more than tol" (DCAPT: A's durations are
 * stretched by 1 + tol first), and for "B is faster by more than tol". Normal approximation.
 */
export function shiftedMannWhitney(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): { pWorse: number; pBetter: number } {
  const up = Float64Array.from(a, (x) => x * (1 + tol));
  const down = Float64Array.from(a, (x) => x / (1 + tol));
  const w = mannWhitney(up, b);
  const bt = mannWhitney(down, b);
  return {
    pWorse: w.superiority > 0.5 ? w.p / 2 : 1 - w.p / 2,
    pBetter: bt.superiority < 0.5 ? bt.p / 2 : 1 - bt.p / 2,
  };
}

/** At most `max` values of `sorted`, evenly spaced (keeps its quantiles; the bootstrap then sees `max` values). */
function thin(sorted: Float64Array, max: number): Float64Array {
  if (sorted.length <= max) return sorted;
  const out = new Float64Array(max);
  for (let i = 0; i < max; i++) out[i] = sorted[Math.floor(((i + 0.5) * sorted.length) / max)]!;
  return out;
}

/** Quantile q of a bootstrap resample of `sorted`, by counting drawn indices (no sort). */
function resampleQuantile(sorted: Float64Array, counts: Uint32Array, q: number, rand: () => number): number {
  const n = sorted.length;
  counts.fill(0);
  for (let k = 0; k < n; k++) counts[Math.floor(rand() * n)]!++;
  const target = Math.max(1, Math.ceil(q * n));
  let cum = 0;
  for (let i = 0; i < n; i++) {
    cum += counts[i]!;
    if (cum >= target) return sorted[i]!;
  }
  return sorted[n - 1]!;
}

/**
 * Bootstrap p-values of a quantile ratio q(B)/q(A): the share of resampled ratios at or below 1 + tol
 * (for "worse") and at or above 1 / (1 + tol) (for "better"). Seeded; 300 resamples of at most 1000
 * values a side (larger sides are thinned evenly, which widens the interval: conservative).
 */
export function bootstrapQuantileRatio(a: ArrayLike<number>, b: ArrayLike<number>, q: number, tol: number, seed = 7): { pWorse: number; pBetter: number } {
  const rand = prng(seed);
  const sa = thin(Float64Array.from(a).sort(), 1000);
  const sb = thin(Float64Array.from(b).sort(), 1000);
  const ca = new Uint32Array(sa.length);
  const cb = new Uint32Array(sb.length);
  const it = 300;
  let notWorse = 1;
  let notBetter = 1;
  for (let i = 0; i < it; i++) {
    const ratio = resampleQuantile(sb, cb, q, rand) / resampleQuantile(sa, ca, q, rand);
    if (ratio <= 1 + tol) notWorse++;
    if (ratio >= 1 / (1 + tol)) notBetter++;
  }
  return { pWorse: notWorse / (it + 1), pBetter: notBetter / (it + 1) };
}

/**
 * One-sided tests of a throughput ratio rb / ra with the Poisson variance of the counts behind each rate
 * (one run a side); lower is worse.
 */
export function poissonRatio(ra: number, ca: number, rb: number, cb: number, tol: number): { pWorse: number; pBetter: number } {
  const d = Math.log(rb) - Math.log(ra);
  const se = Math.sqrt(1 / ca + 1 / cb);
  const thr = logThreshold(-1, tol);
  return { pWorse: 1 - normalCdf((-d - thr) / se), pBetter: 1 - normalCdf((d - thr) / se) };
}

/** One-sided tests of an error-rate rise beyond `tol` points (Agresti–Caffo adjusted Wald). */
export function errorRateTest(ea: number, na: number, eb: number, nb: number, tol: number): { pWorse: number; pBetter: number } {
  const pa = (ea + 1) / (na + 2);
  const pb = (eb + 1) / (nb + 2);
  const se = Math.sqrt((pa * (1 - pa)) / (na + 2) + (pb * (1 - pb)) / (nb + 2));
  return { pWorse: 1 - normalCdf((pb - pa - tol) / se), pBetter: 1 - normalCdf((pa - pb - tol) / se) };
}

// ---------------------------------------------------------------------------------------------------
// The comparison

const PERCENTILES = [['p50', 0.5], ['p95', 0.95], ['p99', 0.99]] as const;
/** Samples needed for a percentile: at least 5 beyond it in every run. */
export const minCount = (q: number) => Math.ceil(5 / (1 - q) - 1e-9);
const MIN_TPS_COUNT = 10;
const MIN_ERROR_COUNT = 20;

function blank(metric: Metric, scope: Pick<Finding, 'thread' | 'stage' | 'test' | 'op' | 'kind'>, tolerance: number, a: number[] | undefined, b: number[] | undefined): Finding {
  const baseline = a?.length ? mean(a) : null;
  const contender = b?.length ? mean(b) : null;
  const diff = baseline !== null && contender !== null ? contender - baseline : null;
  const change = diff === null ? null : metric === 'errorRate' ? diff : baseline ? diff / baseline : null;
  return { metric, ...scope, label: label(scope), baseline, contender, diff, change, judged: null, tolerance, pWorse: null, pBetter: null, verdict: 'insufficient data' };
}

const verdictOf = (p: { pWorse: number; pBetter: number }, alpha: number): Verdict => (p.pWorse < alpha ? 'regression' : p.pBetter < alpha ? 'improvement' : 'within tolerance');

function pooled(side: RunStats[], rows: Array<SummaryRow | undefined>): Float64Array | undefined {
  const parts: ArrayLike<number>[] = [];
  for (const [i, run] of side.entries()) {
    const v = run.durations?.(rows[i]!);
    if (!v) return undefined;
    parts.push(v);
  }
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface Ctx {
  A: RunStats[];
  B: RunStats[];
  o: CompareStatsOptions;
  runs: boolean;
  findings: Finding[];
  common: CommonShift[];
}

type Pair = { key: string; a: SummaryRow[]; b: SummaryRow[]; thread: string };

function latency(ctx: Ctx, pairs: Pair[]): void {
  for (const [metric, q] of PERCENTILES) {
    const byThread = new Map<string, FamilyItem[]>();
    for (const p of pairs) {
      const r = p.a[0]!;
      const scope = { thread: p.thread, stage: r.stage, test: r.test, op: r.op, kind: r.kind };
      const f = blank(metric, scope, ctx.o.tolerance(r.test).latency, p.a.map((x) => x[metric]), p.b.map((x) => x[metric]));
      ctx.findings.push(f);
      const need = minCount(q);
      const counts = ctx.runs ? [...p.a, ...p.b].map((x) => x.count) : [p.a.reduce((n, x) => n + x.count, 0), p.b.reduce((n, x) => n + x.count, 0)];
      if (Math.min(...counts) < need) {
        f.note = `fewer than ${need} samples${ctx.runs ? ' in a run' : ''}`;
        continue;
      }
      if (ctx.runs) {
        const item: FamilyItem = { finding: f, a: p.a.map((x) => Math.log(x[metric])), b: p.b.map((x) => Math.log(x[metric])), common: r.kind === 'request' && r.op !== '*' };
        if (![...item.a!, ...item.b!].every(Number.isFinite)) continue;
        const list = byThread.get(p.thread) ?? [];
        list.push(item);
        byThread.set(p.thread, list);
        continue;
      }
      const va = pooled(ctx.A, p.a);
      const vb = pooled(ctx.B, p.b);
      if (!va || !vb) {
        f.note = 'samples not read';
        continue;
      }
      const t = metric === 'p50' ? shiftedMannWhitney(va, vb, f.tolerance) : bootstrapQuantileRatio(va, vb, q, f.tolerance);
      Object.assign(f, t, { judged: f.change, verdict: verdictOf(t, ctx.o.alpha) });
    }
    for (const [thread, items] of byThread) {
      const c = judgeFamily(items, 1, ctx.o.alpha, true);
      if (c) ctx.common.push({ thread, metric, change: c.change, pWorse: c.pWorse, pBetter: c.pBetter, verdict: verdictOf(c, ctx.o.alpha) });
    }
  }
}

function throughputRows(ctx: Ctx, pairs: Pair[], items: FamilyItem[]): void {
  for (const p of pairs) {
    const r = p.a[0]!;
    const scope = { thread: p.thread, stage: r.stage, test: r.test, op: r.op, kind: r.kind };
    const ta = p.a.map(rowThroughput);
    const tb = p.b.map(rowThroughput);
    const known = (xs: Array<number | null>): xs is number[] => xs.every((x) => x !== null && x > 0);
    const f = blank('tps', scope, ctx.o.tolerance(r.test).throughput, known(ta) ? ta : undefined, known(tb) ? tb : undefined);
    ctx.findings.push(f);
    judgeThroughput(ctx, f, ta, tb, p.a.map((x) => x.count), p.b.map((x) => x.count), items);
  }
}

/** Throughput of one key: replicate item, or a Poisson test with one run a side. */
function judgeThroughput(ctx: Ctx, f: Finding, ta: Array<number | null>, tb: Array<number | null>, ca: number[], cb: number[], items: FamilyItem[]): void {
  if (![...ta, ...tb].every((x) => x !== null && x > 0)) {
    f.note = 'no throughput (unknown window or no samples)';
    return;
  }
  const sa = ca.reduce((a, b) => a + b, 0);
  const sb = cb.reduce((a, b) => a + b, 0);
  if (Math.min(...(ctx.runs ? [...ca, ...cb] : [sa, sb])) < MIN_TPS_COUNT) {
    f.note = `fewer than ${MIN_TPS_COUNT} samples${ctx.runs ? ' in a run' : ''}`;
    return;
  }
  if (ctx.runs) {
    items.push({ finding: f, a: (ta as number[]).map(Math.log), b: (tb as number[]).map(Math.log) });
    return;
  }
  const t = poissonRatio(mean(ta as number[]), sa, mean(tb as number[]), sb, f.tolerance);
  Object.assign(f, t, { judged: f.change, verdict: verdictOf(t, ctx.o.alpha) });
}

function errorRates(ctx: Ctx, pairs: Pair[]): void {
  for (const p of pairs) {
    const r = p.a[0]!;
    const scope = { thread: p.thread, stage: r.stage, test: r.test, op: r.op, kind: r.kind };
    const f = blank('errorRate', scope, ctx.o.tolerance(r.test).errorRate, p.a.map((x) => x.errorRate), p.b.map((x) => x.errorRate));
    ctx.findings.push(f);
    const na = p.a.reduce((n, x) => n + x.count, 0);
    const nb = p.b.reduce((n, x) => n + x.count, 0);
    if (Math.min(na, nb) < MIN_ERROR_COUNT) {
      f.note = `fewer than ${MIN_ERROR_COUNT} samples`;
      continue;
    }
    const ea = p.a.reduce((n, x) => n + x.errors, 0);
    const eb = p.b.reduce((n, x) => n + x.errors, 0);
    const t = errorRateTest(ea, na, eb, nb, f.tolerance);
    Object.assign(f, t, { change: eb / nb - ea / na, judged: eb / nb - ea / na, verdict: verdictOf(t, ctx.o.alpha) });
  }
}

/** Per thread: the thread's throughput at each stage, its peak and the load where it broke. */
function threads(ctx: Ctx, names: string[], items: FamilyItem[]): void {
  const tol = ctx.o.tolerance(undefined);
  for (const name of names) {
    const ta = ctx.A.map((r) => threadOf(r, name)!);
    const tb = ctx.B.map((r) => threadOf(r, name)!);
    const stages = Math.min(...[...ta, ...tb].map((t) => t.stages.length));
    for (let s = 0; s < stages; s++) {
      const sa = ta.map((t) => stageThroughput(t.stages[s]!));
      const sb = tb.map((t) => stageThroughput(t.stages[s]!));
      const rate = (x: { tps: number | null }) => x.tps;
      const ok = (xs: Array<number | null>) => (xs.every((x) => x !== null && x > 0) ? (xs as number[]) : undefined);
      const f = blank('tps', { thread: name, stage: s }, tol.throughput, ok(sa.map(rate)), ok(sb.map(rate)));
      ctx.findings.push(f);
      judgeThroughput(ctx, f, sa.map(rate), sb.map(rate), sa.map(count), sb.map(count), items);
    }
    const peak = (t: ThreadSummary) => t.peak?.tps ?? null;
    const pf = blank('peak tps', { thread: name }, tol.throughput, ta.every((t) => t.peak) ? ta.map((t) => t.peak!.tps) : undefined, tb.every((t) => t.peak) ? tb.map((t) => t.peak!.tps) : undefined);
    ctx.findings.push(pf);
    const peakCount = (t: ThreadSummary) => (t.peak ? count(stageThroughput(t.stages[t.peak.stage]!)) : 0);
    judgeThroughput(ctx, pf, ta.map(peak), tb.map(peak), ta.map(peakCount), tb.map(peakCount), items);
    ctx.findings.push(breakLoad(ctx, name, ta, tb));
  }
}

/** The completions a stage's TPS counts: as summary.json states them, else (older summaries) recovered from the rounded TPS. */
const count = (x: { tps: number | null; windowMs: number | null; counted?: number }) => x.counted ?? Math.round(((x.tps ?? 0) * (x.windowMs ?? 0)) / 1000);

/**
 * The load where a thread broke (Infinity: it did not break within the loads run). Flagged only when every
 * contender run broke at a lower load than every baseline run and that separation's exact permutation
 * p (1 / C(nA + nB, nA)) is below alpha.
 */
function breakLoad(ctx: Ctx, name: string, ta: ThreadSummary[], tb: ThreadSummary[]): Finding {
  const at = (t: ThreadSummary) => (t.breaksAt ? t.breaksAt.load ?? t.breaksAt.stage : Infinity);
  const la = ta.map(at);
  const lb = tb.map(at);
  const f = blank('break load', { thread: name }, 0, la, lb);
  f.baseline = median(la);
  f.contender = median(lb);
  f.diff = Number.isFinite(f.baseline) && Number.isFinite(f.contender) ? f.contender - f.baseline : null;
  f.change = f.diff !== null && f.baseline ? f.diff / f.baseline : null;
  f.judged = f.change;
  let ways = 1;
  for (let i = 1; i <= la.length; i++) ways = (ways * (la.length + lb.length - la.length + i)) / i;
  const p = 1 / ways;
  const worse = Math.max(...lb) < Math.min(...la);
  const better = Math.min(...lb) > Math.max(...la);
  f.pWorse = worse ? p : 1;
  f.pBetter = better ? p : 1;
  if (worse || better) {
    f.verdict = p < ctx.o.alpha ? (worse ? 'regression' : 'improvement') : 'insufficient data';
    if (f.verdict === 'insufficient data') f.note = `broke ${worse ? 'earlier' : 'later'} in every run, but ${la.length} + ${lb.length} runs cannot reach p < ${ctx.o.alpha} (p = ${formatNumber(p, 3)})`;
  } else f.verdict = 'within tolerance';
  return f;
}

/**
 * Compares baseline runs with contender runs (one or more each; threads matched by name). With at least
 * two runs a side, differences are judged against the run-to-run spread; otherwise on samples only.
 */
export function compareStats(A: RunStats[], B: RunStats[], o: CompareStatsOptions): StatsResult {
  const ctx: Ctx = { A, B, o, runs: A.length >= 2 && B.length >= 2, findings: [], common: [] };
  const unmatched: string[] = [];
  const names = (side: RunStats[]) => side[0]!.summary.threads.map((t) => t.name).filter((n) => side.every((r) => threadOf(r, n)));
  const inB = new Set(names(B));
  const threadNames = names(A).filter((n) => inB.has(n));
  for (const n of names(A)) if (!inB.has(n)) unmatched.push(`thread ${n}: only in the baseline`);
  for (const n of inB) if (!threadNames.includes(n)) unmatched.push(`thread ${n}: only in the contender`);
  const ka = rowsByKey({ runs: A });
  const kb = rowsByKey({ runs: B });
  const pairs: Pair[] = [];
  for (const [key, a] of ka) {
    const thread = key.split('\u0000')[0]!;
    if (!threadNames.includes(thread)) continue;
    const b = kb.get(key);
    const f = a.find((x) => x)!;
    const what = label({ thread, stage: f.stage, test: f.test, op: f.op, kind: f.kind });
    if (!b) unmatched.push(`${what}: only in the baseline`);
    else if (a.some((x) => !x) || b.some((x) => !x)) unmatched.push(`${what}: missing in some runs`);
    else pairs.push({ key, thread, a: a as SummaryRow[], b: b as SummaryRow[] });
  }
  for (const [key, b] of kb) {
    const f = b.find((x) => x)!;
    const thread = key.split('\u0000')[0]!;
    if (!ka.has(key) && threadNames.includes(thread)) unmatched.push(`${label({ thread, stage: f.stage, test: f.test, op: f.op, kind: f.kind })}: only in the contender`);
  }
  // One throughput family (thread stages, peaks and aggregates): their variances moderate each other.
  const tps: FamilyItem[] = [];
  threads(ctx, threadNames, tps);
  throughputRows(ctx, pairs, tps);
  judgeFamily(tps, -1, o.alpha, false);
  errorRates(ctx, pairs);
  latency(ctx, pairs);
  return { evidence: ctx.runs ? 'runs' : 'samples', findings: ctx.findings, common: ctx.common, unmatched };
}
