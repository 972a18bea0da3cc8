import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { makeTmpDir } from '@e3/test-utils';
import { afterEach, describe, expect, it } from '@jest/globals';

import { addUsers, keygen, snapshot } from '@e3/snapshot';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A loopback HTTP server answering with `handler`; returns its base URL. */
async function serve(handler: Handler): Promise<string> {
  const server = createServer((req, res) => handler(req, res, new URL(req.url!, 'http://x')));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** A Bitbucket page of `items` from the request's start/limit. */
function page(url: URL, items: unknown[]): unknown {
  const start = Number(url.searchParams.get('start') ?? 0);
  const limit = Number(url.searchParams.get('limit') ?? 25);
  const values = items.slice(start, start + limit);
  const isLastPage = start + values.length >= items.length;
  return { size: values.length, limit, start, isLastPage, values, ...(isLastPage ? {} : { nextPageStart: start + values.length }) };
}

const base = async (url: string) => ({ url, username: 'admin', password: 'secret-pw', name: 'x', home: await makeTmpDir('e3-home-') });

describe('snapshot errors', () => {
  it('401 names the user and the URL, never the password', async () => {
    const url = await serve((_req, res) => json(res, 401, { errors: [{ message: 'Authentication failed. Please check your credentials and try again.' }] }));
    const err = await snapshot(await base(url)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E3_HTTP' });
    expect((err as Error).message).toBe(`401 Unauthorized: GET ${url}/rest/api/1.0/projects refused the credentials of user "admin": Authentication failed. Please check your credentials and try again.`);
    expect((err as { hint: string }).hint).toMatchInlineSnapshot(`"Check --username and the password in the variable named by --password-env"`);
    expect(JSON.stringify(err) + (err as Error).message).not.toContain('secret-pw');
  });

  it('403 says which user lacks permission on which URL', async () => {
    const url = await serve((req, res, u) => {
      if (u.pathname === '/rest/api/1.0/projects') return json(res, 200, page(u, [{ key: 'P' }]));
      if (u.pathname.endsWith('/repos')) return json(res, 200, page(u, [{ slug: 'r' }]));
      if (u.pathname.endsWith('/branches')) return json(res, 200, page(u, [{ id: 'refs/heads/master', displayId: 'master' }]));
      if (u.pathname === '/rest/api/1.0/users') return json(res, 200, page(u, [{ name: 'u1' }]));
      json(res, 403, { errors: [{ message: 'You are not permitted to access this resource' }] });
    });
    const options = await base(url);
    await keygen({ count: 1, name: 'k', home: options.home });
    const err = await snapshot({ ...options, keyFile: 'k' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E3_HTTP', message: `403 Forbidden: user "admin" may not GET ${url}/rest/ssh/1.0/keys: You are not permitted to access this resource` });
  });

  it('an unreachable server is an environment error naming the URL', async () => {
    const url = await serve(() => undefined);
    servers.pop()!.close();
    await new Promise((r) => setTimeout(r, 50));
    const err = await snapshot(await base(url)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E3_ENVIRONMENT', message: `cannot reach ${url}: ECONNREFUSED` });
  });

  it('an empty server is an environment error with the next step', async () => {
    const url = await serve((_req, res, u) => json(res, 200, page(u, [])));
    await expect(snapshot(await base(url))).rejects.toMatchObject({ code: 'E3_ENVIRONMENT', message: `${url} has no projects that user "admin" can see` });
  });

  it('a server whose repositories have no branches is refused', async () => {
    const url = await serve((_req, res, u) => json(res, 200, page(u, u.pathname.endsWith('/projects') ? [{ key: 'P' }] : u.pathname.endsWith('/repos') ? [{ slug: 'r' }] : [])));
    await expect(snapshot(await base(url))).rejects.toMatchObject({ code: 'E3_ENVIRONMENT', message: expect.stringContaining('no repository with a branch') });
  });

  it('a URL without the REST API (HTML, 404) points at --url', async () => {
    const html = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html></html>');
    });
    await expect(snapshot(await base(html))).rejects.toMatchObject({ code: 'E3_HTTP', hint: expect.stringContaining('--url') });
    const missing = await serve((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    await expect(snapshot(await base(missing))).rejects.toMatchObject({ code: 'E3_HTTP', message: expect.stringContaining('404 Not Found') });
  });

  it('paging that does not advance stops with an error instead of looping', async () => {
    const url = await serve((_req, res) => json(res, 200, { values: [{ key: 'P' }], isLastPage: false, nextPageStart: 0 }));
    await expect(snapshot(await base(url))).rejects.toMatchObject({ code: 'E3_HTTP', message: expect.stringContaining('does not advance') });
  });

  it('bad options are usage errors before any request', async () => {
    await expect(snapshot({ ...(await base('http://127.0.0.1:9')), name: '../x' })).rejects.toMatchObject({ code: 'E3_USAGE' });
    await expect(snapshot({ ...(await base('ftp://h')) })).rejects.toMatchObject({ code: 'E3_USAGE' });
    await expect(snapshot({ ...(await base('http://u:p@h')) })).rejects.toMatchObject({ code: 'E3_USAGE' });
    await expect(snapshot({ ...(await base('http://127.0.0.1:9')), distribution: 'exponential', distributionFactor: 0 })).rejects.toMatchObject({ code: 'E3_USAGE' });
  });
});

describe('snapshot paging', () => {
  it('follows nextPageStart when the server returns fewer values than asked for', async () => {
    const cap = (u: URL, items: unknown[]) => {
      u.searchParams.set('limit', String(Math.min(3, Number(u.searchParams.get('limit')))));
      return page(u, items);
    };
    const requests: string[] = [];
    const url = await serve((_req, res, u) => {
      requests.push(u.pathname + u.search);
      if (u.pathname === '/rest/api/1.0/projects') return json(res, 200, cap(u, Array.from({ length: 7 }, (_, i) => ({ key: `P${i}` }))));
      if (u.pathname.endsWith('/repos')) return json(res, 200, cap(u, Array.from({ length: 4 }, (_, i) => ({ slug: `r${i}` }))));
      if (u.pathname.endsWith('/branches')) return json(res, 200, cap(u, Array.from({ length: 9 }, (_, i) => ({ id: `refs/heads/b${i}`, displayId: `b${i}` }))));
      if (u.pathname === '/rest/api/1.0/users') return json(res, 200, cap(u, [{ name: 'admin' }, ...Array.from({ length: 10 }, (_, i) => ({ name: `u${i}` }))]));
      json(res, 404, { errors: [{ message: 'no' }] });
    });
    const r = await snapshot({ ...(await base(url)), userPassword: 'pw', maxBranch: 5, maxUser: 8, write: false });
    expect(r.snapshot.projects.map((p) => p.name)).toEqual(['P0', 'P1', 'P2', 'P3', 'P4', 'P5', 'P6']);
    expect(r.repos).toBe(28);
    expect(r.snapshot.projects[6]!.repos[3]!.branches.map((b) => b.displayId)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    expect(r.snapshot.users.map((u) => u.username)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7']);
    expect(requests.filter((q) => q.startsWith('/rest/api/1.0/projects?'))).toEqual(['/rest/api/1.0/projects?start=0&limit=100', '/rest/api/1.0/projects?start=3&limit=97', '/rest/api/1.0/projects?start=6&limit=94']);
  });
});

describe('add-users requests', () => {
  it('sends well-formed query strings and the password only in a JSON body', async () => {
    const seen: Array<{ method: string; path: string; query: string; body: string }> = [];
    const users = new Set<string>();
    const keys = new Map<string, string[]>();
    const url = await serve((req, res, u) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ method: req.method!, path: u.pathname, query: u.search, body });
        const name = decodeURIComponent(u.pathname.split('/').pop()!);
        if (req.method === 'GET' && u.pathname.startsWith('/rest/api/1.0/users/')) return users.has(name) ? json(res, 200, { name }) : json(res, 404, { errors: [{ message: 'no such user' }] });
        if (req.method === 'POST' && u.pathname === '/rest/api/1.0/admin/users') {
          users.add(u.searchParams.get('name')!);
          res.writeHead(204);
          return res.end();
        }
        if (req.method === 'PUT') {
          res.writeHead(204);
          return res.end();
        }
        const user = u.searchParams.get('user')!;
        if (req.method === 'GET') return json(res, 200, page(u, (keys.get(user) ?? []).map((text) => ({ text }))));
        keys.set(user, [...(keys.get(user) ?? []), JSON.parse(body).text]);
        json(res, 201, { id: 1, text: JSON.parse(body).text });
      });
    });
    const home = await makeTmpDir('e3-home-');
    await keygen({ count: 2, name: 'pool', home });
    const options = { url, username: 'admin', password: 'admin-pw', count: 2, keys: 'pool', userPassword: 'user pw&x=1', home };
    const first = await addUsers(options);
    expect(first).toMatchObject({ created: ['user_0', 'user_1'], existing: [], keysAdded: 2 });
    const post = seen.find((s) => s.method === 'POST' && s.path === '/rest/api/1.0/admin/users')!;
    expect(post.query).toMatch(/^\?name=user_0&password=[A-Za-z0-9_-]+&displayName=user_0&emailAddress=user_0%40example.com&addToDefaultGroup=true&notify=false$/);
    expect(seen.every((s) => !s.query.includes('user%20pw') && !s.query.includes('&true'))).toBe(true);
    expect(JSON.parse(seen.find((s) => s.method === 'PUT')!.body)).toEqual({ name: 'user_0', password: 'user pw&x=1', passwordConfirm: 'user pw&x=1' });
    seen.length = 0;
    const again = await addUsers(options);
    expect(again).toMatchObject({ created: [], existing: ['user_0', 'user_1'], keysAdded: 0 });
    expect(seen.filter((s) => s.method === 'POST')).toEqual([]);
  });
});
