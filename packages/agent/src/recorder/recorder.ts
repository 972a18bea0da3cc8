import * as hdr from 'hdr-histogram-js';
import {
  ERROR_CLASSES,
  createSampleWriter,
  type ErrorClass,
  type ErrorCounts,
  type OpSummary,
  type SampleRow,
  type Tick,
  type TickOp,
} from '@e3/model';

/** Histograms record microseconds from 1 µs to 1 h with 3 significant digits. */
const HIGHEST_US = 3_600_000_000;

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3 });
}

const toUs = (ms: number): number => Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000)));
const toMs = (us: number): number => Math.round(us) / 1000;

interface Series {
  test: string;
  op: string;
  kind: SampleRow['kind'];
  count: number;
  errors: number;
  byClass: ErrorCounts;
  bytes: number;
  sum: number;
  min: number;
  max: number;
  hist: hdr.Histogram;
  tick: { count: number; errors: number; max: number; hist: hdr.Histogram | undefined };
}

export interface Recorder {
  /** Records one sample: streams it to samples.csv and adds it to the summaries. */
  record(row: SampleRow): void;
  /** Rows recorded. */
  readonly count: number;
  /** Closes the current second: returns its tick (every series that ended a sample in it) and starts the next. */
  tick(extra: { t: number; second: number; active: number; arrivals?: number; late?: number; dropped?: number }): Tick;
  /** Per (test, op, kind) summaries sorted by test, kind, op. */
  summaries(): OpSummary[];
  /** Time of the last recorded sample's end (epoch ms), 0 when none. */
  readonly lastEnd: number;
  /** Flushes and closes samples.csv. */
  close(): Promise<void>;
}

/** Adds the current second's timings into the stage histogram and empties the second's. */
function mergeTick(s: Series): void {
  const h = s.tick.hist;
  if (!h || h.totalCount === 0) return;
  s.hist.add(h);
  h.reset();
}

const zeroCounts = (): ErrorCounts => ({ http: 0, git: 0, exception: 0, timeout: 0, check: 0, cut: 0 });

/** The error class of a row: the first word of its `error`, `exception` when unknown. */
export function errorClassOf(row: SampleRow): ErrorClass | undefined {
  if (row.ok) return undefined;
  const word = (row.error ?? 'exception').split(/[\s:]/, 1)[0] as ErrorClass;
  return (ERROR_CLASSES as readonly string[]).includes(word) ? word : 'exception';
}

/** The recorder hands its buffered rows to samples.csv this often (ms): twice a second, so a killed agent loses less than its last second of rows. */
export const SAMPLES_FLUSH_MS = 500;

/**
 * Opens the stage recorder on `samplesFile`. Writes are buffered by the model's sample writer and handed
 * to the file when 256 KiB are buffered and every `flushMs` (default SAMPLES_FLUSH_MS), so `kill -9`
 * loses at most the rows of the last `flushMs`. A full disk surfaces at `close()` as E3_IO.
 */
export async function createRecorder(samplesFile: string, options: { flushMs?: number } = {}): Promise<Recorder> {
  const writer = await createSampleWriter(samplesFile, { bufferBytes: 256 * 1024 });
  const flusher = setInterval(() => writer.flush(), options.flushMs ?? SAMPLES_FLUSH_MS);
  flusher.unref();
  // kind → test → op → series: lookups without building a key string per sample.
  const series = { request: new Map<string, Map<string, Series>>(), transaction: new Map<string, Map<string, Series>>() };
  const all: Series[] = [];
  let count = 0;
  let lastEnd = 0;

  const get = (row: SampleRow): Series => {
    const byTest = series[row.kind];
    let byOp = byTest.get(row.test);
    if (!byOp) byTest.set(row.test, (byOp = new Map()));
    let s = byOp.get(row.op);
    if (!s) {
      s = {
        test: row.test, op: row.op, kind: row.kind, count: 0, errors: 0, byClass: zeroCounts(), bytes: 0,
        sum: 0, min: Infinity, max: 0, hist: newHistogram(), tick: { count: 0, errors: 0, max: 0, hist: undefined },
      };
      byOp.set(row.op, s);
      all.push(s);
    }
    return s;
  };

  return {
    record(row) {
      count++;
      // Never waits: while the disk is behind, rows wait in the writer's memory.
      void writer.write(row);
      const s = get(row);
      s.count++;
      s.bytes += row.bytes;
      s.tick.count++;
      const cls = errorClassOf(row);
      if (cls) {
        s.byClass[cls]++;
        if (cls !== 'cut') {
          s.errors++;
          s.tick.errors++;
        }
      }
      const end = row.start + row.duration;
      if (end > lastEnd) lastEnd = end;
      if (cls === 'cut') return;
      // Recorded once, in the second's histogram; each tick adds that into the stage's.
      (s.tick.hist ??= newHistogram()).recordValue(toUs(row.duration));
      s.sum += row.duration;
      if (row.duration < s.min) s.min = row.duration;
      if (row.duration > s.max) s.max = row.duration;
      if (row.duration > s.tick.max) s.tick.max = row.duration;
    },
    get count() {
      return count;
    },
    get lastEnd() {
      return lastEnd;
    },
    tick(extra) {
      const ops: TickOp[] = [];
      for (const s of all) {
        if (s.tick.count === 0) continue;
        const h = s.tick.hist;
        ops.push({
          test: s.test, op: s.op, kind: s.kind, count: s.tick.count, errors: s.tick.errors,
          p50: h ? toMs(h.getValueAtPercentile(50)) : 0,
          p95: h ? toMs(h.getValueAtPercentile(95)) : 0,
          p99: h ? toMs(h.getValueAtPercentile(99)) : 0,
          max: s.tick.max,
          ...(h ? { histogram: hdr.encodeIntoCompressedBase64(h) } : {}),
        });
        s.tick.count = 0;
        s.tick.errors = 0;
        s.tick.max = 0;
        mergeTick(s);
      }
      const tick: Tick = { t: extra.t, second: extra.second, active: extra.active, ops };
      if (extra.arrivals !== undefined) tick.arrivals = extra.arrivals;
      if (extra.late !== undefined) tick.late = extra.late;
      if (extra.dropped !== undefined) tick.dropped = extra.dropped;
      return tick;
    },
    summaries() {
      const out: OpSummary[] = [];
      for (const s of all) {
        mergeTick(s);
        const timed = s.hist.totalCount;
        out.push({
          test: s.test, op: s.op, kind: s.kind, count: s.count, errors: s.errors, errorsByClass: { ...s.byClass },
          bytes: s.bytes,
          min: timed ? s.min : 0,
          mean: timed ? Math.round((s.sum / timed) * 1000) / 1000 : 0,
          p50: timed ? toMs(s.hist.getValueAtPercentile(50)) : 0,
          p90: timed ? toMs(s.hist.getValueAtPercentile(90)) : 0,
          p95: timed ? toMs(s.hist.getValueAtPercentile(95)) : 0,
          p99: timed ? toMs(s.hist.getValueAtPercentile(99)) : 0,
          max: s.max,
          histogram: hdr.encodeIntoCompressedBase64(s.hist),
        });
      }
      return out.sort((a, b) => a.test.localeCompare(b.test) || a.kind.localeCompare(b.kind) || a.op.localeCompare(b.op));
    },
    async close() {
      clearInterval(flusher);
      await writer.close();
    },
  };
}
