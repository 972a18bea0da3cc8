import { open } from 'node:fs/promises';

import { E3Error } from '../errors/e3-error.js';
import { SAMPLE_COLUMNS, SAMPLES_HEADER, parseSample, sampleRangeProblem, type SampleRow } from './codec.js';

const FIELDS = SAMPLE_COLUMNS.length;
const COMMA = 44;
const NL = 10;
const CR = 13;
const QUOTE = 34;
const HEADER = Buffer.from(SAMPLES_HEADER);

/**
 * Parses a decimal number (optional sign, digits, optional fraction) from bytes. The value is the exact
 * integer `digits` divided by a power of ten, so it is correctly rounded, like Number(text). Anything else
 * (exponents, huge values) goes through Number.
 */
function parseNumber(buf: Buffer, from: number, to: number): number {
  if (from >= to) return 0; // like Number('')
  let i = from;
  const neg = buf[i] === 45;
  if (neg) i++;
  let n = 0;
  let scale = 1;
  let digits = 0;
  while (i < to) {
    const b = buf[i]! - 48;
    if (b < 0 || b > 9) break;
    n = n * 10 + b;
    i++;
    digits++;
  }
  if (i < to && buf[i] === 46) {
    i++;
    while (i < to) {
      const b = buf[i]! - 48;
      if (b < 0 || b > 9) break;
      n = n * 10 + b;
      scale *= 10;
      i++;
      digits++;
    }
  }
  if (i !== to || digits === 0 || n > Number.MAX_SAFE_INTEGER) return Number(buf.toString('latin1', from, to));
  const v = scale === 1 ? n : n / scale;
  return neg ? -v : v;
}

function sameBytes(a: Uint8Array, buf: Uint8Array, from: number, to: number): boolean {
  if (a.length !== to - from) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[from + i]) return false;
  return true;
}

/**
 * Interns short byte strings (test and op names repeat on every row): a hash over the bytes picks the
 * candidates, a byte comparison confirms, so a row allocates no string for them.
 */
function interner(): (buf: Buffer, from: number, to: number) => string {
  const table = new Map<number, Array<{ bytes: Uint8Array; value: string }>>();
  const recent: Array<{ bytes: Uint8Array; value: string }> = [];
  return (buf, from, to) => {
    for (let r = 0; r < recent.length; r++) {
      const e = recent[r]!;
      if (sameBytes(e.bytes, buf, from, to)) return e.value;
    }
    let h = 0x811c9dc5;
    for (let i = from; i < to; i++) h = Math.imul(h ^ buf[i]!, 16777619);
    h = (h ^ (to - from)) >>> 0;
    let bucket = table.get(h);
    let entry = bucket?.find((e) => sameBytes(e.bytes, buf, from, to));
    if (!entry) {
      if (!bucket) table.set(h, (bucket = []));
      entry = { bytes: Uint8Array.prototype.slice.call(buf, from, to), value: buf.toString('utf8', from, to) };
      bucket.push(entry);
    }
    if (recent.length >= 8) recent.pop();
    recent.unshift(entry);
    return entry.value;
  };
}

/**
 * The fast path of `readSamples` for bulk readers (analysis of millions of rows): calls `visit` for every
 * row of a `samples.csv` file and resolves with the row count. It parses bytes directly and interns test
 * and op names. The row object passed to `visit` is REUSED for the next row: copy what you keep. Same
 * checks and errors as `readSamples` (E3_SAMPLES_FORMAT naming file and line, E3_FILE_NOT_FOUND); a last
 * line without its newline is ignored unless `final`. Checks `signal` between chunks.
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
  const internTest = interner();
  const internOp = interner();
  const c = new Int32Array(FIELDS - 1);
  const chunk = Math.max(64, options.chunkBytes ?? 4 << 20);
  let buf = Buffer.allocUnsafe(chunk);
  let filled = 0;
  let scanned = 0;
  let lineNo = 0;
  let rows = 0;

  /** One line: bytes [from, to) of buf, without the newline. */
  const parseLine = (buf: Buffer, from: number, to: number): void => {
    lineNo++;
    if (to > from && buf[to - 1] === CR) to--;
    if (lineNo === 1) {
      if (!sameBytes(HEADER, buf, from, to)) {
        throw bad(1, 'not a samples file: the header line differs', buf.toString('utf8', from, to));
      }
      return;
    }
    if (to === from) return;
    let quoted = false;
    let found = 0;
    for (let i = from; i < to; i++) {
      const b = buf[i]!;
      if (b === COMMA) {
        if (found < FIELDS - 1) c[found] = i;
        found++;
      } else if (b === QUOTE) {
        quoted = true;
        break;
      }
    }
    if (quoted) {
      const text = buf.toString('utf8', from, to);
      let parsed: SampleRow;
      try {
        parsed = parseSample(text);
      } catch (err) {
        throw bad(lineNo, (err as Error).message, text);
      }
      Object.assign(row, { ttfb: undefined, intended: undefined, error: undefined }, parsed);
      rows++;
      visit(row);
      return;
    }
    if (found !== FIELDS - 1) throw bad(lineNo, `expected ${FIELDS} fields, found ${found + 1}`, buf.toString('utf8', from, to));
    const p = c[FIELDS - 2]!;
    const k0 = c[3]! + 1;
    const klen = c[4]! - k0;
    let kind: SampleRow['kind'];
    if (klen === 7 && sameBytes(KIND_REQUEST, buf, k0, c[4]!)) kind = 'request';
    else if (klen === 11 && sameBytes(KIND_TRANSACTION, buf, k0, c[4]!)) kind = 'transaction';
    else throw bad(lineNo, `kind must be request or transaction, found "${buf.toString('utf8', k0, c[4])}"`, buf.toString('utf8', from, to));
    row.start = parseNumber(buf, from, c[0]!);
    row.duration = parseNumber(buf, c[0]! + 1, c[1]!);
    row.test = internTest(buf, c[1]! + 1, c[2]!);
    row.op = internOp(buf, c[2]! + 1, c[3]!);
    row.kind = kind;
    row.client = parseNumber(buf, c[4]! + 1, c[5]!);
    row.iteration = parseNumber(buf, c[5]! + 1, c[6]!);
    row.ok = c[7]! - c[6]! === 2 && buf[c[6]! + 1] === 49;
    row.status = parseNumber(buf, c[7]! + 1, c[8]!);
    row.bytes = parseNumber(buf, c[8]! + 1, c[9]!);
    row.ttfb = c[10]! - c[9]! > 1 ? parseNumber(buf, c[9]! + 1, c[10]!) : undefined;
    row.intended = c[11]! - c[10]! > 1 ? parseNumber(buf, c[10]! + 1, c[11]!) : undefined;
    row.error = p + 1 < to ? buf.toString('utf8', p + 1, to) : undefined;
    if (Number.isNaN(row.start + row.duration + row.client + row.iteration + row.status + row.bytes + (row.ttfb ?? 0) + (row.intended ?? 0))) {
      throw bad(lineNo, 'a numeric field is not a number', buf.toString('utf8', from, to));
    }
    const problem = sampleRangeProblem(row);
    if (problem) throw bad(lineNo, problem, buf.toString('utf8', from, to));
    rows++;
    visit(row);
  };

  try {
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (filled === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, filled, buf.length - filled, null);
      if (bytesRead === 0) break;
      const end = filled + bytesRead;
      let pos = 0;
      for (let i = buf.indexOf(NL, scanned); i >= 0 && i < end; i = buf.indexOf(NL, i + 1)) {
        parseLine(buf, pos, i);
        pos = i + 1;
      }
      buf.copy(buf, 0, pos, end);
      filled = end - pos;
      scanned = filled;
    }
    if (options.final && filled > 0) parseLine(buf, 0, filled);
  } finally {
    await handle.close();
  }
  return rows;
}

const KIND_REQUEST = Buffer.from('request');
const KIND_TRANSACTION = Buffer.from('transaction');
