import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { createGitRunner, runStage, type OpRecord } from '@e3/agent';
import { readSamples, type SampleRow } from '@e3/model';
import { makeTmpDir } from '@e3/test-utils';

import { deadPort, gitHttpServer, listen, makeBareRepo } from './helpers.js';


const snapshot = {
  projects: [{ name: 'PRJ', repos: [{ name: 'repo', weight: 1, branches: [{ id: 'refs/heads/master', displayId: 'master', isDefault: true }] }] }],
  users: [{ username: 'alice', password: 'pw' }, { username: 'bob', password: 'pw' }],
};

async function rowsOf(file: string): Promise<SampleRow[]> {
  const rows: SampleRow[] = [];
  for await (const r of readSamples(file)) rows.push(r);
  return rows;
}

describe('createGitRunner', () => {
  it("runs git as the user, with that user's HOME, and records every call", async () => {
    const dir = await makeTmpDir();
    const bare = makeBareRepo(join(dir, 'repos'), 'PRJ', 'repo');
    const records: OpRecord[] = [];
    const git = createGitRunner({ homesDir: join(dir, 'homes'), sink: (r) => records.push(r) });
    const as = { username: 'carol', password: 'secret-pw' };
    await git(['clone', '--quiet', bare, join(dir, 'c')], { as });
    const name = await git(['config', 'user.name'], { cwd: join(dir, 'c'), as });
    expect(name.stdout.trim()).toBe('carol');
    await expect(git(['clone', join(dir, 'missing.git'), join(dir, 'd')], { as })).rejects.toMatchObject({ errorClass: 'git' });
    expect(records.map((r) => [r.op, r.ok])).toEqual([['git clone', true], ['git config', true], ['git clone', false]]);
    expect(records[2]).toMatchObject({ status: 128 });
    expect(records[2]!.error).toMatch(/^git 128: /);
    expect(JSON.stringify(records)).not.toContain('secret-pw');
  });
});

describe('scm scripts over smart HTTP (git http-backend, context path)', () => {
  it('GitCloneOverHttp, GitLsRemoteHttp and PushChangesHttp make E³’s git calls with zero errors, and pushed branches are deleted at the end', async () => {
    const dir = await makeTmpDir();
    const repos = join(dir, 'repos');
    const bare = makeBareRepo(repos, 'PRJ', 'repo');
    const srv = await gitHttpServer(repos, '/bb');
    try {
      const result = await runStage({
        workload: [
          { script: 'bitbucket.scm.GitCloneOverHttp', description: 'Clone', weight: 0.34 },
          { script: 'bitbucket.scm.GitLsRemoteHttp', description: 'LsRemote', weight: 0.33 },
          { script: 'bitbucket.scm.PushChangesHttp', description: 'Push', weight: 0.33 },
        ],
        instance: { URL: `${srv.url}/bb` },
        snapshot,
        stageDir: join(dir, 'stage-000'),
        workDir: join(dir, 'work'),
        clients: 3,
        durationMs: 2500,
      });
      const rows = await rowsOf(result.samplesFile);
      expect(rows.filter((r) => !r.ok)).toEqual([]);
      const ops = (test: string) => new Set(rows.filter((r) => r.test === test && r.kind === 'request').map((r) => r.op));
      expect(ops('Clone')).toEqual(new Set(['git clone']));
      expect(ops('LsRemote')).toEqual(new Set(['git ls-remote']));
      expect(ops('Push')).toEqual(new Set(['git clone', 'git branch', 'git checkout', 'git add', 'git commit', 'git push']));
      for (const test of ['Clone', 'LsRemote', 'Push']) {
        expect(rows.filter((r) => r.test === test && r.kind === 'transaction').length).toBeGreaterThanOrEqual(2);
      }
      expect(srv.requests.every((r) => r.includes('/bb/scm/PRJ/repo.git/'))).toBe(true);
      const { execFileSync } = await import('node:child_process');
      expect(execFileSync('git', ['branch', '--list', 'bugfix/*'], { cwd: bare }).toString().trim()).toBe('');
    } finally {
      await srv.close();
    }
  });
});

describe('error classes; the agent survives', () => {
  const run = async (dir: string, over: Partial<Parameters<typeof runStage>[0]>) => {
    const result = await runStage({
      workload: [{ script: 'bitbucket.web.Dashboard', description: 'Dashboard', weight: 1 }],
      instance: { URL: 'http://127.0.0.1:9' }, snapshot, stageDir: join(dir, 'stage-000'), workDir: join(dir, 'work'),
      clients: 2, durationMs: 400, ...over,
    });
    return { summary: result.summary, rows: await rowsOf(result.samplesFile) };
  };

  it('target down: exception', async () => {
    const dir = await makeTmpDir();
    const { summary, rows } = await run(dir, { instance: { URL: `http://127.0.0.1:${await deadPort()}` } });
    expect(rows.length).toBeGreaterThan(4);
    expect(rows.every((r) => !r.ok && r.error!.startsWith('exception'))).toBe(true);
    expect(summary.ops.find((o) => o.kind === 'transaction')!.errorsByClass.exception).toBeGreaterThan(2);
  });

  it('401: http', async () => {
    const dir = await makeTmpDir();
    const srv = await listen((_req, res) => res.writeHead(401).end());
    try {
      const { rows } = await run(dir, { instance: { URL: srv.url } });
      expect(rows.filter((r) => r.kind === 'request').every((r) => r.error === 'http 401' && r.status === 401)).toBe(true);
      expect(rows.filter((r) => r.kind === 'transaction').every((r) => r.error!.startsWith('http 401'))).toBe(true);
    } finally {
      await srv.close();
    }
  });

  it('404 repository: git', async () => {
    const dir = await makeTmpDir();
    const srv = await gitHttpServer(join(dir, 'empty-root'));
    try {
      const { rows } = await run(dir, { workload: [{ script: 'bitbucket.scm.GitCloneOverHttp', description: 'Clone', weight: 1 }], instance: { URL: srv.url } });
      const req = rows.filter((r) => r.kind === 'request');
      expect(req.length).toBeGreaterThan(0);
      expect(req.every((r) => r.op === 'git clone' && r.status === 128 && /^git 128: /.test(r.error!))).toBe(true);
    } finally {
      await srv.close();
    }
  });

  it('push rejected: git', async () => {
    const dir = await makeTmpDir();
    makeBareRepo(join(dir, 'repos'), 'PRJ', 'repo', { rejectPush: true });
    const srv = await gitHttpServer(join(dir, 'repos'));
    try {
      const { rows } = await run(dir, { workload: [{ script: 'bitbucket.scm.PushChangesHttp', description: 'Push', weight: 1 }], instance: { URL: srv.url }, clients: 1, durationMs: 1000 });
      const push = rows.filter((r) => r.op === 'git push');
      expect(push.length).toBeGreaterThan(0);
      expect(push.every((r) => !r.ok && r.error!.startsWith('git 1:'))).toBe(true);
      expect(push[0]!.error).toContain('pre-receive hook declined');
      expect(rows.filter((r) => r.op !== 'git push' && r.kind === 'request').every((r) => r.ok)).toBe(true);
    } finally {
      await srv.close();
    }
  });
});

describe('SSH transport errors', () => {
  it('an SSH git server that is down: git (exit 128), and the agent keeps going', async () => {
    const dir = await makeTmpDir();
    const port = await deadPort();
    const key = (await import('node:fs')).readFileSync(join((await import('@e3/test-utils')).e3OriginalHome, 'keys', '100-keys.json'), 'utf8');
    const privateKey = (JSON.parse(key) as { key_pairs: { private_key: string }[] }).key_pairs[0]!.private_key;
    const result = await runStage({
      workload: [{ script: 'bitbucket.scm.GitLsRemoteSsh', description: 'LsRemote', weight: 1 }],
      instance: { URL: 'http://127.0.0.1:9', SshPort: port },
      snapshot: { ...snapshot, users: [{ username: 'sshuser', private_key: privateKey }] },
      stageDir: join(dir, 'stage-000'), workDir: join(dir, 'work'), clients: 1, durationMs: 600,
    });
    const rows = await rowsOf(result.samplesFile);
    const req = rows.filter((r) => r.kind === 'request');
    expect(req.length).toBeGreaterThan(1);
    expect(req.every((r) => r.op === 'git ls-remote' && r.status === 128 && /^git 128: ssh: connect to host 127\.0\.0\.1 port \d+: Connection refused; fatal: Could not read from remote repository\.$/.test(r.error!))).toBe(true);
    expect(JSON.stringify(rows)).not.toContain('PRIVATE KEY');
  });
});
