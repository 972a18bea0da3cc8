import { request } from 'node:http';
import { connect } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { cleanupTmp, http, seededTarget, type Fixture } from './helpers.js';

let fx: Fixture;
let base: string;
const admin: [string, string] = ['admin', 'admin'];
const auth = `Basic ${Buffer.from('user-0001:test').toString('base64')}`;

beforeAll(async () => {
  fx = await seededTarget();
  base = fx.target.url;
});
afterAll(async () => {
  await fx.target.close();
  await cleanupTmp();
});

/** A request whose path is sent exactly as given (fetch would normalise `..`). */
function raw(path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: fx.target.httpPort, path, method: options.method ?? 'GET', headers: { authorization: auth, ...options.headers } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function expectBitbucket4xx(res: { status: number; body?: string; text?: string }): void {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  const body = JSON.parse(res.body ?? res.text ?? '');
  expect(typeof body.errors[0].message).toBe('string');
}

describe('malformed input gets a Bitbucket-shaped 4xx, never a crash or a 5xx', () => {
  it('bad Authorization headers', async () => {
    for (const header of ['Basic !!!', 'Bearer abc', `Basic ${Buffer.from('no-colon').toString('base64')}`, `Basic ${Buffer.from('user-0001:wrong').toString('base64')}`, 'Basic', `Basic ${'A'.repeat(5000)}`]) {
      const res = await raw('/rest/api/1.0/projects', { headers: { authorization: header } });
      expect(res.status).toBe(401);
      expectBitbucket4xx(res);
    }
  });

  it('path tricks, bad encodings, unknown projects and repos', async () => {
    for (const path of [
      '/rest/api/1.0/projects/../../etc/passwd',
      '/rest/api/1.0/projects/%2e%2e/repos',
      '/scm/../../etc/passwd',
      '/rest/api/1.0/projects/%E0%A4%A/repos',
      '/rest/api/1.0/projects/NOPE/repos',
      '/rest/api/1.0/projects/PROJECT_1/repos/nope/branches',
      '/rest/api/1.0/projects/PROJECT_1/repos/repo-1/pull-requests/abc',
      '/rest/api/1.0/projects/PROJECT_1/repos/repo-1/pull-requests/999',
      '/rest/api/1.0/projects/PROJECT_1/repos/repo-1/compare/changes?from=--upload-pack=x&to=master',
      '/rest/api/1.0/projects/PROJECT_1/repos/repo-1/compare/changes?from=nope&to=master',
      '/rest/api/1.0/projects/PROJECT_1/repos/repo-1/compare/diff/../../x?from=master&to=develop',
      '/rest/api/1.0/projects/PROJECT_1/repos/repo-1/pull-requests/1/diff/%2e%2e/x',
      '/rest/api/1.0/projects?start=abc',
      '/rest/api/1.0/nothing/here',
      '/rest/build-status/latest/commits/stats/not-a-commit!',
      '/scm/PROJECT_1/repo-1.git/info/refs?service=git-evil',
      '/scm/NOPE/x.git/info/refs?service=git-upload-pack',
    ]) {
      const res = await raw(path);
      expect({ path, status: res.status }).toEqual({ path, status: expect.any(Number) });
      expectBitbucket4xx(res);
    }
  });

  it('garbage JSON, wrong JSON types, garbage forms and huge bodies', async () => {
    const prs = '/rest/api/1.0/projects/PROJECT_1/repos/repo-1/pull-requests';
    for (const body of ['{not json', '[1,2]', '"str"', JSON.stringify({ fromRef: 5, toRef: null, title: {} }), JSON.stringify({ title: 'x', fromRef: { id: 'refs/heads/nope' }, toRef: { id: 'refs/heads/master' } })]) {
      const res = await raw(prs, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expectBitbucket4xx(res);
    }
    const huge = await raw(prs, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(3 * 1024 * 1024, 0x61) });
    expect(huge.status).toBe(413);
    const form = await raw('/projects/PROJECT_1/repos/repo-1/pull-requests?create', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from([0xff, 0xfe, 0x26, 0x3d, 0x3d, 0x25]) });
    expect(form.status).toBeLessThan(500);
    const login = await http(`${base}/j_atl_security_check`, { method: 'POST', body: '%%%&&&===\u0000', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toContain('/login');
    const key = await http(`${base}/rest/ssh/1.0/keys`, { method: 'POST', auth: admin, json: { text: 'ssh-rsa AAAA' + 'x'.repeat(100) } });
    expectBitbucket4xx(key);
    const merge = await raw(`${prs}/1/merge?version=abc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expectBitbucket4xx(merge);
  });

  it('a malformed HTTP request line gets a 400 and the server keeps running', async () => {
    const answer = await new Promise<string>((resolve) => {
      const sock = connect(fx.target.httpPort, '127.0.0.1', () => sock.write('GARBAGE \x01\x02 NOT-HTTP\r\n\r\n'));
      let data = '';
      sock.on('data', (d) => (data += d.toString()));
      sock.on('close', () => resolve(data));
      sock.on('error', () => resolve(data));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect((await http(`${base}/status`)).json).toEqual({ state: 'RUNNING' });
  });

  it('random paths, methods and queries never produce a 5xx', async () => {
    const segment = fc.oneof(
      fc.constantFrom('rest', 'api', '1.0', 'latest', 'projects', 'PROJECT_1', 'repos', 'repo-1', 'pull-requests', '1', 'merge', 'diff', 'changes', 'branches', 'compare', '..', '%2e', '%00', 'scm', 'x.git', 'info', 'refs'),
      fc.string({ maxLength: 8 }).map((s) => encodeURIComponent(s)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 9 }), fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), fc.string({ maxLength: 30 }), async (segs, method, q) => {
        const res = await raw(`/${segs.join('/')}?${encodeURIComponent(q)}=${encodeURIComponent(q)}&start=${encodeURIComponent(q)}`, { method, body: method === 'GET' ? undefined : q, headers: { 'content-type': 'application/json' } });
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
    expect((await http(`${base}/status`)).json).toEqual({ state: 'RUNNING' });
  });
});
