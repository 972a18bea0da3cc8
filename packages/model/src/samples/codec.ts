import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

import { E3Error } from '../errors/e3-error.js';
import { SAMPLE_COLUMNS, type SampleRow } from '../schemas/sample-row.js';
import { SampleEncoder } from './encode.js';

export { SAMPLE_COLUMNS, type SampleRow } from '../schemas/sample-row.js';

/** Largest duration (and ttfb) a row may hold, ms: about 11.6 days, far beyond any stage. */
export const MAX_SAMPLE_DURATION_MS = 1e9;
/** Largest start (and intended) a row may hold, epoch ms: the year 5138. */
export const MAX_SAMPLE_EPOCH_MS = 1e14;

/**
 * Why a parsed row's numbers cannot be trusted, or undefined: times finite and ≥ 0,
 * start and intended ≤ MAX_SAMPLE_EPOCH_MS, duration and ttfb ≤ MAX_SAMPLE_DURATION_MS; client,
 * iteration, status (-1: none) and bytes finite.
 */
export function sampleRangeProblem(row: SampleRow): string | undefined {
  const { start, duration } = row;
  if (!(start >= 0 && start <= MAX_SAMPLE_EPOCH_MS)) return `start ${start} is not an epoch time in ms (0 to ${MAX_SAMPLE_EPOCH_MS})`;
  if (!(duration >= 0 && duration <= MAX_SAMPLE_DURATION_MS)) return `duration ${duration} is not a duration in ms (0 to ${MAX_SAMPLE_DURATION_MS})`;
  if (row.ttfb !== undefined && !(row.ttfb >= 0 && row.ttfb <= MAX_SAMPLE_DURATION_MS)) return `ttfb ${row.ttfb} is not a duration in ms (0 to ${MAX_SAMPLE_DURATION_MS})`;
  if (row.intended !== undefined && !(row.intended >= 0 && row.intended <= MAX_SAMPLE_EPOCH_MS)) return `intended ${row.intended} is not an epoch time in ms (0 to ${MAX_SAMPLE_EPOCH_MS})`;
  if (!Number.isFinite(row.client + row.iteration + row.status + row.bytes)) return 'client, iteration, status and bytes must be finite';
  return undefined;
}
export const SAMPLES_HEADER = SAMPLE_COLUMNS.join(',');

export interface SampleWriter {
  /**
   * Appends a row. Returns a promise only when the file is far behind (several buffers queued); callers
   * that can wait should, callers that cannot (a live recorder) may go on and the rows wait in memory.
   */
  write(row: SampleRow): Promise<void> | void;
  /** Rows written so far. */
  readonly count: number;
  /** Hands the buffered rows to the file now (the agent calls it every second); the write itself is asynchronous. */
  flush(): void;
  /** Flushes the buffer and closes the file; a write that failed earlier surfaces here as E3_IO. */
  close(): Promise<void>;
}

/** Opens a streaming `samples.csv` writer (header first). Rows are buffered and written in large chunks. */
export async function createSampleWriter(file: string, options: { bufferBytes?: number } = {}): Promise<SampleWriter> {
  await mkdir(dirname(file), { recursive: true });
  const limit = options.bufferBytes ?? 64 * 1024;
  const stream: WriteStream = createWriteStream(file, { flags: 'w', highWaterMark: limit });
  let count = 0;
  let failure: Error | undefined;
  let drained: Promise<void> | undefined;
  stream.on('error', (err) => (failure = err));
  let chunks = 0;
  const encoder = new SampleEncoder(limit, (chunk) => {
    chunks++;
    if (!failure) stream.write(chunk);
  });
  encoder.text(SAMPLES_HEADER + '\n');
  const behind = (): Promise<void> | void => {
    if (stream.writableLength < 4 * limit) return;
    drained ??= new Promise((resolve) => stream.once('drain', () => ((drained = undefined), resolve())));
    return drained;
  };

  return {
    write(row) {
      const before = chunks;
      encoder.row(row);
      count++;
      if (chunks !== before) return behind();
    },
    get count() {
      return count;
    },
    flush() {
      encoder.flush();
    },
    async close() {
      encoder.flush();
      await new Promise<void>((resolve) => stream.end(() => resolve()));
      if (failure) throw new E3Error('IO', `could not write ${file}: ${failure.message}`, { cause: failure });
    },
  };
}

function splitQuoted(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted field');
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(value);
      if (i < line.length && line[i] !== ',') throw new Error('text after a quoted field');
      i++;
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

/** Parses one CSV line (no newline) into a row; throws a plain Error describing what is wrong. */
export function parseSample(line: string): SampleRow {
  const f = line.indexOf('"') < 0 ? line.split(',') : splitQuoted(line);
  if (f.length !== SAMPLE_COLUMNS.length) throw new Error(`expected ${SAMPLE_COLUMNS.length} fields, found ${f.length}`);
  const kind = f[4];
  if (kind !== 'request' && kind !== 'transaction') throw new Error(`kind must be request or transaction, found "${kind}"`);
  const ttfb = f[10] === '' ? undefined : Number(f[10]);
  const intended = f[11] === '' ? undefined : Number(f[11]);
  // Every property is always set (undefined when blank) so all rows share one shape.
  const row: SampleRow = {
    start: Number(f[0]),
    duration: Number(f[1]),
    test: f[2]!,
    op: f[3]!,
    kind,
    client: Number(f[5]),
    iteration: Number(f[6]),
    ok: f[7] === '1',
    status: Number(f[8]),
    bytes: Number(f[9]),
    ttfb,
    intended,
    error: f[12] === '' ? undefined : f[12],
  };
  if (Number.isNaN(row.start + row.duration + row.client + row.iteration + row.status + row.bytes + (ttfb ?? 0) + (intended ?? 0))) {
    throw new Error('a numeric field is not a number');
  }
  const problem = sampleRangeProblem(row);
  if (problem) throw new Error(problem);
  return row;
}

/**
 * Streams the rows of a `samples.csv` file as objects, one by one. Throws E3_SAMPLES_FORMAT naming the
 * file and line on a bad header or row. A last line without its newline (a file still being written) is
 * ignored unless `final`. For aggregation over millions of rows use `scanSamples`, which parses bytes.
 */
export async function* readSamples(file: string, options: { final?: boolean } = {}): AsyncGenerator<SampleRow> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let rest = '';
  let lineNo = 0;
  const parse = (line: string): SampleRow | undefined => {
    lineNo++;
    if (lineNo === 1) {
      if (line !== SAMPLES_HEADER) throw bad(file, 1, 'not a samples file: the header line differs', line);
      return undefined;
    }
    if (line === '') return undefined;
    try {
      return parseSample(line);
    } catch (err) {
      throw bad(file, lineNo, (err as Error).message, line);
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const row = parse(line.endsWith('\r') ? line.slice(0, -1) : line);
        if (row) yield row;
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new E3Error('FILE_NOT_FOUND', `${file} does not exist`, { cause: err });
    throw err;
  }
  if (options.final && rest !== '') {
    const row = parse(rest);
    if (row) yield row;
  }
}

function bad(file: string, line: number, message: string, text: string): E3Error {
  return new E3Error('SAMPLES_FORMAT', `${file}:${line}: ${message}`, {
    hint: `Expected: ${SAMPLES_HEADER}\nReceived (first 200 chars): ${text.slice(0, 200)}`,
  });
}
