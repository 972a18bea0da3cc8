import { isOpFailure, opFailure } from '../recorder/errors.js';
import { now, type OpSink } from '../recorder/sink.js';
import { Connection, HttpTransportError, parseHeaders, type Endpoint, type RawResponse } from './connection.js';
import { createCookieJar, type CookieJar } from './cookies.js';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as text. */
  body: string;
  bytes: number;
  /** Time to first byte (ms): from sending to the response headers. */
  ttfb: number;
  /** The `Location` header, if any (redirects are never followed automatically). */
  location?: string;
  /** The body parsed as JSON; throws an `exception` failure when it is not JSON. */
  json<T = any>(): T; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface HttpRequestOptions {
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** A JSON body (Content-Type application/json). */
  json?: unknown;
  /** A form body (application/x-www-form-urlencoded). */
  form?: Record<string, string>;
  /**
   * `html` (default): a browser's headers; `json`: E³'s ACCEPT_JSON headers plus `X-Requested-With` and
   * `Origin`; `none`: no browser headers, only Host (and Cookie, Authorization, Content-Type when needed).
   */
  accept?: 'json' | 'html' | 'none';
  /** Statuses that count as success (default 200–399). Others record an `http <status>` error. */
  expect?: readonly number[];
  /** When false, an unexpected status is recorded as an error but returned instead of thrown (default true). */
  throwOnFailure?: boolean;
  /** The samples' op (default `<METHOD> <path without query and context path>`); use templates like `GET /projects/{key}`. */
  op?: string;
  /** Per-request timeout (ms), default the client's. */
  timeoutMs?: number;
  /** Basic authentication for this request. */
  auth?: { username: string; password: string };
}

export interface HttpApi {
  /** The instance base URL including its context path, without a trailing slash. */
  readonly baseUrl: string;
  readonly cookies: CookieJar;
  request(method: string, url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  get(url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  post(url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  put(url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  delete(url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
}

export interface HttpClientOptions {
  baseUrl: string;
  sink: OpSink;
  /** Aborts in-flight requests; they are then recorded as `cut`. */
  signal?: AbortSignal;
  /** Default timeout (ms) for headers and for body idle time; default 60 000. */
  timeoutMs?: number;
  /** `https:`: refuse certificates that do not verify; default true unless NODE_TLS_REJECT_UNAUTHORIZED=0. */
  rejectUnauthorized?: boolean;
}

const USER_AGENT = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.11; rv:47.0) Gecko/20100101 Firefox/47.0 e3-agent';
const ACCEPT_HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const ACCEPT_JSON = 'application/json, text/javascript, */*; q=0.01';

const NO_OPTIONS: HttpRequestOptions = Object.freeze({});
const isOk = (status: number) => status >= 200 && status < 400;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** Characters a request target may not contain (as Node's own HTTP client). */
const BAD_PATH = /[^\u0021-\u00ff]/;
/** Field values: visible Latin-1 and blanks (the head is written as Latin-1, so nothing else may pass). */
const HEADER_VALUE = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;
/** Field names: HTTP tokens. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const headerLines = (headers: Record<string, string>): string => {
  let out = '';
  for (const k in headers) out += k + ': ' + headers[k] + '\r\n';
  return out;
};

/** A received response; headers and text are decoded when first read. */
class Response implements HttpResponse {
  readonly status: number;
  readonly bytes: number;
  readonly ttfb: number;
  readonly location?: string;
  private readonly op: string;
  private readonly raw: RawResponse;
  private headerFields: HttpResponse['headers'] | undefined;
  private text: string | undefined;

  constructor(op: string, raw: RawResponse, ttfb: number) {
    this.op = op;
    this.raw = raw;
    this.status = raw.status;
    this.bytes = raw.bytes;
    this.ttfb = ttfb;
    if (raw.location !== undefined) this.location = raw.location;
  }

  get headers(): HttpResponse['headers'] {
    return (this.headerFields ??= parseHeaders(this.raw.head));
  }

  get body(): string {
    const chunks = this.raw.body;
    return (this.text ??= !chunks ? '' : chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
  }

  json<T>(): T {
    try {
      return JSON.parse(this.body) as T;
    } catch (err) {
      throw opFailure('exception', `${this.op} returned ${this.status} and a body that is not JSON`, { cause: err });
    }
  }
}

interface OriginPool {
  endpoint: Endpoint;
  /** The Host header value. */
  host: string;
  idle: Connection[];
}

/** `path` with the defined `query` fields appended, URL-encoded. */
function withQuery(path: string, query: NonNullable<HttpRequestOptions['query']>): string {
  let qs = '';
  for (const k in query) {
    const v = query[k];
    if (v !== undefined) qs += (qs ? '&' : '') + encodeURIComponent(k) + '=' + encodeURIComponent(String(v));
  }
  return qs ? path + (path.includes('?') ? '&' : '?') + qs : path;
}

/** Reports a request that failed before a complete response (cut, timeout or exception) to the sink; returns the OpFailure to throw. */
function recordFailure(err: unknown, options: HttpClientOptions, op: string, start: number, timeout: number): Error {
  const duration = now() - start;
  const code = (err as { code?: string }).code;
  let error: string;
  let cls: 'cut' | 'timeout' | 'exception';
  if (options.signal?.aborted) {
    cls = 'cut';
    error = 'cut';
  } else if (code === 'E3_HTTP_TIMEOUT') {
    cls = 'timeout';
    error = `timeout after ${timeout} ms`;
  } else {
    cls = 'exception';
    error = `exception ${code ?? (err as Error).name ?? ''} ${(err as Error).message ?? ''}`.trim();
  }
  const partial = err instanceof HttpTransportError ? err.partial : { status: 0, headAt: 0, bytes: 0 };
  options.sink({
    op, start, duration, ok: false, status: partial.status, bytes: partial.bytes, error,
    ...(partial.headAt ? { ttfb: partial.headAt - start } : {}),
  });
  return opFailure(cls, error.slice(cls.length + 1), { recorded: true, cause: err });
}

/**
 * An HTTP client for one virtual user: keep-alive HTTP/1.1 connections per origin (one per request in
 * flight, reused while the server keeps them alive), a cookie jar, TTFB timing. Every call is reported to
 * `sink` as one sample. Failures throw an OpFailure already recorded.
 */
export function createHttpClient(options: HttpClientOptions): HttpApi & { close(): Promise<void> } {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const base = new URL(baseUrl);
  const baseOrigin = base.origin;
  const basePath = base.pathname.replace(/\/+$/, '');
  const common = { 'user-agent': USER_AGENT, 'accept-language': 'en-US,en;q=0.5' };
  const profiles: Record<NonNullable<HttpRequestOptions['accept']>, Record<string, string>> = {
    html: { ...common, accept: ACCEPT_HTML },
    json: { ...common, accept: ACCEPT_JSON, 'x-requested-with': 'XMLHttpRequest', origin: baseOrigin },
    none: {},
  };
  const profileLines = { html: headerLines(profiles.html), json: headerLines(profiles.json), none: '' };
  const pools = new Map<string, OriginPool>();
  const open = new Set<Connection>();
  const cookies = createCookieJar();
  const defaultTimeout = options.timeoutMs ?? 60_000;
  const rejectUnauthorized = options.rejectUnauthorized ?? process.env.NODE_TLS_REJECT_UNAUTHORIZED !== '0';

  const poolFor = (origin: string): OriginPool => {
    let pool = pools.get(origin);
    if (!pool) {
      const u = new URL(origin);
      const secure = u.protocol === 'https:';
      const port = u.port ? Number(u.port) : secure ? 443 : 80;
      pool = { endpoint: { secure, rejectUnauthorized, host: u.hostname.replace(/^\[|\]$/g, ''), port }, host: u.host, idle: [] };
      pools.set(origin, pool);
    }
    return pool;
  };
  const onClose = (conn: Connection) => open.delete(conn);
  const take = (pool: OriginPool, fresh: boolean, t: number): Connection => {
    if (!fresh) {
      for (let conn = pool.idle.pop(); conn; conn = pool.idle.pop()) {
        if (!conn.closed && t < conn.idleUntil) return conn;
        conn.destroy();
      }
    }
    const conn = new Connection(pool.endpoint, onClose);
    open.add(conn);
    return conn;
  };
  const release = (pool: OriginPool, conn: Connection) => {
    if (!conn.closed && !conn.busy) pool.idle.push(conn);
  };

  // One abort listener per client (not per request): it ends every connection in flight.
  options.signal?.addEventListener('abort', () => {
    for (const conn of open) if (conn.busy) conn.destroy(new HttpTransportError('E3_CUT', 'cut'));
  }, { once: true });

  let lastPlain: { method: string; path: string; pool: OriginPool; profile: string; cookie: string | undefined; head: string; op: string } | undefined;

  /** The request line and header fields with the blank line that ends them. Throws for an invalid path or header. */
  const buildHead = (
    method: string, path: string, pool: OriginPool, profile: NonNullable<HttpRequestOptions['accept']>, cookie: string | undefined,
    o: HttpRequestOptions, op: string, body: string | undefined,
  ): string => {
    if (BAD_PATH.test(path)) throw opFailure('exception', `${op}: invalid request path ${JSON.stringify(path.slice(0, 80))}`);
    const contentType = o.json !== undefined ? 'application/json' : o.form ? 'application/x-www-form-urlencoded' : undefined;
    let head = method + ' ' + path + ' HTTP/1.1\r\nhost: ' + pool.host + '\r\n';
    if (o.headers) {
      const headers: Record<string, string> = { ...profiles[profile] };
      if (contentType) headers['content-type'] = contentType;
      if (o.auth) headers.authorization = 'Basic ' + Buffer.from(`${o.auth.username}:${o.auth.password}`).toString('base64');
      if (cookie) headers.cookie = cookie;
      for (const k in o.headers) {
        const v = o.headers[k]!;
        if (!HEADER_NAME.test(k) || !HEADER_VALUE.test(v)) throw opFailure('exception', `${op}: invalid header ${JSON.stringify(k)}`);
        headers[k.toLowerCase()] = v;
      }
      head += headerLines(headers);
    } else {
      head += profileLines[profile];
      if (contentType) head += 'content-type: ' + contentType + '\r\n';
      if (o.auth) head += 'authorization: Basic ' + Buffer.from(`${o.auth.username}:${o.auth.password}`).toString('base64') + '\r\n';
      if (cookie) head += 'cookie: ' + cookie + '\r\n';
    }
    if (body !== undefined) return head + 'content-length: ' + Buffer.byteLength(body) + '\r\n\r\n';
    return head + (BODY_METHODS.has(method) ? 'content-length: 0\r\n\r\n' : '\r\n');
  };

  const request = async (method: string, url: string, o: HttpRequestOptions = NO_OPTIONS): Promise<HttpResponse> => {
    let origin = baseOrigin;
    let path: string;
    let opPath: string;
    if (/^https?:\/\//.test(url)) {
      const u = new URL(url);
      origin = u.origin;
      path = u.pathname + u.search;
      opPath = basePath && u.pathname.startsWith(basePath + '/') ? u.pathname.slice(basePath.length) : u.pathname;
    } else {
      const rel = url.startsWith('/') ? url : '/' + url;
      path = basePath + rel;
      const q = rel.indexOf('?');
      opPath = q < 0 ? rel : rel.slice(0, q);
    }
    if (o.query) path = withQuery(path, o.query);
    const pool = poolFor(origin);
    const profile = o.accept ?? 'html';
    const cookie = cookies.header(pool.host);
    const body = o.json !== undefined ? JSON.stringify(o.json) : o.form ? new URLSearchParams(o.form).toString() : undefined;
    // A request like the previous one (same line, profile and cookies; no body, auth or own headers)
    // reuses its head and op.
    const plain = body === undefined && !o.auth && !o.headers;
    const last = lastPlain;
    let head: string;
    let op: string;
    if (plain && last && last.method === method && last.path === path && last.pool === pool && last.profile === profile && last.cookie === cookie) {
      head = last.head;
      op = o.op ?? last.op;
    } else {
      op = o.op ?? `${method} ${opPath}`;
      head = buildHead(method, path, pool, profile, cookie, o, op, body);
      if (plain) lastPlain = { method, path, pool, profile, cookie, head, op: `${method} ${opPath}` };
    }

    const timeout = o.timeoutMs ?? defaultTimeout;
    const start = now();
    try {
      if (options.signal?.aborted) throw new HttpTransportError('E3_CUT', 'cut');
      let raw: RawResponse;
      for (let attempt = 0; ; attempt++) {
        const conn = take(pool, attempt > 0, start);
        try {
          raw = await conn.exchange(method, head, body, timeout);
          release(pool, conn);
          break;
        } catch (err) {
          // A kept-alive connection the server had already closed: once more on a new one, when safe.
          if (attempt > 0 || !(err instanceof HttpTransportError) || !err.beforeResponse || !IDEMPOTENT.has(method)) throw err;
        }
      }
      const duration = now() - start;
      const ttfb = raw.headAt - start;
      const { status, bytes } = raw;
      if (raw.setCookie) cookies.store(pool.host, raw.setCookie);
      const ok = o.expect ? o.expect.includes(status) : isOk(status);
      options.sink({ op, start, duration, ok, status, bytes, ttfb, error: ok ? undefined : `http ${status}` });
      const response = new Response(op, raw, ttfb);
      if (!ok && o.throwOnFailure !== false) throw opFailure('http', `${status} ${op}`, { recorded: true });
      return response;
    } catch (err) {
      if (isOpFailure(err)) throw err;
      throw recordFailure(err, options, op, start, timeout);
    }
  };

  return {
    baseUrl,
    cookies,
    request,
    get: (url, o) => request('GET', url, o),
    post: (url, o) => request('POST', url, o),
    put: (url, o) => request('PUT', url, o),
    delete: (url, o) => request('DELETE', url, o),
    async close() {
      for (const conn of open) conn.destroy(new HttpTransportError('E3_CLOSED', 'the HTTP client was closed'));
      open.clear();
      pools.clear();
    },
  };
}
