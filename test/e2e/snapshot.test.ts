import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { validateValue, type Snapshot } from '@e3/model';
import { seedTarget, startTarget, type RunningTarget } from '@e3/target';
import { e3OriginalHome, expectExit, repoRoot, runBin } from '@e3/test-utils';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const BIN = 'packages/snapshot/src/bin.ts';
const KEYS_FILE = join(e3OriginalHome, 'keys', '100-keys.json');
const env = { E3_ADMIN_PW: 'admin', E3_USER_PW: 'test' };

let root: string;
let home: string;
let target: RunningTarget;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'e3-e2e-snapshot-'));
  home = join(root, 'e3-home');
  await mkdir(home);
  // 3 projects × 3 repos, 4 HTTP + 4 SSH users (+ admin): more than one page of 2 for every list.
  await seedTarget({ data: join(root, 'data'), home: join(root, 'seed-home'), name: 'seeded', projects: 3, repos: 3, users: 4, commits: 4, files: 3, fileKb: 1, keys: KEYS_FILE });
  target = await startTarget({ data: join(root, 'data'), httpPort: 0, sshPort: 0, log: () => undefined });
});

afterAll(async () => {
  await target?.close();
  if (process.env.E3_KEEP_TMP !== '1') await rm(root, { recursive: true, force: true });
});

const e3Snapshot = (args: string[], extraEnv: Record<string, string> = {}) => runBin(repoRoot, BIN, [...args, '--home', home], { cwd: root, env: { ...env, ...extraEnv } });

describe('e3 snapshot against a seeded target', () => {
  it('pages through every list and returns all projects, repositories and users, byte-identical on a re-run', async () => {
    const args = ['--url', target.url, '--password-env', 'E3_ADMIN_PW', '--user-password-env', 'E3_USER_PW', '--key-file', KEYS_FILE, '--page-size', '2', '--distribution', 'exponential', '--distribution-factor', '2'];
    const first = await e3Snapshot([...args, '--name', 'paged-a']);
    expect(first.stderr).not.toContain('admin');
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toBe('wrote e3-home/snapshots/paged-a.json: 3 project(s), 9 repositories, 8 HTTP user(s), 4 SSH user(s)\n');
    const second = await e3Snapshot([...args, '--name', 'paged-a']);
    expectExit(second, 0);
    const file = join(home, 'snapshots', 'paged-a.json');
    const text = readFileSync(file, 'utf8');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const snap = JSON.parse(text) as Snapshot;
    expect(validateValue('snapshot', snap, file).errors).toEqual([]);
    expect(snap.projects.map((p) => p.name)).toEqual(['PROJECT_1', 'PROJECT_2', 'PROJECT_3']);
    expect(snap.projects.flatMap((p) => p.repos.map((r) => r.name))).toHaveLength(9);
    expect(snap.projects[0]!.repos[0]!.branches.length).toBeGreaterThan(0);
    expect(snap.projects[0]!.repos[0]!.branches[0]).toMatchObject({ id: expect.stringMatching(/^refs\/heads\//), displayId: expect.any(String), latestCommit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(snap.users.map((u) => u.username).sort()).toEqual(['ssh-user-0001', 'ssh-user-0002', 'ssh-user-0003', 'ssh-user-0004', 'user-0001', 'user-0002', 'user-0003', 'user-0004']);
    expect(snap.users.every((u) => u.password === 'test')).toBe(true);
    const pool = JSON.parse(readFileSync(KEYS_FILE, 'utf8')) as { key_pairs: Array<{ private_key: string }> };
    expect(snap.users.find((u) => u.username === 'ssh-user-0002')!.private_key).toBe(pool.key_pairs[1]!.private_key);
    const weights = snap.projects.flatMap((p) => p.repos.map((r) => r.weight));
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(new Set(weights).size).toBe(9);

    // Same seed, another file: byte-identical.
    expectExit(await e3Snapshot([...args, '--name', 'paged-b']), 0);
    const other = readFileSync(join(home, 'snapshots', 'paged-b.json'), 'utf8');
    expect(other.replace('"paged-b"', '"paged-a"').replace('"paged-b"', '"paged-a"')).toBe(text);
  });

  it('reports users with neither a password nor a matching key instead of dropping them silently', async () => {
    const r = await e3Snapshot(['--url', target.url, '--password-env', 'E3_ADMIN_PW', '--key-file', KEYS_FILE, '--name', 'ssh-only', '--max-branch', '1']);
    expectExit(r, 0);
    expect(r.stdout).toContain('4 SSH user(s)');
    expect(r.stdout).toContain('left out 4 user(s) with neither a password nor a matching key: user-0001, user-0002, user-0003, user-0004');
    const snap = JSON.parse(readFileSync(join(home, 'snapshots', 'ssh-only.json'), 'utf8')) as Snapshot;
    expect(snap.users.every((u) => u.password === undefined && u.private_key)).toBe(true);
    expect(snap.projects.every((p) => p.repos.every((repo) => repo.branches.length === 1))).toBe(true);
  });

  it('a wrong admin password exits 3 with a coded error naming the user and URL, not the password', async () => {
    const r = await e3Snapshot(['--url', target.url, '--password-env', 'WRONG_PW', '--name', 'x'], { WRONG_PW: 'not-the-pw-123' });
    expectExit(r, 3);
    expect(r.stderr).toContain(`[E3_HTTP] 401 Unauthorized: GET ${target.url}/rest/api/1.0/projects refused the credentials of user "admin"`);
    expect(r.stderr + r.stdout).not.toContain('not-the-pw-123');
  });

  it('--aws adds the placeholders', async () => {
    expectExit(await e3Snapshot(['--url', target.url, '--password-env', 'E3_ADMIN_PW', '--user-password-env', 'E3_USER_PW', '--name', 'aws', '--aws']), 0);
    const snap = JSON.parse(readFileSync(join(home, 'snapshots', 'aws.json'), 'utf8')) as Snapshot;
    expect({ ebs: snap.ebs, rds: snap.rds, es: snap.es }).toEqual({ ebs: { 'ap-southeast-2': 'TODO' }, rds: { account: 'TODO', id: 'TODO' }, es: { snapshot: 'TODO', bucket: 'TODO' } });
  });
});

describe('e3 keygen + e3 add-users', () => {
  it('creates users whose generated keys authenticate over SSH, idempotently, and snapshot finds them', async () => {
    const gen = await e3Snapshot(['keygen', '--count', '3', '--name', 'pool']);
    expect(gen).toMatchObject({ code: 0, stdout: 'wrote e3-home/keys/pool.json: 3 ed25519 key pair(s)\n' });
    expect(statSync(join(home, 'keys', 'pool.json')).mode & 0o777).toBe(0o600);

    const addArgs = ['add-users', '--url', target.url, '--password-env', 'E3_ADMIN_PW', '--user-password-env', 'NEW_PW', '--count', '3', '--keys', 'pool', '--prefix', 'load_'];
    const add = await e3Snapshot(addArgs, { NEW_PW: 'n3w pass&word' });
    expect(add.stderr).toBe('users: 3/3 (3 created, 3 keys added)\n');
    expect(add).toMatchObject({ code: 0, stdout: '3 user(s) created, 0 already there, 3 key(s) registered; wrote 3 user(s) to e3-home/snapshots/pool.json\n' });
    const again = await e3Snapshot(addArgs, { NEW_PW: 'n3w pass&word' });
    expect(again).toMatchObject({ code: 0, stdout: '0 user(s) created, 3 already there, 0 key(s) registered; wrote 3 user(s) to e3-home/snapshots/pool.json\n' });

    const users = JSON.parse(readFileSync(join(home, 'snapshots', 'pool.json'), 'utf8')) as Snapshot;
    expect(users.users.map((u) => u.username)).toEqual(['load_0', 'load_1', 'load_2']);

    // SSH: the private key of load_1 opens a git session on the target.
    const keyFile = join(root, 'id_load_1');
    await writeFile(keyFile, users.users[1]!.private_key!, { mode: 0o600 });
    const sshCommand = `ssh -F /dev/null -i ${keyFile} -o IdentitiesOnly=yes -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR -o BatchMode=yes`;
    // Async: the target serves from this process, so a blocking spawn would deadlock.
    const ls = await new Promise<{ stdout: string; stderr: string }>((resolve) =>
      execFile('git', ['ls-remote', `ssh://git@127.0.0.1:${target.sshPort}/PROJECT_1/repo-1.git`], { env: { ...process.env, GIT_SSH_COMMAND: sshCommand }, timeout: 30_000 }, (_err, stdout, stderr) =>
        resolve({ stdout, stderr }),
      ),
    );
    expect(ls.stderr).toBe('');
    expect(ls.stdout).toMatch(/refs\/heads\/master/);

    // HTTP: the password given reaches the server intact.
    const res = await fetch(`${target.url}/rest/api/1.0/users/load_2`, { headers: { authorization: `Basic ${Buffer.from('load_2:n3w pass&word').toString('base64')}` } });
    expect(res.status).toBe(200);

    const snap = await e3Snapshot(['--url', target.url, '--password-env', 'E3_ADMIN_PW', '--key-file', 'pool', '--name', 'with-pool']);
    expectExit(snap, 0);
    const found = JSON.parse(readFileSync(join(home, 'snapshots', 'with-pool.json'), 'utf8')) as Snapshot;
    expect(found.users.map((u) => u.username)).toEqual(['load_0', 'load_1', 'load_2']);
  });

  it('stops with a coded error when a pool key belongs to another user, and when the pool is too small', async () => {
    // The seed registered the first keys of 100-keys.json for ssh-user-0001…
    const taken = await e3Snapshot(['add-users', '--url', target.url, '--password-env', 'E3_ADMIN_PW', '--user-password-env', 'E3_USER_PW', '--count', '1', '--keys', KEYS_FILE, '--prefix', 'clash_']);
    expectExit(taken, 3);
    expect(taken.stderr).toContain(`[E3_HTTP] key pair 0 of ${KEYS_FILE} is already registered to another user than clash_0 on ${target.url}`);
    const small = await e3Snapshot(['add-users', '--url', target.url, '--password-env', 'E3_ADMIN_PW', '--user-password-env', 'E3_USER_PW', '--count', '101', '--keys', KEYS_FILE]);
    expectExit(small, 2);
    expect(small.stderr).toContain(`[E3_USAGE] --count 101 needs 101 keys but ${KEYS_FILE} holds 100`);
  });
});
