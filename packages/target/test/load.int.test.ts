import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { cleanupTmp, git, seededTarget, type Fixture } from './helpers.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await seededTarget({ maxGitOps: 8, users: 20, metricsIntervalMs: 500 });
});
afterAll(async () => {
  await fx.target.close();
  await cleanupTmp();
});

const REPOS = [
  ['PROJECT_1', 'repo-1'],
  ['PROJECT_1', 'repo-2'],
  ['PROJECT_2', 'repo-1'],
  ['PROJECT_2', 'repo-2'],
] as const;

describe('load: 200 concurrent clones (SSH + HTTP) and 20 concurrent pushes with --max-git-ops 8', () => {
  it('has zero server errors, shows queued ops in the tickets metric, and every repo passes fsck', async () => {
    const sshCommands = await Promise.all(Array.from({ length: 10 }, (_, i) => fx.sshCommand(i)));
    // Working copies for the pushes, cloned straight from disk so the load phase holds only the pushes.
    const pushers = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const [key, slug] = REPOS[i % REPOS.length]!;
        const dir = join(fx.work, `push-${i}`);
        await git(['clone', '-q', `file://${join(fx.data, 'repos', key, `${slug}.git`)}`, dir]);
        await git(['checkout', '-q', '-b', `bugfix/load-${i}`], { cwd: dir });
        await git(['commit', '-q', '--allow-empty', '-m', `load ${i}`], { cwd: dir });
        const url = i % 2 === 0 ? fx.httpUrl(`user-${String(1 + (i % 20)).padStart(4, '0')}`, 'test', key, slug) : fx.sshUrl(key, slug);
        return { dir, url, ssh: sshCommands[i % sshCommands.length]!, branch: `bugfix/load-${i}` };
      }),
    );
    const started = Date.now();
    const clones = Array.from({ length: 200 }, (_, i) => {
      const [key, slug] = REPOS[i % REPOS.length]!;
      const overSsh = i % 2 === 1;
      const url = overSsh ? fx.sshUrl(key, slug) : fx.httpUrl(`user-${String(1 + (i % 20)).padStart(4, '0')}`, 'test', key, slug);
      return git(['clone', '-q', url, join(fx.work, `clone-${i}`)], { env: overSsh ? { GIT_SSH_COMMAND: sshCommands[i % sshCommands.length]! } : {}, timeoutMs: 120_000 });
    });
    const pushes = pushers.map((p) => git(['push', '-q', '-u', p.url, p.branch], { cwd: p.dir, env: { GIT_SSH_COMMAND: p.ssh }, timeoutMs: 120_000 }));
    const results = await Promise.all([...clones, ...pushes]);
    const failed = results.map((r, i) => ({ i, code: r.code, err: r.stderr.slice(0, 300) })).filter((r) => r.code !== 0);
    expect(failed).toEqual([]);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(90_000);

    // Let the metrics writer take at least one more sample.
    await new Promise((r) => setTimeout(r, 700));
    const access = await readFile(join(fx.data, 'log', 'atlassian-bitbucket-access.log'), 'utf8');
    const statuses = access.trim().split('\n').map((l) => Number(l.split(' | ')[7]));
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.length).toBeGreaterThanOrEqual(200);
    const metrics = join(fx.data, 'collectd-csv', 'localhost', 'GenericJMX-com.atlassian.bitbucket_HostingTickets');
    const files = await readdir(metrics);
    const queuedFile = files.find((f) => f.startsWith('gauge-QueuedRequests-'))!;
    const queued = (await readFile(join(metrics, queuedFile), 'utf8')).trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));
    expect(Math.max(...queued)).toBeGreaterThan(0);
    const used = (await readFile(join(metrics, files.find((f) => f.startsWith('gauge-Used-'))!), 'utf8')).trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));
    expect(Math.max(...used)).toBeLessThanOrEqual(8);
    expect(Math.max(...used)).toBeGreaterThan(0);
    const total = (await readFile(join(metrics, files.find((f) => f.startsWith('gauge-Total-'))!), 'utf8')).trim().split('\n')[1];
    expect(total?.split(',')[1]).toBe('8');

    for (const [key, slug] of REPOS) {
      const res = await git(['fsck', '--strict', '--no-progress'], { cwd: join(fx.data, 'repos', key, `${slug}.git`) });
      expect({ key, slug, code: res.code, err: res.stderr }).toEqual({ key, slug, code: 0, err: '' });
    }
    const ls = await git(['for-each-ref', '--format=%(refname)', 'refs/heads/bugfix/'], { cwd: join(fx.data, 'repos', 'PROJECT_1', 'repo-1.git') });
    expect(ls.stdout.trim().split('\n')).toHaveLength(5);
  });
});
