import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

import { now } from '../recorder/sink.js';

/** An HTTP/1.1 exchange's outcome. */
export interface RawResponse {
  status: number;
  /** The response head: status line and header fields (see parseHeaders). */
  head: string;
  /** `Set-Cookie` values. */
  setCookie?: string[];
  location?: string;
  /** Body bytes as received (copies), undefined when there were none. */
  body: Buffer[] | undefined;
  bytes: number;
  /** Epoch ms when the response head was complete. */
  headAt: number;
}

/** A failure of the exchange itself (no response): `code` is a Node error code or `E3_HTTP_TIMEOUT`. */
export class HttpTransportError extends Error {
  override readonly name = 'HttpTransportError';
  readonly code: string;
  /** True when a reused connection failed before any response byte (a retry is safe for idempotent methods). */
  readonly beforeResponse: boolean;
  /** What had arrived when the exchange failed: the status and head time (0 before the head) and body bytes. */
  partial = { status: 0, headAt: 0, bytes: 0 };
  constructor(code: string, message: string, beforeResponse = false) {
    super(message);
    this.code = code;
    this.beforeResponse = beforeResponse;
  }
}

/** Where a connection goes. */
export interface Endpoint {
  secure: boolean;
  /** TLS: refuse a certificate that does not verify (default true). */
  rejectUnauthorized?: boolean;
  host: string;
  port: number;
}

const MAX_HEAD = 64 * 1024;
/** Plain connections read into this one buffer (no allocation per read); what is kept is copied out. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** Idle keep-alive connections are dropped this long before the server's announced `Keep-Alive: timeout`. */
const KEEP_ALIVE_MARGIN_MS = 1000;
/** Idle lifetime when the server announces none. */
const DEFAULT_IDLE_MS = 4000;

/** Parser states. */
const IDLE = 0;
const HEAD = 1;
const LENGTH = 2;
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const CHUNK_END = 5;
const TRAILERS = 6;
const UNTIL_CLOSE = 7;

/**
 * One HTTP/1.1 connection carrying one exchange at a time (no pipelining). Parses status line and headers,
 * then a body framed by Content-Length, chunked transfer coding, or the connection's end. A connection is
 * reusable when its last response kept it alive and nothing arrived beyond that response.
 */
export class Connection {
  private readonly socket: Socket;
  private state: number = IDLE;
  private method = '';
  private pending: Buffer | undefined;
  private remaining = 0;
  private line = '';
  private res: RawResponse | undefined;
  private resolve: ((res: RawResponse) => void) | undefined;
  private reject: ((err: Error) => void) | undefined;
  /** The exchange's timeout; `deadline` moves with every byte of the body. */
  private timeoutMs = 0;
  private deadline = 0;
  /** Armed at most once per timeout period, not per exchange: when it fires early it re-arms for the rest. */
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  private keepAlive = false;
  private received = false;
  /** Exchanges this connection has completed. */
  uses = 0;
  closed = false;
  /** Epoch ms after which an idle connection must not be reused. */
  idleUntil = 0;

  private readonly onClose: (conn: Connection) => void;

  constructor(endpoint: Endpoint, onClose: (conn: Connection) => void) {
    this.onClose = onClose;
    const { host, port } = endpoint;
    if (endpoint.secure) {
      const rejectUnauthorized = endpoint.rejectUnauthorized ?? true;
      this.socket = tlsConnect({ host, port, rejectUnauthorized, ...(isIP(host) ? {} : { servername: host }), ALPNProtocols: ['http/1.1'] });
      this.socket.on('data', (chunk: Buffer) => this.onData(chunk, chunk.length));
    } else {
      const onread = { buffer: READ_BUFFER, callback: (n: number) => (this.onData(READ_BUFFER, n), true) };
      this.socket = netConnect({ host, port, onread });
    }
    this.socket.setNoDelay(true);
    this.socket.on('end', () => this.onEnd());
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.fail(new HttpTransportError(err.code ?? 'ECONNRESET', err.message, !this.received && this.uses > 0)));
    this.socket.on('close', () => {
      this.closed = true;
      if (this.state !== IDLE) this.fail(new HttpTransportError('ECONNRESET', 'the server closed the connection before the response ended', !this.received && this.uses > 0));
      this.onClose(this);
    });
  }

  get busy(): boolean {
    return this.state !== IDLE;
  }

  /**
   * Sends one request (`head` ends with the blank line) and resolves with the whole response. The timeout
   * bounds the wait for the head and every pause in the body.
   */
  exchange(method: string, head: string, body: string | undefined, timeoutMs: number): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.method = method;
      this.state = HEAD;
      this.received = false;
      this.res = { status: 0, head: '', body: undefined, bytes: 0, headAt: 0 };
      this.arm(timeoutMs);
      if (body === undefined) this.socket.write(head, 'latin1');
      else {
        this.socket.cork();
        this.socket.write(head, 'latin1');
        this.socket.write(body, 'utf8');
        this.socket.uncork();
      }
    });
  }

  /** Ends the connection and fails its exchange, if any, with `err`. */
  destroy(err?: Error): void {
    if (err) this.fail(err);
    this.closed = true;
    clearTimeout(this.timer);
    this.socket.destroy();
  }

  /** Starts the exchange's timeout. */
  private arm(ms: number): void {
    this.timeoutMs = ms;
    this.deadline = now() + ms;
    if (this.timer && this.timerAt <= this.deadline) return;
    clearTimeout(this.timer);
    this.schedule(ms);
  }

  private schedule(ms: number): void {
    this.timerAt = this.deadline;
    this.timer = setTimeout(() => this.onTimer(), ms).unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.state === IDLE) return;
    const left = this.deadline - now();
    if (left > 0) this.schedule(left);
    else this.destroy(new HttpTransportError('E3_HTTP_TIMEOUT', `no response for ${this.timeoutMs} ms`));
  }

  private fail(err: Error): void {
    const reject = this.reject;
    if (err instanceof HttpTransportError && this.res) err.partial = { status: this.res.status, headAt: this.res.headAt, bytes: this.res.bytes };
    this.settle();
    this.state = IDLE;
    if (!this.closed) this.destroy();
    reject?.(err);
  }

  private settle(): void {
    this.resolve = undefined;
    this.reject = undefined;
    this.pending = undefined;
  }

  private finish(rest: boolean): void {
    const res = this.res!;
    const resolve = this.resolve;
    this.settle();
    this.res = undefined;
    this.state = IDLE;
    this.uses++;
    if (!this.keepAlive || rest) this.destroy();
    resolve?.(res);
  }

  private onEnd(): void {
    if (this.state === UNTIL_CLOSE) this.finish(false);
    else if (this.state !== IDLE) this.fail(new HttpTransportError('ECONNRESET', 'the server closed the connection before the response ended', !this.received && this.uses > 0));
    this.closed = true;
    this.socket.end();
  }

  /** Consumes `chunk[0, end)`; the chunk may be reused after this returns, so whatever is kept is copied. */
  private onData(chunk: Buffer, length: number): void {
    if (this.state === IDLE) {
      // Bytes nobody asked for: the connection's framing can no longer be trusted.
      this.destroy();
      return;
    }
    this.received = true;
    if (this.state !== HEAD) this.deadline = now() + this.timeoutMs;
    let buf = chunk;
    let end = length;
    let pos = 0;
    while (pos < end) {
      switch (this.state) {
        case HEAD: {
          if (this.pending) {
            buf = Buffer.concat([this.pending, buf.subarray(pos, end)]);
            pos = 0;
            end = buf.length;
            this.pending = undefined;
          }
          const headEnd = buf.indexOf(HEAD_END, pos);
          if (headEnd < 0 || headEnd >= end) {
            if (end - pos > MAX_HEAD) return this.fail(new HttpTransportError('E3_HTTP_PARSE', `response head larger than ${MAX_HEAD} bytes`));
            this.pending = Buffer.from(buf.subarray(pos, end));
            return;
          }
          const err = this.parseHead(buf, pos, headEnd);
          if (err) return this.fail(new HttpTransportError('E3_HTTP_PARSE', err));
          pos = headEnd + 4;
          if ((this.state as number) === IDLE) return this.finish(pos < end);
          this.deadline = this.res!.headAt + this.timeoutMs; // the body's first pause counts from the head
          break;
        }
        case LENGTH:
          pos = this.consume(buf, pos, end, true);
          if (this.remaining === 0) return this.finish(pos < end);
          break;
        case UNTIL_CLOSE:
          this.take(buf, pos, end);
          pos = end;
          break;
        case CHUNK_SIZE:
        case TRAILERS: {
          const nl = buf.indexOf(10, pos);
          const stop = nl < 0 || nl >= end ? end : nl + 1;
          this.line += buf.toString('latin1', pos, stop);
          pos = stop;
          if (!this.line.endsWith('\n')) {
            if (this.line.length > MAX_HEAD) return this.fail(new HttpTransportError('E3_HTTP_PARSE', 'chunk line too long'));
            break;
          }
          const line = this.line.trimEnd();
          this.line = '';
          if (this.state === TRAILERS) {
            if (line === '') return this.finish(pos < end);
            break;
          }
          const size = /^[0-9a-fA-F]+/.test(line) ? parseInt(line, 16) : NaN;
          if (!Number.isSafeInteger(size)) return this.fail(new HttpTransportError('E3_HTTP_PARSE', `bad chunk size "${line.slice(0, 20)}"`));
          if (size === 0) this.state = TRAILERS;
          else {
            this.remaining = size;
            this.state = CHUNK_DATA;
          }
          break;
        }
        case CHUNK_DATA:
          pos = this.consume(buf, pos, end, true);
          if (this.remaining === 0) {
            this.remaining = 2; // the CRLF after the data
            this.state = CHUNK_END;
          }
          break;
        case CHUNK_END:
          pos = this.consume(buf, pos, end, false);
          if (this.remaining === 0) this.state = CHUNK_SIZE;
          break;
        default:
          return;
      }
    }
  }

  /** Consumes up to `remaining` bytes from `buf[pos, end)`, keeping them as body when `keep`; returns the new position. */
  private consume(buf: Buffer, pos: number, end: number, keep: boolean): number {
    const n = Math.min(this.remaining, end - pos);
    if (keep) this.take(buf, pos, pos + n);
    this.remaining -= n;
    return pos + n;
  }

  /** Keeps a copy of body bytes `buf[from, to)`. */
  private take(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    const res = this.res!;
    const copy = Buffer.allocUnsafe(to - from);
    buf.copy(copy, 0, from, to);
    (res.body ??= []).push(copy);
    res.bytes += to - from;
  }
  /**
   * Parses the response head `buf[start, end)` (without its blank line) and sets the body state. Reads
   * only the fields framing, cookies and redirects need, from the bytes (other fields cost nothing here;
   * `parseHeaders` reads them all when a script asks). Returns an error message for a malformed head.
   */
  private parseHead(buf: Buffer, start: number, end: number): string | undefined {
    // "HTTP/1.x NNN"
    if (end - start < 12 || buf[start] !== 72 || buf[start + 1] !== 84 || buf[start + 2] !== 84 || buf[start + 3] !== 80 || buf[start + 4] !== 47 || buf[start + 5] !== 49 || buf[start + 6] !== 46) {
      return badHead('not an HTTP/1.x response', buf, start, end);
    }
    const d0 = buf[start + 9]! - 48;
    const d1 = buf[start + 10]! - 48;
    const d2 = buf[start + 11]! - 48;
    if (buf[start + 8] !== 32 || d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return badHead('bad status line', buf, start, end);
    const status = d0 * 100 + d1 * 10 + d2;
    if (status < 200 && status !== 101) return undefined; // interim response: the real one follows
    const res = this.res!;
    let length = -1;
    let chunked = false;
    let close = false;
    let keepAlive = false;
    let hintSeconds = -1;
    let line = start;
    while (line < end && buf[line] !== 13) line++; // end of the status line
    line += 2;
    while (line < end) {
      let eol = line;
      let colon = -1;
      for (; eol < end && buf[eol] !== 13; eol++) if (colon < 0 && buf[eol] === 58) colon = eol;
      switch (colon - line) {
        case 8:
          if (nameIs(buf, line, 'location')) res.location = fieldValue(buf, colon + 1, eol);
          break;
        case 10:
          if (nameIs(buf, line, 'set-cookie')) (res.setCookie ??= []).push(fieldValue(buf, colon + 1, eol));
          else if (nameIs(buf, line, 'connection')) {
            close ||= find(buf, colon + 1, eol, 'close') >= 0;
            keepAlive ||= find(buf, colon + 1, eol, 'keep-alive') >= 0;
          } else if (nameIs(buf, line, 'keep-alive')) {
            const at = find(buf, colon + 1, eol, 'timeout=');
            if (at >= 0) {
              let to = at + 8;
              while (to < eol && buf[to]! >= 48 && buf[to]! <= 57) to++;
              hintSeconds = digits(buf, at + 8, to);
            }
          }
          break;
        case 14:
          if (nameIs(buf, line, 'content-length')) {
            const n = digits(buf, colon + 1, eol);
            length = length === -1 || length === n ? n : NaN;
          }
          break;
        case 17:
          if (nameIs(buf, line, 'transfer-encoding')) chunked = /(?:^|,)\s*chunked$/i.test(fieldValue(buf, colon + 1, eol));
          break;
      }
      line = eol + 2;
    }
    res.status = status;
    res.head = buf.toString('latin1', start, end);
    res.headAt = now();
    this.keepAlive = buf[start + 7] === 48 /* HTTP/1.0 */ ? keepAlive : !close;
    this.idleUntil = res.headAt + (hintSeconds >= 0 ? hintSeconds * 1000 - KEEP_ALIVE_MARGIN_MS : DEFAULT_IDLE_MS);
    if (this.method === 'HEAD' || status === 204 || status === 304 || status === 101) this.state = IDLE;
    else if (chunked) this.state = CHUNK_SIZE;
    else if (length === -1) {
      this.keepAlive = false;
      this.state = UNTIL_CLOSE;
    } else if (Number.isSafeInteger(length) && length >= 0) {
      this.remaining = length;
      this.state = length === 0 ? IDLE : LENGTH;
    } else return 'bad content-length';
    return undefined;
  }
}

/** The message for a malformed head, quoting its start. */
function badHead(what: string, buf: Buffer, start: number, end: number): string {
  return `${what}: "${buf.toString('latin1', start, Math.min(end, start + 40))}"`;
}

/** The field value in `buf[from, to)` without surrounding blanks, as Latin-1 text. */
function fieldValue(buf: Buffer, from: number, to: number): string {
  while (from < to && (buf[from] === 32 || buf[from] === 9)) from++;
  while (to > from && (buf[to - 1] === 32 || buf[to - 1] === 9)) to--;
  return buf.toString('latin1', from, to);
}

/** The decimal number in `buf[from, to)` between optional blanks; NaN unless it is only digits. */
function digits(buf: Buffer, from: number, to: number): number {
  while (from < to && (buf[from] === 32 || buf[from] === 9)) from++;
  while (to > from && (buf[to - 1] === 32 || buf[to - 1] === 9)) to--;
  if (from === to) return NaN;
  let n = 0;
  for (let k = from; k < to; k++) {
    const d = buf[k]! - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/** Where `needle` (lower case) starts in `buf[from, to)`, in any letter case; −1 when it does not. */
function find(buf: Buffer, from: number, to: number, needle: string): number {
  for (let i = from; i + needle.length <= to; i++) if (nameIs(buf, i, needle)) return i;
  return -1;
}

/** Whether `buf` holds `name` (lower case letters, digits, '-', '=') at `at`, in any letter case. */
function nameIs(buf: Buffer, at: number, name: string): boolean {
  for (let k = 0; k < name.length; k++) if ((buf[at + k]! | 0x20) !== name.charCodeAt(k)) return false;
  return true;
}

/** All header fields of a response head (names lower-cased; repeated fields become arrays). */
export function parseHeaders(head: string): Record<string, string | string[] | undefined> {
  const headers: Record<string, string | string[] | undefined> = {};
  let i = head.indexOf('\r\n');
  if (i < 0) return headers;
  i += 2;
  while (i < head.length) {
    let j = head.indexOf('\r\n', i);
    if (j < 0) j = head.length;
    const colon = head.indexOf(':', i);
    if (colon > i && colon < j) {
      const name = head.slice(i, colon).toLowerCase();
      const value = head.slice(colon + 1, j).trim();
      const prev = headers[name];
      headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
    i = j + 2;
  }
  return headers;
}
