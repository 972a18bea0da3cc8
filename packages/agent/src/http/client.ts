import { Client } from 'undici';

import { opFailure } from '../recorder/errors.js';
import { now, type OpSink } from '../recorder/sink.js';
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
  /** `json`: E³'s ACCEPT_JSON headers plus `X-Requested-With` and `Origin`; `html` (default): a browser's. */
  accept?: 'json' | 'html';
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
}

const USER_AGENT = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.11; rv:47.0) Gecko/20100101 Firefox/47.0 e3-agent';
const ACCEPT_HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const ACCEPT_JSON = 'application/json, text/javascript, */*; q=0.01';

const isOk = (status: number) => status >= 200 && status < 400;

/** Response headers from undici's raw name/value buffers; repeated names become arrays. */
function headerObject(raw: Buffer[]): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!.toString('latin1').toLowerCase();
    const v = raw[i + 1]!.toString('latin1');
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * An HTTP client for one virtual user: one keep-alive connection per origin, a cookie jar, TTFB timing.
 * Every call is reported to `sink` as one sample. Failures throw an OpFailure already recorded.
 */
export function createHttpClient(options: HttpClientOptions): HttpApi & { close(): Promise<void> } {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const baseOrigin = new URL(baseUrl).origin;
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, '');
  const htmlHeaders: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-language': 'en-US,en;q=0.5', accept: ACCEPT_HTML };
  const jsonHeaders: Record<string, string> = {
    'user-agent': USER_AGENT, 'accept-language': 'en-US,en;q=0.5', accept: ACCEPT_JSON, 'x-requested-with': 'XMLHttpRequest', origin: baseUrl,
  };
  const clients = new Map<string, Client>();
  const cookies = createCookieJar();
  const defaultTimeout = options.timeoutMs ?? 60_000;

  const clientFor = (origin: string): Client => {
    let c = clients.get(origin);
    if (!c) {
      c = new Client(origin, { keepAliveTimeout: 30_000, pipelining: 1 });
      clients.set(origin, c);
    }
    return c;
  };

  // One abort listener per client (not per request): it aborts whatever is in flight.
  const inflight = new Set<(err: Error) => void>();
  options.signal?.addEventListener('abort', () => {
    for (const abort of inflight) abort(new Error('cut'));
  }, { once: true });

  const request = async (method: string, url: string, o: HttpRequestOptions = {}): Promise<HttpResponse> => {
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
    if (o.query) {
      let qs = '';
      for (const k in o.query) {
        const v = o.query[k];
        if (v !== undefined) qs += (qs ? '&' : '') + encodeURIComponent(k) + '=' + encodeURIComponent(String(v));
      }
      if (qs) path += (path.includes('?') ? '&' : '?') + qs;
    }
    const op = o.op ?? `${method} ${opPath}`;
    const headers: Record<string, string> = { ...(o.accept === 'json' ? jsonHeaders : htmlHeaders) };
    let body: string | undefined;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers['content-type'] = 'application/json';
    } else if (o.form) {
      body = new URLSearchParams(o.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    if (o.auth) headers.authorization = 'Basic ' + Buffer.from(`${o.auth.username}:${o.auth.password}`).toString('base64');
    const host = origin.slice(origin.indexOf('//') + 2);
    const cookie = cookies.header(host);
    if (cookie) headers.cookie = cookie;
    if (o.headers) Object.assign(headers, o.headers);

    const timeout = o.timeoutMs ?? defaultTimeout;
    const start = now();
    let ttfb: number | undefined;
    let status = 0;
    let bytes = 0;
    let rawHeaders: Buffer[] = [];
    const chunks: Buffer[] = [];
    try {
      if (options.signal?.aborted) throw new Error('cut');
      await new Promise<void>((resolve, reject) => {
        let abortFn: ((err: Error) => void) | undefined;
        const done = (err?: Error) => {
          if (abortFn) inflight.delete(abortFn);
          if (err) reject(err);
          else resolve();
        };
        clientFor(origin).dispatch(
          { method: method as 'GET', path, headers, body, headersTimeout: timeout, bodyTimeout: timeout },
          {
            onConnect(abort) {
              abortFn = abort;
              inflight.add(abort);
            },
            onHeaders(statusCode, raw) {
              ttfb = now() - start;
              status = statusCode;
              rawHeaders = raw as unknown as Buffer[];
              return true;
            },
            onData(chunk) {
              chunks.push(chunk);
              bytes += chunk.length;
              return true;
            },
            onComplete() {
              done();
            },
            onError(err) {
              done(err);
            },
          },
        );
      });
      const duration = now() - start;
      const resHeaders = headerObject(rawHeaders);
      cookies.store(host, resHeaders['set-cookie']);
      const text = chunks.length === 0 ? '' : chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      const ok = o.expect ? o.expect.includes(status) : isOk(status);
      const error = ok ? undefined : `http ${status}`;
      options.sink({ op, start, duration, ok, status, bytes, ttfb, error });
      const location = resHeaders.location;
      const response: HttpResponse = {
        status,
        headers: resHeaders,
        body: text,
        bytes,
        ttfb: ttfb!,
        json() {
          try {
            return JSON.parse(text);
          } catch (err) {
            throw opFailure('exception', `${op} returned ${status} and a body that is not JSON`, { cause: err });
          }
        },
      };
      if (typeof location === 'string') response.location = location;
      if (!ok && o.throwOnFailure !== false) throw opFailure('http', `${status} ${op}`, { recorded: true });
      return response;
    } catch (err) {
      if ((err as { name?: string }).name === 'OpFailure') throw err;
      const duration = now() - start;
      const e = err as { name?: string; code?: string; message?: string };
      let error: string;
      let cls: 'cut' | 'timeout' | 'exception';
      if (options.signal?.aborted) {
        cls = 'cut';
        error = 'cut';
      } else if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') {
        cls = 'timeout';
        error = `timeout after ${timeout} ms`;
      } else {
        cls = 'exception';
        const cause = (err as { cause?: { code?: string } }).cause;
        error = `exception ${e.code ?? cause?.code ?? e.name ?? ''} ${e.message ?? ''}`.trim();
      }
      options.sink({ op, start, duration, ok: false, status, bytes, ...(ttfb === undefined ? {} : { ttfb }), error });
      throw opFailure(cls, error.slice(cls.length + 1), { recorded: true, cause: err });
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
      const all = [...clients.values()];
      clients.clear();
      await Promise.all(all.map((c) => c.destroy().catch(() => undefined)));
    },
  };
}
