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

/** Per test: request and transaction buckets by second end. */
type TestBuckets = [Map<number, Bucket>, Map<number, Bucket>];

export interface SeriesAcc {
  tests: Map<string, TestBuckets>;
  /** Tests with at least one transaction row (cut included): they count their transactions only. */
  withTx: Set<string>;
}

export function newSeriesAcc(): SeriesAcc {
  return { tests: new Map(), withTx: new Set() };
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
  if (!test) acc.tests.set(row.test, (test = [new Map(), new Map()]));
  const tx = row.kind === 'transaction';
  if (tx && !acc.withTx.has(row.test)) {
    acc.withTx.add(row.test);
    test[0].clear();
  }
  if ((!tx && acc.withTx.has(row.test)) || (!row.ok && row.error === 'cut')) return;
  const t = secondOf(row);
  const seconds = test[tx ? 1 : 0];
  let b = seconds.get(t);
  if (!b) seconds.set(t, (b = { count: 0, errors: 0, chunks: [], used: 0 }));
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
  for (const [test, kinds] of [...acc.tests.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    const seconds = kinds[acc.withTx.has(test) ? 1 : 0];
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
    overall.push(samplePoint(t, parts.length === 1 ? parts[0]! : concat(parts).sort(), errors));
  }
  return { overall, tests };
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
