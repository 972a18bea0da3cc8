import { E3Error } from '@e3/model';

/** The admin identity and server every REST call of a tool uses. */
export interface RestOptions {
  /** Base URL of the server, with its context path: `http://host:7990/bitbucket`. */
  url: string;
  username: string;
  password: string;
  signal?: AbortSignal;
  /** Per-request timeout; default 30 s. */
  timeoutMs?: number;
}

export interface RestResponse {
  status: number;
  body: unknown;
}

/** A Bitbucket page as `/rest/api/1.0` returns it. */
interface Page {
  values?: unknown[];
  isLastPage?: boolean;
  nextPageStart?: number;
}

export interface RestClient {
  /** Base URL without a trailing slash. */
  base: string;
  /** One request; 2xx and the statuses in `accept` return, anything else throws a coded error. */
  request(method: string, path: string, options?: { query?: Record<string, string | number>; json?: unknown; accept?: number[] }): Promise<RestResponse>;
  /** Every value of a paged list, following `nextPageStart`, stopping at `max` values. */
  pages<T>(path: string, options: { max: number; pageSize?: number; query?: Record<string, string | number> }): Promise<T[]>;
}

const MAX_PAGE = 1000;

/** Builds `base + path + ?query`, every query value percent-encoded (no stray parameters). */
export function restUrl(base: string, path: string, query: Record<string, string | number> = {}): string {
  const qs = Object.entries(query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `${base}${path}${qs ? `?${qs}` : ''}`;
}

/** Parses and normalises `--url`: http(s) only, no trailing slash, no credentials in it. */
export function baseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new E3Error('USAGE', `--url ${JSON.stringify(url.slice(0, 200))} is not a URL`, { hint: 'Pass the server base URL with its context path, e.g. --url http://localhost:7990/bitbucket' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new E3Error('USAGE', `--url ${parsed.origin}: only http and https are supported`, { hint: 'Pass e.g. --url http://localhost:7990' });
  }
  if (parsed.username || parsed.password) {
    throw new E3Error('USAGE', `--url must not hold credentials`, { hint: 'Pass --username and --password-env <VAR> instead' });
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

function statusError(status: number, method: string, url: string, username: string, body: unknown): E3Error {
  const serverMessage = (body as { errors?: Array<{ message?: string }> } | undefined)?.errors?.[0]?.message;
  const said = serverMessage ? `: ${String(serverMessage).slice(0, 200)}` : '';
  const where = `${method} ${url.split('?')[0]}`;
  if (status === 401) {
    return new E3Error('HTTP', `401 Unauthorized: ${where} refused the credentials of user "${username}"${said}`, {
      hint: 'Check --username and the password in the variable named by --password-env',
    });
  }
  if (status === 403) {
    return new E3Error('HTTP', `403 Forbidden: user "${username}" may not ${where}${said}`, {
      hint: `Pass an administrator (ADMIN or SYS_ADMIN permission) with --username`,
    });
  }
  if (status === 404 && !serverMessage) {
    return new E3Error('HTTP', `404 Not Found: ${where} (no Bitbucket REST API there)`, {
      hint: 'Check --url: it must be the base URL including the context path, e.g. http://localhost:7990/bitbucket',
    });
  }
  return new E3Error('HTTP', `${status} from ${where}${said}`);
}

/** A REST client with basic auth. Connection failures → E3_ENVIRONMENT; 401/403/other errors → E3_HTTP. */
export function restClient(options: RestOptions): RestClient {
  const base = baseUrl(options.url);
  const auth = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function request(method: string, path: string, o: { query?: Record<string, string | number>; json?: unknown; accept?: number[] } = {}): Promise<RestResponse> {
    const url = restUrl(base, path, o.query);
    const headers: Record<string, string> = { authorization: auth, accept: 'application/json', 'x-atlassian-token': 'no-check' };
    if (o.json !== undefined) headers['content-type'] = 'application/json';
    const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: o.json === undefined ? undefined : JSON.stringify(o.json), signal: AbortSignal.any(signals), redirect: 'manual' });
    } catch (cause) {
      if (options.signal?.aborted) throw new E3Error('INTERRUPTED', 'interrupted', { cause });
      const reason = (cause as { cause?: { code?: string; message?: string } }).cause;
      const detail = reason?.code ?? reason?.message ?? (cause as Error).message;
      throw new E3Error('ENVIRONMENT', `cannot reach ${base}: ${detail}`, {
        hint: 'Check --url and that the server is running (for the local target: `e3 target start --data <dir>`)',
        cause,
      });
    }
    const text = await res.text();
    let body: unknown;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
        if (res.ok) {
          throw new E3Error('HTTP', `${method} ${url.split('?')[0]} answered ${res.status} with a body that is not JSON`, {
            hint: 'Check --url: it must be the base URL of a Bitbucket server including the context path',
          });
        }
      }
    }
    if ((res.status >= 200 && res.status < 300) || o.accept?.includes(res.status)) return { status: res.status, body };
    if (res.status >= 300 && res.status < 400) {
      throw new E3Error('HTTP', `${res.status} redirect from ${method} ${url.split('?')[0]} to ${res.headers.get('location') ?? '?'}`, {
        hint: 'Check --url: pass the final base URL (scheme, host, port and context path)',
      });
    }
    throw statusError(res.status, method, url, options.username, body);
  }

  async function pages<T>(path: string, o: { max: number; pageSize?: number; query?: Record<string, string | number> }): Promise<T[]> {
    const out: T[] = [];
    let start = 0;
    // Bounded: every page must advance `start`, and at most `max` values are taken.
    while (out.length < o.max) {
      const limit = Math.min(o.pageSize ?? 100, MAX_PAGE, o.max - out.length);
      const { body } = await request('GET', path, { query: { ...o.query, start, limit } });
      const page = body as Page | undefined;
      if (!page || !Array.isArray(page.values)) {
        throw new E3Error('HTTP', `GET ${base}${path} did not answer a Bitbucket page ({values, isLastPage})`, {
          hint: 'Check --url: it must be the base URL of a Bitbucket server including the context path',
        });
      }
      out.push(...(page.values.slice(0, o.max - out.length) as T[]));
      if (page.isLastPage !== false || page.values.length === 0) break;
      const next = page.nextPageStart ?? start + page.values.length;
      if (!Number.isInteger(next) || next <= start) throw new E3Error('HTTP', `GET ${base}${path}: nextPageStart ${String(page.nextPageStart)} does not advance past ${start}`);
      start = next;
    }
    return out;
  }

  return { base, request, pages };
}

/** Runs `fn` over `items` with at most `limit` at a time; results keep the order of `items`. The first failure stops new work and rejects. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
