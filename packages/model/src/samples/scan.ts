import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

import { E3Error } from '../errors/e3-error.js';
import { SAMPLE_COLUMNS, SAMPLES_HEADER, parseSample, type SampleRow } from './codec.js';

const FIELDS = SAMPLE_COLUMNS.length;

/**
 * The fast path of `readSamples` for bulk readers (analysis of millions of rows): calls `visit` for every
 * row of a `samples.csv` file and resolves with the row count. The row object passed to `visit` is
 * REUSED for the next row: copy what you keep. Same checks and errors as `readSamples`
 * (E3_SAMPLES_FORMAT naming file and line, E3_FILE_NOT_FOUND); a last line without its newline is
 * ignored unless `final`. Checks `signal` between chunks.
 */
export async function scanSamples(
  file: string,
  visit: (row: SampleRow) => void,
  options: { final?: boolean; signal?: AbortSignal; chunkBytes?: number } = {},
): Promise<number> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new E3Error('FILE_NOT_FOUND', `${file} does not exist`, { cause: err });
    throw new E3Error('IO', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const bad = (line: number, message: string, text: string) =>
    new E3Error('SAMPLES_FORMAT', `${file}:${line}: ${message}`, {
      hint: `Expected: ${SAMPLES_HEADER}\nReceived (first 200 chars): ${text.slice(0, 200)}`,
    });
  const row: SampleRow = { start: 0, duration: 0, test: '', op: '', kind: 'request', client: 0, iteration: 0, ok: true, status: 0, bytes: 0, ttfb: undefined, intended: undefined, error: undefined };
  const c = new Int32Array(FIELDS - 1);
  const decoder = new StringDecoder('utf8');
  const buf = Buffer.allocUnsafe(options.chunkBytes ?? 4 << 20);
  let rest = '';
  let lineNo = 0;
  let rows = 0;

  const parseLine = (line: string): void => {
    lineNo++;
    if (lineNo === 1) {
      if (line !== SAMPLES_HEADER) throw bad(1, 'not a samples file: the header line differs', line);
      return;
    }
    if (line === '') return;
    if (line.indexOf('"') >= 0) {
      let parsed: SampleRow;
      try {
        parsed = parseSample(line);
      } catch (err) {
        throw bad(lineNo, (err as Error).message, line);
      }
      Object.assign(row, { ttfb: undefined, intended: undefined, error: undefined }, parsed);
      rows++;
      visit(row);
      return;
    }
    let p = -1;
    for (let i = 0; i < FIELDS - 1; i++) {
      p = line.indexOf(',', p + 1);
      if (p < 0) throw bad(lineNo, `expected ${FIELDS} fields, found ${i + 1}`, line);
      c[i] = p;
    }
    if (line.indexOf(',', p + 1) >= 0) throw bad(lineNo, `expected ${FIELDS} fields, found more`, line);
    const kind = line.slice(c[3]! + 1, c[4]);
    if (kind !== 'request' && kind !== 'transaction') throw bad(lineNo, `kind must be request or transaction, found "${kind}"`, line);
    row.start = +line.slice(0, c[0]);
    row.duration = +line.slice(c[0]! + 1, c[1]);
    row.test = line.slice(c[1]! + 1, c[2]);
    row.op = line.slice(c[2]! + 1, c[3]);
    row.kind = kind;
    row.client = +line.slice(c[4]! + 1, c[5]);
    row.iteration = +line.slice(c[5]! + 1, c[6]);
    row.ok = line.charCodeAt(c[6]! + 1) === 49 && c[7]! - c[6]! === 2;
    row.status = +line.slice(c[7]! + 1, c[8]);
    row.bytes = +line.slice(c[8]! + 1, c[9]);
    row.ttfb = c[10]! - c[9]! > 1 ? +line.slice(c[9]! + 1, c[10]) : undefined;
    row.intended = c[11]! - c[10]! > 1 ? +line.slice(c[10]! + 1, c[11]) : undefined;
    row.error = p + 1 < line.length ? line.slice(p + 1) : undefined;
    if (Number.isNaN(row.start + row.duration + row.client + row.iteration + row.status + row.bytes + (row.ttfb ?? 0) + (row.intended ?? 0))) {
      throw bad(lineNo, 'a numeric field is not a number', line);
    }
    rows++;
    visit(row);
  };

  try {
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason;
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      const text = rest + decoder.write(buf.subarray(0, bytesRead));
      let pos = 0;
      for (;;) {
        const nl = text.indexOf('\n', pos);
        if (nl < 0) break;
        parseLine(text.charCodeAt(nl - 1) === 13 ? text.slice(pos, nl - 1) : text.slice(pos, nl));
        pos = nl + 1;
      }
      rest = text.slice(pos);
    }
    rest += decoder.end();
    if (options.final && rest !== '') parseLine(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  } finally {
    await handle.close();
  }
  return rows;
}
