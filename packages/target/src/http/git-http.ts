import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { findRepo } from '../db.js';
import { errorBody, sendJson, type Ctx } from './context.js';

const GIT_PATH = /^\/scm\/([A-Za-z0-9_~-]{1,128})\/([A-Za-z0-9._-]{1,128}?)(?:\.git)?(\/info\/refs|\/git-upload-pack|\/git-receive-pack|\/HEAD)$/;

function pktLine(s: string): string {
  return (s.length + 4).toString(16).padStart(4, '0') + s;
}

/** True when `path` (below the context) is a smart-HTTP git URL. */
export function isGitPath(path: string): boolean {
  return path.startsWith('/scm/');
}

/**
 * Serves `/scm/<KEY>/<slug>.git/{info/refs,git-upload-pack,git-receive-pack}` through `git http-backend`.
 * The caller has authenticated `ctx.user`. Each request holds one hosting ticket while git runs.
 */
export async function serveGitHttp(ctx: Ctx): Promise<void> {
  const { req, res, state } = ctx;
  const m = GIT_PATH.exec(ctx.path);
  const repo = m ? findRepo(state.db, m[1]!, m[2]!) : undefined;
  if (!m || !repo) {
    sendJson(res, 404, errorBody('Repository not found', 'com.atlassian.bitbucket.repository.NoSuchRepositoryException'));
    req.resume();
    return;
  }
  const service = m[3] === '/info/refs' ? ctx.query.get('service') : m[3]!.slice(1);
  if (service !== null && service !== 'git-upload-pack' && service !== 'git-receive-pack') {
    sendJson(res, 403, errorBody('Only git-upload-pack and git-receive-pack are served.', 'com.atlassian.bitbucket.AuthorisationException'));
    req.resume();
    return;
  }
  let release: () => void;
  try {
    release = await state.tickets.acquire();
  } catch (err) {
    req.resume();
    const message = (err as Error).message;
    if (m[3] === '/info/refs' && service) {
      const body = pktLine(`# service=${service}\n`) + '0000' + pktLine(`ERR ${message}\n`);
      res.writeHead(200, { 'content-type': `application/x-${service}-advertisement`, 'cache-control': 'no-cache' });
      res.end(body);
    } else {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end(message + '\n');
    }
    return;
  }
  if (service === 'git-receive-pack' && m[3] !== '/info/refs') state.counters.pushes++;
  if (service === 'git-upload-pack' && m[3] !== '/info/refs') state.counters.pulls++;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_PROJECT_ROOT: join(state.dataDir, 'repos'),
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: `/${repo.project_key}/${repo.slug}.git${m[3]}`,
    QUERY_STRING: ctx.query.toString(),
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_USER: ctx.user?.name ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
    GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
  };
  if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
  if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
  if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let finished = false;
  const done = (): void => {
    if (finished) return;
    finished = true;
    release();
  };
  child.on('close', done);
  child.on('error', () => {
    done();
    if (!res.headersSent) sendJson(res, 503, errorBody('git is not available on the target', 'com.atlassian.bitbucket.ServiceException'));
  });
  // A client that goes away mid-response stops git; after a complete response git finishes on its own.
  res.on('close', () => {
    if (!finished && !res.writableFinished) child.kill('SIGTERM');
  });
  child.stdin.on('error', () => undefined);
  req.pipe(child.stdin);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  // Parse CGI headers, then stream the rest.
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    let end = head.indexOf('\r\n\r\n');
    let sepLen = 4;
    if (end < 0) {
      end = head.indexOf('\n\n');
      sepLen = 2;
    }
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const name = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
      else headers[name] = value;
    }
    res.writeHead(status, headers);
    const rest = head.subarray(end + sepLen);
    if (rest.length) res.write(rest);
  });
  child.stdout.on('end', () => {
    if (!headersDone && !res.headersSent) {
      sendJson(res, 500, errorBody(`git http-backend failed: ${stderr.trim().slice(0, 200)}`, 'com.atlassian.bitbucket.ServiceException'));
      return;
    }
    res.end();
  });
}
