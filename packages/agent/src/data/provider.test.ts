import { readFileSync } from 'node:fs';

import { describe, expect, it } from '@jest/globals';
import { e3OriginalHome } from '@e3/test-utils';

import { createTestData } from './provider.js';

const E3_HOME = e3OriginalHome;
const load = (rel: string) => JSON.parse(readFileSync(`${E3_HOME}/${rel}`, 'utf8')) as Record<string, unknown>;

const snapshot = {
  projects: [
    { name: 'A', repos: [{ name: 'one', weight: 3, branches: [{ id: 'refs/heads/dev', displayId: 'dev' }, { id: 'refs/heads/main', displayId: 'main', isDefault: true }] }] },
    { name: 'B', repos: [{ name: 'two', weight: 1, branches: [] }, { name: 'zero', weight: 0 }] },
  ],
  users: [{ username: 'h', password: 'p' }, { username: 's', private_key: 'KEY' }, { username: 'k' }, { username: 'both', password: 'x', private_key: 'K2' }],
};

describe('createTestData', () => {
  it('keeps the context path in HTTP clone URLs and uses the SSH port of the instance', () => {
    const d = createTestData({ instance: { URL: 'http://bb.example:7990/bitbucket/', SshPort: 2222 }, snapshot });
    const repo = d.repos[0]!;
    expect(d.baseUrl).toBe('http://bb.example:7990/bitbucket');
    expect(d.httpCloneUrl(repo)).toBe('http://bb.example:7990/bitbucket/scm/A/one.git');
    expect(d.sshCloneUrl(repo)).toBe('ssh://git@bb.example:2222/A/one.git');
    expect(d.defaultBranch(repo)).toBe('main');
    expect(d.defaultBranch(d.repos[1]!)).toBe('master');
  });

  it('sends HTTP to InternalURL when the instance has one (the workers inside the VPC), SSH to SshHost, direct to DirectURL', () => {
    const instance = { URL: 'http://public-lb.example', InternalURL: 'http://internal-lb.example/', SshHost: 'nlb.example', DirectURL: 'http://node-1.example:7990' };
    const d = createTestData({ instance, snapshot });
    const repo = d.repos[0]!;
    expect(d.baseUrl).toBe('http://internal-lb.example');
    expect(d.httpCloneUrl(repo)).toBe('http://internal-lb.example/scm/A/one.git');
    expect(d.httpDirectCloneUrl(repo)).toBe('http://node-1.example:7990/scm/A/one.git');
    expect(d.sshCloneUrl(repo)).toBe('ssh://git@nlb.example:7999/A/one.git');
    expect(createTestData({ instance: { URL: 'http://public-lb.example', InternalURL: '' }, snapshot }).baseUrl).toBe('http://public-lb.example');
  });

  it("carries the instance's Bitbucket version; absent or empty is none", () => {
    expect(createTestData({ instance: { URL: 'http://bb.example', version: '7.21.0' }, snapshot }).bitbucketVersion).toBe('7.21.0');
    expect(createTestData({ instance: { URL: 'http://bb.example' }, snapshot }).bitbucketVersion).toBeUndefined();
    expect(createTestData({ instance: { URL: 'http://bb.example', version: '' }, snapshot }).bitbucketVersion).toBeUndefined();
  });

  it('adds the direct port with its colon (E³ appended 7990 without one)', () => {
    const d = createTestData({ instance: { URL: 'http://lb.example/bitbucket' }, snapshot });
    expect(d.httpDirectCloneUrl(d.repos[0]!)).toBe('http://lb.example:7990/bitbucket/scm/A/one.git');
    expect(d.sshCloneUrl(d.repos[0]!)).toBe('ssh://git@lb.example:7999/A/one.git');
  });

  it('draws repos by weight and never a zero-weight repo', () => {
    const d = createTestData({ instance: { URL: 'http://h' }, snapshot });
    const seen = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const r = d.repo(() => (i + 0.5) / 4000);
      seen.set(r.slug, (seen.get(r.slug) ?? 0) + 1);
    }
    expect(seen.get('one')).toBe(3000);
    expect(seen.get('two')).toBe(1000);
    expect(seen.has('zero')).toBe(false);
  });

  it('splits users into HTTP and SSH users and gives key pairs to users without credentials', () => {
    const d = createTestData({ instance: { URL: 'http://h' }, snapshot, keys: { key_pairs: [{ public_key: 'ssh-rsa AAA', private_key: 'PK' }] } });
    expect(d.httpUsers.map((u) => u.username)).toEqual(['h', 'both']);
    expect(d.sshUsers.map((u) => u.username)).toEqual(['s', 'k', 'both']);
    expect(d.sshUsers[1]!.privateKey).toBe('PK');
  });

  it("reads E³'s e3-small snapshot and instance files", () => {
    const d = createTestData({ instance: load('instances/localhost:7990-nocontext.json'), snapshot: load('snapshots/e3-small.json') });
    expect(d.httpUsers).toHaveLength(100);
    expect(d.sshUsers).toHaveLength(100);
    expect(d.adminPassword).toBe('admin');
    expect(d.repos.length).toBeGreaterThan(1);
  });

  it('fails with E3_INVALID_FILE when the instance has no URL or the snapshot no repo', () => {
    expect(() => createTestData({ instance: {}, snapshot })).toThrow(expect.objectContaining({ code: 'E3_INVALID_FILE' }));
    expect(() => createTestData({ instance: { URL: 'http://h' }, snapshot: { projects: [] } })).toThrow(expect.objectContaining({ code: 'E3_INVALID_FILE' }));
    expect(() => createTestData({ instance: { URL: 'http://h' }, snapshot: { projects: snapshot.projects } }).httpUser()).toThrow(
      expect.objectContaining({ code: 'E3_INVALID_FILE' }),
    );
  });
});
