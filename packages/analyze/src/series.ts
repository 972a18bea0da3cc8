/** Per-second completions of one thread-stage from its samples (every worker), with exact percentiles. */
import type { SampleRow } from '@e3/model';

/** One second from the samples: a test's counted samples, or every test's (`*`). Durations in ms. */
export interface SamplePoint {
  /** End of the second, epoch ms: the second holds the samples that ended in (t − 1000, t]. */
  t: number;
  /** Counted samples (cut ones excluded) that ended in the second, ok or failed. */
  completions: number;
  errors: number;
  /** Nearest-rank percentiles of the durations of those completions. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** A thread-stage's series: every test (`overall`) and per test, each sorted by second. */
export interface StageSeries {
  overall: SamplePoint[];
  tests: Record<string, SamplePoint[]>;
}

const FIRST_CHUNK = 64;
const MAX_CHUNK = 1 << 16;

/** Durations of one (second, test, kind) in Float64Array chunks (each twice the previous, up to 64 Ki). */
interface Bucket {
  count: number;
  errors: number;
  chunks: Float64Array[];
  /** Values used in the last chunk. */
  used: number;
}

/** Per test: the counted kind's buckets by second end, and the last bucket used (rows come mostly in order). */
interface TestBuckets {
  /** At least one transaction row (cut included): the test counts its transactions only. */
  withTx: boolean;
  seconds: Map<number, Bucket>;
  lastT: number;
  last: Bucket | undefined;
}

export interface SeriesAcc {
  tests: Map<string, TestBuckets>;
}

export function newSeriesAcc(): SeriesAcc {
  return { tests: new Map() };
}

/** The end of the second a sample ended in: its end is `(intended ?? start) + duration`, as the aggregate's. */
function secondOf(row: SampleRow): number {
  return Math.ceil(((row.intended ?? row.start) + row.duration) / 1000) * 1000;
}

function push(b: Bucket, d: number): void {
  let last = b.chunks[b.chunks.length - 1];
  if (!last || b.used === last.length) {
    b.chunks.push((last = new Float64Array(last ? Math.min(last.length * 2, MAX_CHUNK) : FIRST_CHUNK)));
    b.used = 0;
  }
  last[b.used++] = d;
}

/**
 * Adds a sample of the stage. A test's counted samples are its transactions, or its requests while it has
 * recorded no transaction (its request durations are dropped at its first transaction). Cut samples
 * only mark the test as having transactions.
 */
export function addSample(acc: SeriesAcc, row: SampleRow): void {
  let test = acc.tests.get(row.test);
  if (!test) acc.tests.set(row.test, (test = { withTx: false, seconds: new Map(), lastT: NaN, last: undefined }));
  const tx = row.kind === 'transaction';
  if (tx && !test.withTx) {
    test.withTx = true;
    test.seconds.clear();
    test.last = undefined;
    test.lastT = NaN;
  }
  if (tx !== test.withTx || (!row.ok && row.error === 'cut')) return;
  const t = secondOf(row);
  let b = test.lastT === t ? test.last! : test.seconds.get(t);
  if (!b) test.seconds.set(t, (b = { count: 0, errors: 0, chunks: [], used: 0 }));
  test.lastT = t;
  test.last = b;
  b.count++;
  if (!row.ok) b.errors++;
  push(b, row.duration);
}

function sortedValues(b: Bucket): Float64Array {
  const out = new Float64Array(b.count);
  let at = 0;
  for (const [i, c] of b.chunks.entries()) {
    const n = i === b.chunks.length - 1 ? b.used : c.length;
    out.set(n === c.length ? c : c.subarray(0, n), at);
    at += n;
  }
  b.chunks = [];
  return out.sort();
}

/** Nearest rank: the smallest value with at least p % of the values at or below it. */
export function nearestRank(sorted: Float64Array, p: number): number {
  return sorted[Math.max(0, Math.ceil((p * sorted.length) / 100) - 1)]!;
}

function samplePoint(t: number, sorted: Float64Array, errors: number): SamplePoint {
  return {
    t, completions: sorted.length, errors,
    p50: nearestRank(sorted, 50), p95: nearestRank(sorted, 95), p99: nearestRank(sorted, 99), max: sorted[sorted.length - 1]!,
  };
}

/** The stage's series; empties the accumulator as it goes (one second's durations copied at a time). */
export function finishSeries(acc: SeriesAcc): StageSeries {
  const counted = new Map<string, Map<number, Bucket>>();
  for (const [test, { seconds }] of [...acc.tests.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (seconds.size) counted.set(test, seconds);
  }
  acc.tests.clear();
  const secondsAll = [...new Set([...counted.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const tests: Record<string, SamplePoint[]> = Object.fromEntries([...counted.keys()].map((k) => [k, []]));
  const overall: SamplePoint[] = [];
  for (const t of secondsAll) {
    const parts: Float64Array[] = [];
    let errors = 0;
    for (const [test, seconds] of counted) {
      const b = seconds.get(t);
      if (!b) continue;
      seconds.delete(t);
      const sorted = sortedValues(b);
      tests[test]!.push(samplePoint(t, sorted, b.errors));
      parts.push(sorted);
      errors += b.errors;
    }
    overall.push(samplePoint(t, mergeSorted(parts), errors));
  }
  return { overall, tests };
}

/** One sorted array of sorted arrays, merged in pairs. */
function mergeSorted(parts: Float64Array[]): Float64Array {
  while (parts.length > 1) {
    const next: Float64Array[] = [];
    for (let i = 0; i < parts.length; i += 2) next.push(i + 1 < parts.length ? merge2(parts[i]!, parts[i + 1]!) : parts[i]!);
    parts = next;
  }
  return parts[0]!;
}

function merge2(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}
