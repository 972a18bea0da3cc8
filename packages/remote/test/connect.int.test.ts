import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, test } from '@jest/globals';
import { connectNode, createNodePool, fingerprint, instanceConnectOptions } from '@e3/remote';
import { makeTree, useNetnsHosts } from '@e3/test-utils';

const net = useNetnsHosts(2);

async function instanceHome(nodes: string[]): Promise<string> {
  const dir = await makeTree({ 'instances/workers.json': { ClusterNodes: nodes, RunConfig: { admin_password: 'x' } } });
  return join(dir, 'instances/workers.json');
}

describe('host keys', () => {
  test('pins the key on first contact in the instance file, then refuses a changed key before any command', async () => {
    const { hosts, privateKey } = net.current;
    const host = hosts[1]!;
    const file = await instanceHome([host.node]);
    await import('node:fs/promises').then((fs) => fs.writeFile(file.replace(/\.json$/, '.pem'), privateKey, { mode: 0o600 }));
    const pinned: string[] = [];
    const first = await instanceConnectOptions(file, { onPinned: (node, fp) => pinned.push(`${node} ${fp}`) });
    const handle = await connectNode({ node: host.node, ...first.options(host.node) });
    expect((await handle.exec('echo ok')).stdout).toBe('ok\n');
    await handle.close();

    const written = JSON.parse(await readFile(file, 'utf8'));
    expect(written.HostKeys).toEqual({ [host.node]: host.hostKey });
    expect(written.RunConfig).toEqual({ admin_password: 'x' });
    expect(pinned).toEqual([`${host.node} ${fingerprint(host.hostKey)}`]);

    const oldKey = host.hostKey;
    const newKey = await net.current.regenerateHostKey(1);
    const marker = `/tmp/e3-should-not-exist-${process.pid}`;
    const second = await instanceConnectOptions(file);
    const err = await connectNode({ node: host.node, ...second.options(host.node) }).then(
      async (h) => {
        await h.exec(['touch', marker]);
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'E3_HOST_KEY_MISMATCH' });
    const message = (err as Error).message;
    expect(message).toContain(host.node);
    expect(message).toContain(fingerprint(oldKey));
    expect(message).toContain(fingerprint(newKey));
    expect((await net.current.exec(1, ['test', '-e', marker])).code).toBe(1);
    expect(JSON.parse(await readFile(file, 'utf8')).HostKeys[host.node]).toBe(oldKey);

    const insecure = await instanceConnectOptions(file, { insecure: true });
    const h = await connectNode({ node: host.node, ...insecure.options(host.node) });
    expect(h.hostKey).toBe(newKey);
    await h.close();
  });

  test('fingerprints match ssh-keygen', () => {
    const key = net.current.hosts[0]!.hostKey;
    const out = execFileSync('ssh-keygen', ['-lf', '-'], { input: key + '\n', encoding: 'utf8' });
    expect(out.split(' ')[1]).toBe(fingerprint(key));
  });
});

describe('connection errors', () => {
  test('a key the node does not authorize gives E3_NODE_AUTH naming the node', async () => {
    const host = net.current.hosts[0]!;
    const dir = await makeTree({});
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other')]);
    const err = await connectNode({ node: host.node, keyFile: join(dir, 'other'), hostKey: { pinned: host.hostKey } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E3_NODE_AUTH', message: expect.stringContaining(host.node), hint: expect.stringContaining(join(dir, 'other')) });
  });

  test('an address with no host gives E3_NODE_UNREACHABLE or E3_NODE_TIMEOUT naming the node', async () => {
    const node = `root@${net.current.unusedIp}`;
    const started = Date.now();
    const err = await connectNode({ node, privateKey: net.current.privateKey, hostKey: { insecure: true }, readyTimeoutMs: 4000 }).catch((e: unknown) => e);
    expect(['E3_NODE_UNREACHABLE', 'E3_NODE_TIMEOUT']).toContain((err as { code: string }).code);
    expect((err as Error).message).toContain(node);
    expect((err as { hint?: string }).hint).toBeTruthy();
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('a closed port gives E3_NODE_UNREACHABLE', async () => {
    const node = `${net.current.hosts[0]!.node}:2222`;
    await expect(connectNode({ node, privateKey: net.current.privateKey, hostKey: { insecure: true } })).rejects.toMatchObject({
      code: 'E3_NODE_UNREACHABLE',
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });

  test('an SSH node without a host-key policy is a programming error', async () => {
    await expect(connectNode({ node: net.current.hosts[0]!.node, privateKey: net.current.privateKey })).rejects.toThrow(/hostKey/);
  });
});

describe('dropped connections', () => {
  test('a connection cut mid-command fails it with E3_NODE_UNREACHABLE and marks the handle closed', async () => {
    const host = net.current.hosts[0]!;
    const handle = await connectNode({ node: host.node, privateKey: net.current.privateKey, hostKey: { pinned: host.hostKey } });
    const running = handle.exec(['sleep', '20']);
    await new Promise((r) => setTimeout(r, 300));
    // Kill this namespace's per-connection sshd processes only (never a broad pkill: other hosts share the pid space).
    const pids = execFileSync('ip', ['netns', 'pids', host.netns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmd.startsWith('sshd: root')) process.kill(Number(pid), 'SIGKILL');
    }
    await expect(running).rejects.toMatchObject({ code: 'E3_NODE_UNREACHABLE', message: expect.stringContaining(host.node) });
    await new Promise((r) => setTimeout(r, 100));
    expect(handle.closed).toBe(true);
    await expect(handle.exec('true')).rejects.toMatchObject({ code: 'E3_NODE_UNREACHABLE' });
  });
});

describe('node pool', () => {
  test('reuses one connection per node and reconnects after close', async () => {
    const { hosts, privateKey } = net.current;
    const pool = createNodePool((node) => ({ privateKey, hostKey: { pinned: hosts.find((h) => h.node === node)?.hostKey } }));
    const [a, b] = await Promise.all([pool.get(hosts[0]!.node), pool.get(hosts[0]!.node)]);
    expect(a).toBe(b);
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => a!.exec(`echo ${i}`)));
    expect(many.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    await a!.close();
    const c = await pool.get(hosts[0]!.node);
    expect(c).not.toBe(a);
    expect((await c.exec('echo again')).stdout).toBe('again\n');
    expect((await pool.get('localhost')).kind).toBe('local');
    await pool.close();
    expect(c.closed).toBe(true);
  });

  test('shares a failed attempt with concurrent callers and does not cache it', async () => {
    let attempts = 0;
    const pool = createNodePool(() => {
      attempts++;
      return { privateKey: net.current.privateKey, hostKey: { insecure: true } };
    });
    const node = `${net.current.hosts[0]!.node}:2222`;
    const results = await Promise.allSettled([pool.get(node), pool.get(node)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(attempts).toBe(1);
    await expect(pool.get(node)).rejects.toMatchObject({ code: 'E3_NODE_UNREACHABLE' });
    expect(attempts).toBe(2);
    await pool.close();
  });
});
