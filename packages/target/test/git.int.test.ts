import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from '@jest/globals';

import { cleanupTmp, git, seededTarget, type Fixture } from './helpers.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.target.close();
  fx = undefined;
  await cleanupTmp();
});

async function cloneEditPush(f: Fixture, url: string, env: NodeJS.ProcessEnv, name: string): Promise<void> {
  const dir = join(f.work, name);
  const clone = await git(['clone', '--quiet', url, dir], { env });
  expect(clone.stderr).toBe('');
  expect(clone.code).toBe(0);
  const ls = await git(['ls-remote', url], { env });
  expect(ls.code).toBe(0);
  expect(ls.stdout).toMatch(/refs\/heads\/master/);
  expect(ls.stdout).toMatch(/refs\/heads\/develop/);
  await git(['checkout', '-q', '-b', `bugfix/${name}`], { cwd: dir });
  await git(['commit', '-q', '--allow-empty', '-m', 'do it'], { cwd: dir });
  const push = await git(['push', '-q', '-f', '--set-upstream', 'origin', `bugfix/${name}`], { cwd: dir, env });
  expect(push.stderr).toBe('');
  expect(push.code).toBe(0);
  const after = await git(['ls-remote', url, `refs/heads/bugfix/${name}`], { env });
  expect(after.stdout).toContain(`refs/heads/bugfix/${name}`);
}

async function fsckAll(f: Fixture): Promise<void> {
  for (const p of ['PROJECT_1', 'PROJECT_2']) {
    for (const r of ['repo-1', 'repo-2']) {
      const res = await git(['fsck', '--strict', '--no-progress'], { cwd: join(f.data, 'repos', p, `${r}.git`) });
      expect({ repo: `${p}/${r}`, code: res.code, err: res.stderr }).toEqual({ repo: `${p}/${r}`, code: 0, err: '' });
    }
  }
}

describe('git over HTTP and SSH', () => {
  it.each([[''], ['/bitbucket']])('clones, lists and pushes over HTTP and SSH (context %j), and fsck stays clean', async (contextPath) => {
    fx = await seededTarget({ contextPath });
    await cloneEditPush(fx, fx.httpUrl('user-0001', 'test', 'PROJECT_1', 'repo-1'), {}, 'http');
    await cloneEditPush(fx, fx.sshUrl('PROJECT_1', 'repo-2'), { GIT_SSH_COMMAND: await fx.sshCommand(0) }, 'ssh');
    await cloneEditPush(fx, fx.sshUrl('project_2', 'repo-1'), { GIT_SSH_COMMAND: await fx.sshCommand(1), GIT_PROTOCOL: 'version=2' }, 'ssh-v2');
    await fsckAll(fx);
    const access = await readFile(join(fx.data, 'log', 'atlassian-bitbucket-access.log'), 'utf8');
    expect(access).toMatch(/^127\.0\.0\.1 \| ssh \| \S+ \| ssh-user-0001 \| [\d-]+ [\d:,]+ \| "SSH - git-receive-pack '\/PROJECT_1\/repo-2\.git'" \| "" "" \| 0 \| \d+ \| - \|$/m);
    expect(access).toMatch(/^127\.0\.0\.1 \| https \| \S+ \| user-0001 \| [\d-]+ [\d:,]+ \| "POST \S*\/scm\/PROJECT_1\/repo-1\.git\/git-upload-pack HTTP\/1\.1" \| "" "git\/[^"]*" \| 200 \| \d+ \| - \|$/m);
  });

  it('refuses bad credentials, unknown repos, path tricks and non-git commands', async () => {
    fx = await seededTarget();
    const bad = await git(['ls-remote', fx.httpUrl('user-0001', 'wrong', 'PROJECT_1', 'repo-1')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Authentication failed|401/);
    const missing = await git(['ls-remote', fx.httpUrl('user-0001', 'test', 'PROJECT_1', 'nope')]);
    expect(missing.code).not.toBe(0);
    const ssh = await fx.sshCommand(0);
    const unknown = await git(['ls-remote', fx.sshUrl('PROJECT_1', 'nope')], { env: { GIT_SSH_COMMAND: ssh } });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("does not appear to be a git repository");
    const tricky = await git(['ls-remote', `ssh://git@127.0.0.1:${fx.target.sshPort}/PROJECT_1/../../etc.git`], { env: { GIT_SSH_COMMAND: ssh } });
    expect(tricky.code).not.toBe(0);
    expect(tricky.stderr).toContain('does not appear to be a git repository');
    const { run } = await import('./helpers.js');
    const shell = await run('sh', ['-c', `${ssh} -p ${fx.target.sshPort} git@127.0.0.1 ls /`]);
    expect(shell.code).not.toBe(0);
    expect(shell.stderr).toContain('only git-upload-pack and git-receive-pack are allowed');
    const unregistered = await run('sh', ['-c', `${await fx.sshCommand(99)} -p ${fx.target.sshPort} git@127.0.0.1 git-upload-pack /PROJECT_1/repo-1.git`]);
    expect(unregistered.code).not.toBe(0);
    expect(unregistered.stderr).toMatch(/Permission denied/);
  });

  it('queues git operations beyond --max-git-ops and fails waiting clients with a clear message after the queue timeout', async () => {
    fx = await seededTarget({ maxGitOps: 1, queueTimeoutMs: 300 });
    const ssh = await fx.sshCommand(0);
    // Holds the only ticket: upload-pack waits for the client's wants while stdin stays open.
    const holder = spawn('sh', ['-c', `${ssh} -p ${fx.target.sshPort} git@127.0.0.1 "git-upload-pack '/PROJECT_1/repo-1.git'"`], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      const overHttp = await git(['ls-remote', fx.httpUrl('user-0001', 'test', 'PROJECT_1', 'repo-2')]);
      expect(overHttp.code).not.toBe(0);
      expect(overHttp.stderr).toContain('the target is busy');
      const overSsh = await git(['ls-remote', fx.sshUrl('PROJECT_1', 'repo-2')], { env: { GIT_SSH_COMMAND: ssh } });
      expect(overSsh.code).not.toBe(0);
      expect(overSsh.stderr).toContain('the target is busy');
    } finally {
      holder.stdin.end('0000');
      await new Promise((r) => holder.on('close', r));
    }
    const after = await git(['ls-remote', fx.httpUrl('user-0001', 'test', 'PROJECT_1', 'repo-2')]);
    expect(after.code).toBe(0);
  });
});
