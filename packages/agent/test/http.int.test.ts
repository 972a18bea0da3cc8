import { describe, expect, it } from '@jest/globals';
import { createHttpClient, type OpRecord } from '@e3/agent';

import { deadPort, listen } from './helpers.js';

describe('createHttpClient', () => {
  it('keeps one connection alive, carries cookies, records TTFB separately from the body', async () => {
    const sockets = new Set<unknown>();
    const srv = await listen((req, res) => {
      sockets.add(req.socket);
      if (req.url === '/ctx/login') {
        res.writeHead(200, { 'set-cookie': 'JSESSIONID=s1; Path=/; HttpOnly' }).end('ok');
      } else if (req.url === '/ctx/slow-body') {
        res.writeHead(200);
        res.write('a');
        setTimeout(() => res.end('b'), 120);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ cookie: req.headers.cookie ?? null }));
      }
    });
    const records: OpRecord[] = [];
    const http = createHttpClient({ baseUrl: `${srv.url}/ctx/`, sink: (r) => records.push(r) });
    try {
      await http.get('/login');
      const res = await http.get('/rest/x', { accept: 'json', query: { a: 1, b: undefined } });
      expect(res.json()).toEqual({ cookie: 'JSESSIONID=s1' });
      await http.get('/slow-body');
      for (let i = 0; i < 10; i++) await http.get('/rest/x');
      expect(sockets.size).toBe(1);
      expect(records.map((r) => r.op).slice(0, 3)).toEqual(['GET /login', 'GET /rest/x', 'GET /slow-body']);
      const slow = records[2]!;
      expect(slow.ttfb!).toBeLessThan(slow.duration - 80);
      expect(records.every((r) => r.ok && r.status === 200)).toBe(true);
    } finally {
      await http.close();
      await srv.close();
    }
  });

  it('records an unexpected status as an http error and throws it, or returns it when asked', async () => {
    const srv = await listen((_req, res) => res.writeHead(404).end('nope'));
    const records: OpRecord[] = [];
    const http = createHttpClient({ baseUrl: srv.url, sink: (r) => records.push(r) });
    try {
      await expect(http.get('/x')).rejects.toMatchObject({ errorClass: 'http', recorded: true });
      const res = await http.get('/x', { throwOnFailure: false });
      expect(res.status).toBe(404);
      expect((await http.get('/x', { expect: [404] })).status).toBe(404);
      expect(records.map((r) => [r.ok, r.error])).toEqual([[false, 'http 404'], [false, 'http 404'], [true, undefined]]);
    } finally {
      await http.close();
      await srv.close();
    }
  });

  it('classifies a refused connection as exception and a silent server as timeout', async () => {
    const records: OpRecord[] = [];
    const down = createHttpClient({ baseUrl: `http://127.0.0.1:${await deadPort()}`, sink: (r) => records.push(r) });
    await expect(down.get('/x')).rejects.toMatchObject({ errorClass: 'exception' });
    expect(records[0]!.error).toMatch(/^exception .*ECONNREFUSED/);
    await down.close();
    const srv = await listen(() => undefined);
    const silent = createHttpClient({ baseUrl: srv.url, sink: (r) => records.push(r), timeoutMs: 150 });
    await expect(silent.get('/x')).rejects.toMatchObject({ errorClass: 'timeout' });
    expect(records[1]!.error).toBe('timeout after 150 ms');
    await silent.close();
    await srv.close();
  });
});
