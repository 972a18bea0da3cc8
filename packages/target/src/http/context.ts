import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Db, UserRow } from '../db.js';
import type { Tickets } from '../tickets.js';

/** A signed-in web session (cookie `BITBUCKETSESSIONID`). */
export interface Session {
  id: string;
  userId: number;
  atlToken: string;
  created: number;
}

/** Live counters the metrics writer reads. */
export interface Counters {
  requests: number;
  processingMs: number;
  errors5xx: number;
  pulls: number;
  pushes: number;
}

/** Everything a request handler may touch. */
export interface TargetState {
  dataDir: string;
  db: Db;
  tickets: Tickets;
  sessions: Map<string, Session>;
  /** `''` or `/bitbucket` (leading slash, no trailing slash). */
  contextPath: string;
  /** External base URL including the context path. */
  baseUrl: string;
  sshPort: number;
  host: string;
  counters: Counters;
  /** Cache of verified basic-auth credentials: `<name>\0<sha256(password)>` → user id. */
  authCache: Map<string, number>;
  /** Serialises ref updates per repository. */
  repoLocks: Map<number, Promise<unknown>>;
  /** Local admin token (`<data>/control.token`), accepted in the `X-E3-Control-Token` header. */
  controlToken: string;
  /** Application log (errors); never given secrets. */
  log: (line: string) => void;
  /** One line per finished HTTP request, Bitbucket access-log style, with its duration. */
  accessLog: (line: string) => void;
}

export interface Ctx {
  state: TargetState;
  req: IncomingMessage;
  res: ServerResponse;
  /** Path below the context path, percent-encoded as received. */
  path: string;
  query: URLSearchParams;
  user?: UserRow;
  session?: Session;
  params: Record<string, string>;
}

/** A request error answered with a Bitbucket-shaped body; `status` is 4xx. */
export interface HttpFailure extends Error {
  status: number;
  exceptionName: string;
  extra?: Record<string, unknown>;
}

/** Throws an HttpFailure (`{errors:[{context, message, exceptionName}]}` with `status`). */
export function fail(status: number, message: string, exceptionName = 'com.atlassian.bitbucket.ServiceException', extra?: Record<string, unknown>): never {
  const err = new Error(message) as HttpFailure;
  err.status = status;
  err.exceptionName = exceptionName;
  if (extra) err.extra = extra;
  throw err;
}

export function isHttpFailure(err: unknown): err is HttpFailure {
  return err instanceof Error && typeof (err as HttpFailure).status === 'number' && typeof (err as HttpFailure).exceptionName === 'string';
}

export function errorBody(message: string, exceptionName: string, extra?: Record<string, unknown>): { errors: unknown[] } {
  return { errors: [{ context: null, message, exceptionName, ...extra }] };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/html;charset=UTF-8', 'content-length': Buffer.byteLength(html), ...headers });
  res.end(html);
}

export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(302, { location, 'content-length': 0, ...headers });
  res.end();
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A Bitbucket page: `{size, limit, isLastPage, start, nextPageStart?, values}` from `start`/`limit` query params. */
export function page<T>(query: URLSearchParams, items: readonly T[], options: { defaultLimit?: number } = {}): Record<string, unknown> {
  const start = parseIntParam(query.get('start'), 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = parseIntParam(query.get('limit'), options.defaultLimit ?? 25, 1, 1000);
  const values = items.slice(start, start + limit);
  const isLastPage = start + values.length >= items.length;
  const body: Record<string, unknown> = { size: values.length, limit, isLastPage, values, start };
  if (!isLastPage) body.nextPageStart = start + values.length;
  return body;
}

/** An integer query parameter; absent → `dflt`; garbage → 400. Clamped to [min, max]. */
export function parseIntParam(raw: string | null, dflt: number, min: number, max: number): number {
  if (raw === null || raw === '') return dflt;
  if (!/^-?\d{1,15}$/.test(raw)) fail(400, `'${raw.slice(0, 40)}' is not a valid number.`, 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  return Math.min(max, Math.max(min, Number(raw)));
}

/** Reads the whole request body, refusing more than `max` bytes with 413. */
export function readBody(req: IncomingMessage, max = 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      req.resume();
      try {
        fail(413, `The request body is larger than ${max} bytes.`, 'com.atlassian.bitbucket.validation.ArgumentValidationException');
      } catch (err) {
        reject(err);
      }
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (d: Buffer) => {
      if (done) return;
      size += d.length;
      if (size > max) {
        done = true;
        try {
          fail(413, `The request body is larger than ${max} bytes.`, 'com.atlassian.bitbucket.validation.ArgumentValidationException');
        } catch (err) {
          reject(err);
        }
        req.resume();
        return;
      }
      chunks.push(d);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!done) reject(err);
      done = true;
    });
  });
}

/** Parses a JSON body; garbage → 400. Empty → `{}`. */
export async function readJson(ctx: Ctx): Promise<Record<string, unknown>> {
  const buf = await readBody(ctx.req);
  if (buf.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8'));
  } catch {
    fail(400, 'The request body is not valid JSON.', 'com.atlassian.bitbucket.rest.exception.UnmappedRestException');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(400, 'The request body must be a JSON object.', 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  return value as Record<string, unknown>;
}

export async function readForm(ctx: Ctx): Promise<URLSearchParams> {
  const buf = await readBody(ctx.req);
  return new URLSearchParams(buf.toString('utf8'));
}
