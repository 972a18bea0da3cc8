import { generateKeyPairSync } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { makeTree, repoRoot, runE3 } from '@e3/test-utils';

const e3 = (args: string[], options?: Parameters<typeof runE3>[2]) => runE3(repoRoot, args, options);

/** Every path under `dir` outside `except`, with its mtime: what a command wrote there changes it. */
async function listing(dir: string, except: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    if (p === except || p.startsWith(`${except}/`)) continue;
    out.push(`${p} ${(await stat(p)).mtimeMs}`);
  }
  return out.sort();
}

const stage = [{ clients: 1 }];

describe('names that become paths', () => {
  it('refuses "../" in every referenced name and every -r with a coded error, and nothing is written outside e3-home', async () => {
    const root = await makeTree({
      'package.json': { name: 'outside-package' },
      'outside/outside.json': { run_name: 'outside', duration: 1000, workload: 'mixed', threads: [{ instance: { stack: { Name: 'x' } }, worker: { stack: { Name: 'x' } }, stages: stage }] },
      'outside/evil.json': { ClusterNodes: ['localhost'] },
      'e3-home/workloads/mixed.json': [{ script: 'bitbucket.scm.GitCloneOverSsh', description: 'Clone', weight: 1 }],
      'e3-home/experiments/escape.json': {
        duration: 1000,
        workload: '../../package',
        threads: [
          { instance: { stack: { Name: '../../outside/evil' } }, worker: { stack: { Name: '../../outside/evil' } }, stages: [{ clients: 1, workload: '../x' }] },
          { instance: { template: 'BitbucketServer', snapshot: '../../outside/evil' }, worker: { template: 'WorkerCluster' }, stages: stage },
        ],
      },
    });
    const home = join(root, 'e3-home');
    const before = await listing(root, home);

    const v = await e3(['validate', '--home', home, join(home, 'experiments/escape.json')]);
    expect(v.code).toBe(2);
    const unsafe = v.stdout.split('\n').filter((l) => l.includes('is not a safe name (E3_UNSAFE_NAME)'));
    expect(unsafe.map((l) => l.replace(/^.*escape\.json: (\S+): .*$/, '$1'))).toEqual([
      '/workload',
      '/threads/0/instance/stack/Name',
      '/threads/0/worker/stack/Name',
      '/threads/0/stages/0/workload',
      '/threads/1/instance/snapshot',
    ]);
    expect(v.stdout).not.toContain('outside-package');

    const p = await e3(['provision', '--home', home, '-e', 'escape', '--run', 'r1']);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('[E3_INVALID_FILE]');
    expect(p.stderr).toContain('E3_UNSAFE_NAME');

    // `-r` also takes the path of a run folder (docs/run-directory.md): one that holds no run is not found,
    // and nothing is joined onto e3-home or written anywhere.
    for (const args of [['deprovision', '-r', '../../outside'], ['deprovision', '-r', '../outside'], ['run', '-r', '../../outside'], ['gather', '-r', '../../outside']]) {
      const r = await e3([...args, '--home', home]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(/^\[E3_(UNSAFE_NAME|RUN_NOT_FOUND)\]/m);
    }
    expect(await listing(root, home)).toEqual(before);
  });
});

/** A fresh Ed25519 pair: PKCS#8 PEM private key and its OpenSSH public line. */
function keyPair(): { private_key: string; public_key: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const x = Buffer.from(privateKey.export({ format: 'jwk' }).x!, 'base64url');
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([str(Buffer.from('ssh-ed25519')), str(x)]);
  return { private_key: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, public_key: `ssh-ed25519 ${blob.toString('base64')}` };
}

/** The base64 lines of a PEM body: what must never appear in any output. */
const bodyLines = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----'));

describe('secrets', () => {
  it('checks keys files (parse, public matches private) and never prints a key body or a password', async () => {
    const good = keyPair();
    const other = keyPair();
    const truncated = good.private_key.slice(0, 60) + '\n-----END PRIVATE KEY-----\n';
    const garbage = '-----BEGIN RSA PRIVATE KEY-----\nTm90IGEga2V5IGF0IGFsbCwganVzdCBnYXJiYWdlIHRleHQ=\n-----END RSA PRIVATE KEY-----\n';
    const passwords = ['84736251', 'correct-horse-battery'];
    const root = await makeTree({
      'e3-home/keys/k.json': {
        name: 'k',
        count: 4,
        key_pairs: [good, { public_key: other.public_key, private_key: good.private_key }, { public_key: good.public_key, private_key: truncated }, { public_key: good.public_key, private_key: garbage }],
      },
      'e3-home/snapshots/s.json': {
        name: 's',
        projects: [],
        users: [
          { username: 'a', password: 84736251 },
          { username: 'b', password: passwords[1], private_key: `x${garbage.slice(0, 57)}` },
        ],
      },
      'e3-home/instances/i.json': { ClusterNodes: ['localhost'], URL: 'http://h', RunConfig: { admin_password: 84736251 } },
      'e3-home/keys/broken.json': `{"name": "b", "count": 1, "key_pairs": [{"public_key": "${good.public_key}", "private_key": "${bodyLines(good.private_key)[0]}\u0001"}]}`,
    });
    const home = join(root, 'e3-home');
    const outputs: string[] = [];
    for (const args of [['validate', '--all'], ['validate', join(home, 'keys/k.json')], ['validate', '--all', '--json'], ['validate', '--strict', join(home, 'snapshots/s.json')]]) {
      const r = await e3([...args, '--home', home]);
      expect(r.code).toBe(2);
      outputs.push(r.stdout, r.stderr);
    }
    const all = outputs.join('\n');
    expect(all).toContain('/key_pairs/1: public_key is not the public half of private_key');
    expect(all).toMatch(/\/key_pairs\/2: private key \(PRIVATE KEY, \d+ characters\) does not parse: truncated or not a key/);
    expect(all).toMatch(/\/key_pairs\/3: private key \(RSA PRIVATE KEY, \d+ characters\) does not parse/);
    expect(all).not.toContain('/key_pairs/0');
    expect(all).toContain('/users/0/password: must be string; got <secret: a number of 8 digits>');
    expect(all).toContain('/RunConfig/admin_password: must be string; got <secret: a number of 8 digits>');
    for (const secret of [...[good, other].flatMap((k) => bodyLines(k.private_key)), ...bodyLines(garbage), ...passwords, 'Tm90IGEga2V5']) {
      expect({ secret, found: all.includes(secret) }).toEqual({ secret, found: false });
    }
  });
});
