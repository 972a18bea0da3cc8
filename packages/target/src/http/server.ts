import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { isE3Error } from '@e3/model';

import { findUser, verifyPassword, type UserRow } from '../db.js';
import {
  errorBody,
  escapeHtml,
  fail,
  isHttpFailure,
  readForm,
  redirect,
  sendHtml,
  sendJson,
  type Ctx,
  type TargetState,
} from './context.js';
import { isGitPath, serveGitHttp } from './git-http.js';
import { route } from './routes.js';

export const SESSION_COOKIE = 'BITBUCKETSESSIONID';
/** Oldest sessions are dropped beyond this many. */
const MAX_SESSIONS = 50_000;

function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** Checks a user name and password; successful checks are cached by password digest. */
export function checkPassword(state: TargetState, name: string, password: string): UserRow | undefined {
  const key = `${name.toLowerCase()}\0${createHash('sha256').update(password).digest('hex')}`;
  const cached = state.authCache.get(key);
  if (cached !== undefined) {
    const user = state.db.prepare('SELECT * FROM users WHERE id = ?').get(cached) as UserRow | undefined;
    if (user && user.active) return user;
  }
  const user = findUser(state.db, name);
  if (!user || !user.active || !verifyPassword(password, user.password_hash)) return undefined;
  if (state.authCache.size > 10_000) state.authCache.clear();
  state.authCache.set(key, user.id);
  return user;
}

function basicAuth(ctx: Ctx): UserRow | undefined {
  const header = ctx.req.headers.authorization;
  if (header === undefined) return undefined;
  const m = /^Basic ([A-Za-z0-9+/=]{1,4096})$/.exec(header.trim());
  if (!m) fail(401, 'The Authorization header is malformed: expected "Basic <base64 of user:password>".', 'com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException');
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i <= 0) fail(401, 'The Authorization header is malformed: expected "Basic <base64 of user:password>".', 'com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException');
  const user = checkPassword(ctx.state, decoded.slice(0, i), decoded.slice(i + 1));
  if (!user) fail(401, 'Authentication failed. Please check your credentials and try again.', 'com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException');
  return user;
}

function loginPage(ctx: Ctx, error?: string): void {
  const action = `${ctx.state.contextPath}/j_atl_security_check`;
  sendHtml(
    ctx.res,
    200,
    `<!DOCTYPE html><html><head><title>Log in - Bitbucket</title></head><body id="com-atlassian-bitbucket-login">` +
      (error ? `<div class="aui-message error">${escapeHtml(error)}</div>` : '') +
      `<form id="j-login-form" method="post" action="${escapeHtml(action)}">` +
      `<input type="text" name="j_username" id="j_username"><input type="password" name="j_password" id="j_password">` +
      `<input type="submit" name="submit" value="Log in"></form></body></html>`,
  );
}

async function securityCheck(ctx: Ctx): Promise<void> {
  const form = await readForm(ctx);
  const name = form.get('j_username') ?? '';
  const password = form.get('j_password') ?? '';
  const user = name && password ? checkPassword(ctx.state, name, password) : undefined;
  const base = ctx.state.contextPath;
  if (!user) {
    redirect(ctx.res, `${base}/login?error=bad.credentials`);
    return;
  }
  const id = randomBytes(18).toString('hex');
  // Scripts that never log out (E³'s BrowseProjectsAndRepositories) must not grow memory without bound.
  const sessions = ctx.state.sessions;
  while (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
  ctx.state.sessions.set(id, { id, userId: user.id, atlToken: randomBytes(20).toString('hex'), created: Date.now() });
  const next = form.get('next');
  const target = next && /^\/[A-Za-z0-9/_.-]*$/.test(next) && !next.startsWith('//') ? `${base}${next}` : `${base}/dashboard`;
  redirect(ctx.res, target, { 'set-cookie': `${SESSION_COOKIE}=${id}; Path=${base || '/'}; HttpOnly` });
}

function logout(ctx: Ctx): void {
  const id = cookie(ctx.req, SESSION_COOKIE);
  if (id) ctx.state.sessions.delete(id);
  const base = ctx.state.contextPath;
  redirect(ctx.res, `${base}/login?logout=true`, { 'set-cookie': `${SESSION_COOKIE}=; Path=${base || '/'}; Max-Age=0` });
}

function accessLog(ctx: Ctx, started: number, status: number): void {
  const ms = Date.now() - started;
  const d = new Date(started);
  const ts = d.toISOString().replace('T', ' ').replace('Z', '').replace('.', ',');
  const proto = isGitPath(ctx.path) ? 'https' : 'http';
  const ua = String(ctx.req.headers['user-agent'] ?? '').replace(/["|\n]/g, '');
  const action = `"${ctx.req.method} ${(ctx.req.url ?? '').replace(/[\s"|]/g, '').slice(0, 2000)} HTTP/${ctx.req.httpVersion}"`;
  ctx.state.accessLog(
    `${ctx.req.socket.remoteAddress ?? '-'} | ${proto} | o${started.toString(36)} | ${ctx.user?.name ?? '-'} | ${ts} | ${action} | "" "${ua}" | ${status} | ${ms} | ${ctx.session ? ctx.session.id.slice(0, 8) : '-'} |`,
  );
}

/** The node:http request listener of a target. Never answers malformed input with a 5xx. */
export function createRequestHandler(state: TargetState): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = Date.now();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://target.invalid');
    } catch {
      sendJson(res, 400, errorBody('The request URL is malformed.', 'com.atlassian.bitbucket.validation.ArgumentValidationException'));
      return;
    }
    const ctx: Ctx = { state, req, res, path: url.pathname, query: url.searchParams, params: {} };
    res.on('finish', () => {
      const ms = Date.now() - started;
      state.counters.requests++;
      state.counters.processingMs += ms;
      if (res.statusCode >= 500) state.counters.errors5xx++;
      accessLog(ctx, started, res.statusCode);
    });
    handle(ctx).catch((err: unknown) => {
      if (isHttpFailure(err)) {
        if (!res.headersSent) sendJson(res, err.status, errorBody(err.message, err.exceptionName, err.extra), err.status === 401 && isGitPath(ctx.path) ? { 'www-authenticate': 'Basic realm="Bitbucket"' } : {});
        else res.destroy();
        req.resume();
        return;
      }
      if (isE3Error(err)) {
        state.log(`${err.code} ${req.method} ${ctx.path}: ${err.message}`);
        if (!res.headersSent) sendJson(res, 503, errorBody(err.message, 'com.atlassian.bitbucket.ServiceException'));
        else res.destroy();
        return;
      }
      state.log(`ERROR ${req.method} ${ctx.path}: ${(err as Error)?.stack ?? String(err)}`);
      if (!res.headersSent) sendJson(res, 500, errorBody('An internal error occurred.', 'java.lang.RuntimeException'));
      else res.destroy();
    });
  };
}

async function handle(ctx: Ctx): Promise<void> {
  const { state } = ctx;
  const base = state.contextPath;
  if (base) {
    if (ctx.path !== base && !ctx.path.startsWith(base + '/')) fail(404, `Nothing is served outside the context path ${base}.`, 'com.atlassian.bitbucket.NoSuchEntityException');
    ctx.path = ctx.path.slice(base.length) || '/';
  }
  if (ctx.path.includes('/../') || ctx.path.endsWith('/..') || /%2e%2e/i.test(ctx.path) || ctx.path.includes('\0')) {
    fail(400, 'The request path may not contain "..".', 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  }
  const method = ctx.req.method ?? 'GET';
  if (ctx.path === '/status') {
    sendJson(ctx.res, 200, { state: 'RUNNING' });
    return;
  }
  if (ctx.path === '/login' && method === 'GET') {
    loginPage(ctx, ctx.query.get('error') ? 'Your username and password are incorrect. Please try again.' : undefined);
    return;
  }
  if (ctx.path === '/j_atl_security_check' && method === 'POST') {
    await securityCheck(ctx);
    return;
  }
  if (ctx.path === '/j_atl_security_logout') {
    logout(ctx);
    return;
  }
  const sid = cookie(ctx.req, SESSION_COOKIE);
  const session = sid ? state.sessions.get(sid) : undefined;
  if (session) {
    const user = state.db.prepare('SELECT * FROM users WHERE id = ?').get(session.userId) as UserRow | undefined;
    if (user && user.active) {
      ctx.user = user;
      ctx.session = session;
    }
  }
  const control = ctx.req.headers['x-e3-control-token'];
  if (!ctx.user && typeof control === 'string' && state.controlToken && control.length === state.controlToken.length && timingSafeEqual(Buffer.from(control), Buffer.from(state.controlToken))) {
    ctx.user = state.db.prepare('SELECT * FROM users WHERE is_admin = 1 AND active = 1 ORDER BY id LIMIT 1').get() as UserRow | undefined;
  }
  if (!ctx.user) ctx.user = basicAuth(ctx);
  if (isGitPath(ctx.path)) {
    if (!ctx.user) {
      ctx.req.resume();
      sendJson(ctx.res, 401, errorBody('Authentication required', 'com.atlassian.bitbucket.AuthorisationException'), { 'www-authenticate': 'Basic realm="Bitbucket"' });
      return;
    }
    await serveGitHttp(ctx);
    return;
  }
  if (!ctx.user) {
    if (ctx.path.startsWith('/rest/')) fail(401, 'Authentication failed. Please check your credentials and try again.', 'com.atlassian.bitbucket.AuthorisationException');
    ctx.req.resume();
    redirect(ctx.res, `${base}/login?next=${encodeURIComponent(ctx.path)}`);
    return;
  }
  await route(ctx);
}
