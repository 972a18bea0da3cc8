import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A loopback HTTP server on a free port; `close()` ends it and its keep-alive sockets. */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string; port: number; close(): Promise<void> }> {
  const server = createServer(handler);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A port where nothing listens (bound, then closed). */
export async function deadPort(): Promise<number> {
  const s = await listen(() => undefined);
  await s.close();
  return s.port;
}

const git = (args: string[], cwd?: string) => execFileSync('git', args, { cwd, stdio: 'pipe', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd ?? process.cwd() } }).toString();

/** Makes bare repos `<root>/<KEY>/<slug>.git` with a few text files on `master`. */
export function makeBareRepo(root: string, key: string, slug: string, options: { rejectPush?: boolean } = {}): string {
  const bare = join(root, key, `${slug}.git`);
  mkdirSync(bare, { recursive: true });
  git(['init', '--quiet', '--bare', '-b', 'master', bare]);
  git(['config', 'http.receivepack', 'true'], bare);
  const work = join(root, '.work', key, slug);
  mkdirSync(join(work, 'src'), { recursive: true });
  git(['init', '--quiet', '-b', 'master', work]);
  writeFileSync(join(work, 'README.md'), '# readme\nline two\n');
  writeFileSync(join(work, 'src', 'main.js'), 'console.log(1);\n// two\n// three\n');
  git(['-c', 'user.name=t', '-c', 'user.email=t@t', 'add', '.'], work);
  git(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'init'], work);
  git(['push', '--quiet', bare, 'master'], work);
  if (options.rejectPush) {
    const hook = join(bare, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho "push rejected by policy" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
  }
  return bare;
}

/**
 * Serves `root` over smart HTTP with `git http-backend` at `<contextPath>/scm/<KEY>/<slug>.git`, requiring
 * HTTP basic auth (any user, password `pw`). Other paths answer 404.
 */
export async function gitHttpServer(root: string, contextPath = ''): Promise<Awaited<ReturnType<typeof listen>> & { requests: string[] }> {
  const requests: string[] = [];
  const s = await listen((req, res) => {
    const url = new URL(req.url!, 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    const prefix = `${contextPath}/scm/`;
    if (!url.pathname.startsWith(prefix)) {
      res.writeHead(404).end('not found');
      return;
    }
    const auth = req.headers.authorization;
    const user = auth ? Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString().split(':') : [];
    if (user[1] !== 'pw') {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end();
      return;
    }
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH, GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: '1', PATH_INFO: url.pathname.slice(prefix.length - 1),
        QUERY_STRING: url.search.slice(1), REQUEST_METHOD: req.method, CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_USER: user[0], REMOTE_ADDR: '127.0.0.1', HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_CONFIG_NOSYSTEM: '1', HOME: root,
      },
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const i = line.indexOf(':');
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (/^status$/i.test(k)) status = Number(v.split(' ')[0]);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    child.on('close', () => {
      if (!headersDone) res.writeHead(500);
      res.end();
    });
  });
  return { ...s, requests };
}
