/** Statistics used by analysis and compare: a seeded PRNG, reservoirs, the E³ exponential fit, Mann–Whitney, bootstrap. */

import { prng } from '@e3/model';


/** A uniform sample of at most `size` numbers from a stream (Algorithm R). */
export interface Reservoir {
  values: Float64Array;
  /** Values kept (≤ size). */
  length: number;
  /** Values offered. */
  seen: number;
}

export function createReservoir(size: number): Reservoir {
  return { values: new Float64Array(size), length: 0, seen: 0 };
}

export function offer(r: Reservoir, value: number, rand: () => number): void {
  r.seen++;
  if (r.length < r.values.length) {
    r.values[r.length++] = value;
    return;
  }
  const j = Math.floor(rand() * r.seen);
  if (j < r.values.length) r.values[j] = value;
}

export function reservoirValues(r: Reservoir): Float64Array {
  return r.values.subarray(0, r.length);
}

/**
 * Fits y = a + b·e^(c·x) by Jacquelin's integral-equation regression (no iteration, as E³ did).
 * Returns undefined when there are fewer than 3 distinct x values or the system is singular.
 */
export function fitExponential(points: Array<[number, number]>): { a: number; b: number; c: number } | undefined {
  const p = [...points].filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((u, v) => u[0] - v[0]);
  if (new Set(p.map(([x]) => x)).size < 3) return undefined;
  const n = p.length;
  const S = [0];
  for (let k = 1; k < n; k++) S.push(S[k - 1]! + 0.5 * (p[k]![1] + p[k - 1]![1]) * (p[k]![0] - p[k - 1]![0]));
  let sxx = 0, sxs = 0, sss = 0, sxy = 0, ssy = 0;
  for (let k = 0; k < n; k++) {
    const dx = p[k]![0] - p[0]![0];
    const dy = p[k]![1] - p[0]![1];
    sxx += dx * dx;
    sxs += dx * S[k]!;
    sss += S[k]! * S[k]!;
    sxy += dx * dy;
    ssy += S[k]! * dy;
  }
  const det = sxx * sss - sxs * sxs;
  if (Math.abs(det) < 1e-12 * Math.max(1, Math.abs(sxx * sss))) return undefined;
  const c = (sxx * ssy - sxs * sxy) / det;
  if (!Number.isFinite(c) || c === 0) return undefined;
  let st = 0, stt = 0, sy = 0, sty = 0;
  for (const [x, y] of p) {
    const t = Math.exp(c * x);
    st += t;
    stt += t * t;
    sy += y;
    sty += t * y;
  }
  const det2 = n * stt - st * st;
  if (Math.abs(det2) < 1e-12 * Math.max(1, Math.abs(n * stt))) return undefined;
  const a = (stt * sy - st * sty) / det2;
  const b = (n * sty - st * sy) / det2;
  if (![a, b, c].every(Number.isFinite)) return undefined;
  return { a, b, c };
}

/** Points of a fitted curve over [x0, x1]. */
export function fitCurve(fit: { a: number; b: number; c: number }, x0: number, x1: number, steps = 50): Array<{ x: number; y: number }> {
  const out: Array<{ x: number; y: number }> = [];
  for (let i = 0; i <= steps; i++) {
    const x = x0 + ((x1 - x0) * i) / steps;
    out.push({ x, y: fit.a + fit.b * Math.exp(fit.c * x) });
  }
  return out;
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 through erf). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(z) / Math.SQRT2);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/**
 * Two-sided Mann–Whitney U test (normal approximation with tie correction).
 * Returns p and the probability of superiority P(B > A) + ½·P(B = A).
 */
export function mannWhitney(a: ArrayLike<number>, b: ArrayLike<number>): { p: number; u: number; superiority: number } {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { p: 1, u: 0, superiority: 0.5 };
  const all = new Float64Array(n1 + n2);
  const from = new Uint8Array(n1 + n2);
  const idx = new Uint32Array(n1 + n2);
  for (let i = 0; i < n1; i++) all[i] = a[i]!;
  for (let i = 0; i < n2; i++) {
    all[n1 + i] = b[i]!;
    from[n1 + i] = 1;
  }
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  idx.sort((x, y) => all[x]! - all[y]!);
  let rankSumB = 0;
  let tieTerm = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && all[idx[j + 1]!] === all[idx[i]!]) j++;
    const rank = (i + j + 2) / 2;
    const t = j - i + 1;
    if (t > 1) tieTerm += t * t * t - t;
    for (let k = i; k <= j; k++) if (from[idx[k]!]) rankSumB += rank;
    i = j + 1;
  }
  const u = rankSumB - (n2 * (n2 + 1)) / 2;
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { p: 1, u, superiority: 0.5 };
  const z = (Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return { p: Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))), u, superiority: u / (n1 * n2) };
}

export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function sortedCopy(v: ArrayLike<number>): Float64Array {
  return Float64Array.from(v).sort();
}

/** Quantile q of a bootstrap resample of `sorted`, in O(n) by counting drawn indices (no sort). */
function resampleQuantile(sorted: Float64Array, counts: Uint32Array, q: number, rand: () => number): number {
  const n = sorted.length;
  counts.fill(0);
  for (let k = 0; k < n; k++) counts[Math.floor(rand() * n)]!++;
  const target = Math.floor((n - 1) * q) + 1;
  let cum = 0;
  for (let i = 0; i < n; i++) {
    cum += counts[i]!;
    if (cum >= target) return sorted[i]!;
  }
  return sorted[n - 1]!;
}

/**
 * Bootstrap percentile confidence interval of the relative change of a quantile (the median by default)
 * from `a` to `b`: (q(b) − q(a)) / q(a).
 */
export function bootstrapRelativeChange(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: { iterations?: number; confidence?: number; seed?: number; quantile?: number } = {},
): { estimate: number; low: number; high: number } {
  const q = options.quantile ?? 0.5;
  const rand = prng(options.seed ?? 7);
  const it = options.iterations ?? 400;
  const conf = options.confidence ?? 0.95;
  const sa = sortedCopy(a);
  const sb = sortedCopy(b);
  const at = (s: Float64Array) => s[Math.floor((s.length - 1) * q)]!;
  const estimate = (at(sb) - at(sa)) / at(sa);
  const out = new Float64Array(it);
  const ca = new Uint32Array(sa.length);
  const cb = new Uint32Array(sb.length);
  for (let i = 0; i < it; i++) {
    const x = resampleQuantile(sa, ca, q, rand);
    out[i] = (resampleQuantile(sb, cb, q, rand) - x) / x;
  }
  out.sort();
  return { estimate, low: quantile(out, (1 - conf) / 2), high: quantile(out, 1 - (1 - conf) / 2) };
}
