import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { afterEach, describe, expect, it } from '@jest/globals';
import { expectExit } from '@e3/test-utils';

import { KEYS_FILE, cleanupTmp, http, makeTmpDir, run } from './helpers.js';

const BIN = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../src/bin.ts');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, ['--conditions=source', '--import', 'tsx', BIN, ...args], { env: { NODE_OPTIONS: '', ...env }, timeoutMs: 60_000 });

let data: string | undefined;
afterEach(async () => {
  if (data) await cli(['stop', '--data', data]);
  data = undefined;
  await cleanupTmp();
});

describe('e3-target bin', () => {
  it('seeds, starts detached, restores live, stops', async () => {
    data = await makeTmpDir('e3-cli-data-');
    const home = await makeTmpDir('e3-cli-home-');
    const seeded = await cli(['seed', '--data', data, '--home', home, '--projects', '1', '--repos', '1', '--users', '2', '--commits', '3', '--keys', KEYS_FILE, '--name', 'cli', '--http-port', '0', '--json']);
    expect(seeded.stderr).toBe('');
    expectExit(seeded, 0);
    expect(JSON.parse(seeded.stdout)).toMatchObject({ repos: 1, httpUsers: 2, sshUsers: 2, pullRequests: 1 });
    const snapshot = JSON.parse(await readFile(join(home, 'snapshots', 'cli.json'), 'utf8'));
    expect(snapshot.projects[0]).toMatchObject({ name: 'PROJECT_1', repos: [{ name: 'repo-1', weight: expect.any(Number) }] });
    expect(snapshot.projects[0].repos[0].branches[0]).toEqual({
      displayId: 'master',
      id: 'refs/heads/master',
      isDefault: true,
      latestChangeset: expect.stringMatching(/^[0-9a-f]{40}$/),
      latestCommit: expect.stringMatching(/^[0-9a-f]{40}$/),
      type: 'BRANCH',
    });
    expect(snapshot.users).toEqual([
      { username: 'user-0001', password: 'test' },
      { username: 'user-0002', password: 'test' },
      expect.objectContaining({ username: 'ssh-user-0001', public_key: expect.stringMatching(/^ssh-rsa /), private_key: expect.stringContaining('PRIVATE KEY') }),
      expect.objectContaining({ username: 'ssh-user-0002' }),
    ]);
    expect(JSON.parse(await readFile(join(home, 'instances', 'cli.json'), 'utf8'))).toEqual({ URL: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), ClusterNodes: ['localhost'], snapshot: 'cli', RunConfig: { admin_password: 'admin' }, SshPort: 7999 });

    const started = await cli(['start', '--data', data, '--detach', '--http-port', '0', '--ssh-port', '0', '--context', '/bitbucket', '--json']);
    expectExit(started, 0);
    const { url } = JSON.parse(started.stdout) as { url: string };
    expect(url).toMatch(/\/bitbucket$/);
    expect((await http(`${url}/status`)).json).toEqual({ state: 'RUNNING' });
    const again = await cli(['start', '--data', data, '--detach', '--http-port', '0', '--ssh-port', '0']);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('already running');
    expect((await http(`${url}/rest/api/1.0/admin/users?name=temp&password=pw`, { method: 'POST', auth: ['admin', 'admin'] })).status).toBe(204);
    const restored = await cli(['restore-state', '--data', data]);
    expectExit(restored, 0);
    expect(restored.stdout).toContain('(live)');
    expect((await http(`${url}/rest/api/1.0/users`, { auth: ['temp', 'pw'] })).status).toBe(401);
    const stopped = await cli(['stop', '--data', data]);
    expect(stopped.stdout).toContain('stopped');
    data = undefined;
    await expect(fetch(`${url}/status`)).rejects.toThrow();
  });

  it('runs in the foreground until SIGINT and stops cleanly', async () => {
    data = await makeTmpDir('e3-cli-data-');
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', BIN, 'start', '--data', data, '--http-port', '0', '--ssh-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let err = '';
    await new Promise<void>((r) => child.stderr.on('data', (d: Buffer) => ((err += d.toString()), err.includes('Ctrl-C') && r())));
    const url = /running at (\S+)/.exec(err)![1]!;
    expect((await http(`${url}/status`)).json).toEqual({ state: 'RUNNING' });
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    data = undefined;
  });

  it('refuses bad options with a usage error', async () => {
    const res = await cli(['seed', '--data', '/tmp/x', '--projects', 'two', '--repos', '1', '--users', '1', '--keys', KEYS_FILE, '--name', 'x']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('E3_USAGE');
  });
});
