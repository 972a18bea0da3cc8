import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { expect, test } from '@jest/globals';
import { createNetnsHosts, removeStaleNetns } from '@e3/test-utils';

test('hosts reach a server on the bridge address and each other; stop removes everything', async () => {
  const net = await createNetnsHosts(2);
  const server = createServer((_req, res) => res.end('from-controller'));
  try {
    await new Promise<void>((resolve) => server.listen(0, net.controllerIp, resolve));
    const { port } = server.address() as AddressInfo;
    const fetchFromHost = `fetch('http://${net.controllerIp}:${port}/').then(r => r.text()).then(t => process.stdout.write(t))`;
    const r = await net.exec(0, [process.execPath, '-e', fetchFromHost]);
    expect(r).toMatchObject({ code: 0, stdout: 'from-controller' });

    const ssh = await net.exec(1, ['bash', '-c', `exec 3<>/dev/tcp/${net.hosts[0]!.ip}/22 && head -c 8 <&3`]);
    expect(ssh.stdout).toBe('SSH-2.0-');
    expect(net.hosts.map((h) => h.node)).toEqual([`root@${net.hosts[0]!.ip}`, `root@${net.hosts[1]!.ip}`]);
    expect(net.subnet).toMatch(/^10\.\d+\.\d+\.0\/24$/);
  } finally {
    server.close();
    await net.stop();
  }
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const h of net.hosts) expect(namespaces).not.toContain(h.netns);
  expect(execFileSync('ip', ['-4', 'addr'], { encoding: 'utf8' })).not.toContain(net.controllerIp);
  expect(existsSync(net.dir)).toBe(false);
  const left = execFileSync('sh', ['-c', `pgrep -f '${net.dir}/[h]ost' || true`], { encoding: 'utf8' });
  expect(left.trim()).toBe('');
});

test('removes namespaces and bridges left by a dead test process, not those of live ones', async () => {
  const live = await createNetnsHosts(1);
  try {
    const id = 'dead' + Math.floor(Math.random() * 0xff).toString(16).padStart(2, '0');
    execFileSync('ip', ['netns', 'add', `e3t-${id}-0`]);
    execFileSync('ip', ['link', 'add', `e3tb${id}`, 'type', 'bridge']);
    const removed = await removeStaleNetns();
    expect(removed).toEqual(expect.arrayContaining([`e3t-${id}-0`, `e3tb${id}`]));
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).toContain(live.hosts[0]!.netns);
    expect((await live.exec(0, 'true')).code).toBe(0);
  } finally {
    await live.stop();
  }
});
