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

/**
 * An HTTP client for one virtual user: one keep-alive connection per origin, a cookie jar, TTFB timing.
 * Every call is reported to `sink` as one sample. Failures throw an OpFailure already recorded.
 */
export function createHttpClient(options: HttpClientOptions): HttpApi & { close(): Promise<void> } {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, '');
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

  const request = async (method: string, url: string, o: HttpRequestOptions = {}): Promise<HttpResponse> => {
    const target = new URL(/^https?:\/\//.test(url) ? url : baseUrl + (url.startsWith('/') ? url : '/' + url));
    if (o.query) {
      for (const [k, v] of Object.entries(o.query)) if (v !== undefined) target.searchParams.append(k, String(v));
    }
    let path = target.pathname;
    if (basePath && path.startsWith(basePath + '/')) path = path.slice(basePath.length);
    const op = o.op ?? `${method} ${path}`;
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-language': 'en-US,en;q=0.5' };
    if (o.accept === 'json') {
      headers.accept = ACCEPT_JSON;
      headers['x-requested-with'] = 'XMLHttpRequest';
      headers.origin = baseUrl;
    } else {
      headers.accept = ACCEPT_HTML;
    }
    let body: string | undefined;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers['content-type'] = 'application/json';
    } else if (o.form) {
      body = new URLSearchParams(o.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    if (o.auth) headers.authorization = 'Basic ' + Buffer.from(`${o.auth.username}:${o.auth.password}`).toString('base64');
    const cookie = cookies.header(target.host);
    if (cookie) headers.cookie = cookie;
    Object.assign(headers, o.headers);

    const timeout = o.timeoutMs ?? defaultTimeout;
    const start = now();
    let ttfb: number | undefined;
    let status = 0;
    let bytes = 0;
    try {
      const res = await clientFor(target.origin).request({
        method: method as 'GET',
        path: target.pathname + target.search,
        headers,
        body,
        signal: options.signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      ttfb = now() - start;
      status = res.statusCode;
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) {
        chunks.push(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
      const duration = now() - start;
      cookies.store(target.host, res.headers['set-cookie']);
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      const ok = o.expect ? o.expect.includes(status) : isOk(status);
      const error = ok ? undefined : `http ${status}`;
      options.sink({ op, start, duration, ok, status, bytes, ttfb, error });
      const location = res.headers.location;
      const response: HttpResponse = {
        status,
        headers: res.headers,
        body: text,
        bytes,
        ttfb,
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
