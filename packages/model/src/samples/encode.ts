import type { SampleRow } from './codec.js';

/** Text fields (test, op, kind) as CSV bytes, kept per distinct value up to this many values. */
const MAX_CACHED_FIELDS = 10_000;
/** Room a row needs besides its text fields: eight numbers, separators, newline. */
const ROW_NUMBERS_BYTES = 8 * 24 + 16;
const COMMA = 44;
const NEEDS_QUOTES = /[",\n\r]/;
const NEWLINE = 10;

/** A CSV field: quoted when it holds a quote, comma or line break. */
function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Encodes sample rows as `samples.csv` lines straight into byte buffers, without building a string per
 * row: numbers are written digit by digit (at most three decimals, no trailing zeros), text fields are
 * encoded once per distinct value, an error's line breaks become spaces. Full buffers go to `emit`,
 * which takes ownership of them.
 */
export class SampleEncoder {
  private buf: Buffer;
  private pos = 0;
  private readonly fields = new Map<string, Buffer>();
  private readonly size: number;
  private readonly emit: (chunk: Buffer) => void;

  constructor(size: number, emit: (chunk: Buffer) => void) {
    this.size = size;
    this.emit = emit;
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  /** Appends raw text (the header). */
  text(value: string): void {
    this.ensure(Buffer.byteLength(value));
    this.pos += this.buf.write(value, this.pos, 'utf8');
  }

  row(row: SampleRow): void {
    const test = this.field(row.test);
    const op = this.field(row.op);
    const kind = this.field(row.kind);
    const error = row.error === undefined ? undefined : csvField(row.error.replace(/[\r\n]+/g, ' '));
    this.ensure(ROW_NUMBERS_BYTES + test.length + op.length + kind.length + (error === undefined ? 0 : Buffer.byteLength(error)));
    this.num(row.start);
    this.byte(COMMA);
    this.num(row.duration);
    this.byte(COMMA);
    this.bytes(test);
    this.byte(COMMA);
    this.bytes(op);
    this.byte(COMMA);
    this.bytes(kind);
    this.byte(COMMA);
    this.num(row.client);
    this.byte(COMMA);
    this.num(row.iteration);
    this.byte(COMMA);
    this.byte(row.ok ? 49 : 48);
    this.byte(COMMA);
    this.num(row.status);
    this.byte(COMMA);
    this.num(row.bytes);
    this.byte(COMMA);
    if (row.ttfb !== undefined) this.num(row.ttfb);
    this.byte(COMMA);
    if (row.intended !== undefined) this.num(row.intended);
    this.byte(COMMA);
    if (error !== undefined) this.pos += this.buf.write(error, this.pos, 'utf8');
    this.byte(NEWLINE);
  }

  /** Hands the bytes written so far to `emit` and starts a new buffer. */
  flush(): void {
    if (this.pos === 0) return;
    const full = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafeSlow(this.size);
    this.pos = 0;
    this.emit(full);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafeSlow(n);
  }

  private field(value: string): Buffer {
    let bytes = this.fields.get(value);
    if (!bytes) {
      if (this.fields.size >= MAX_CACHED_FIELDS) this.fields.clear();
      bytes = Buffer.from(csvField(value), 'utf8');
      this.fields.set(value, bytes);
    }
    return bytes;
  }

  private byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  private bytes(src: Buffer): void {
    const n = src.length;
    if (n > 32) {
      src.copy(this.buf, this.pos);
    } else {
      const buf = this.buf;
      const at = this.pos;
      for (let i = 0; i < n; i++) buf[at + i] = src[i]!;
    }
    this.pos += n;
  }

  /** A number with at most three decimals and no trailing zeros; beyond 1e15 (and NaN) as JavaScript writes it. */
  private num(n: number): void {
    const abs = Math.abs(n);
    if (!(abs < 1e15)) {
      const text = Number.isInteger(n) || !Number.isFinite(n) ? String(n) : n.toFixed(3).replace(/\.?0+$/, '');
      this.pos += this.buf.write(text, this.pos, 'latin1');
      return;
    }
    let whole = Math.floor(abs);
    let thousandths = Math.round((abs - whole) * 1000);
    if (thousandths === 1000) {
      whole++;
      thousandths = 0;
    }
    if (n < 0 && (whole !== 0 || thousandths !== 0)) this.byte(45);
    this.digits(whole);
    if (thousandths !== 0) {
      this.byte(46);
      const d1 = Math.floor(thousandths / 100);
      const d2 = Math.floor(thousandths / 10) % 10;
      const d3 = thousandths % 10;
      this.byte(48 + d1);
      if (d2 !== 0 || d3 !== 0) this.byte(48 + d2);
      if (d3 !== 0) this.byte(48 + d3);
    }
  }

  /** A non-negative integer below 1e15. */
  private digits(v: number): void {
    const buf = this.buf;
    let len = 1;
    for (let p = 10; p <= v; p *= 10) len++;
    let at = this.pos + len;
    this.pos = at;
    do {
      const q = Math.floor(v / 10);
      buf[--at] = 48 + (v - q * 10);
      v = q;
    } while (v > 0);
  }
}
