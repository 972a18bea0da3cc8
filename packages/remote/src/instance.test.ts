import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect, test } from '@jest/globals';
import { makeTree } from '@e3/test-utils';

import { instanceConnectOptions, instanceKeyFile, pinHostKey } from './instance.js';

const K1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

test('the key file is KeyFile (relative to the instance folder) or <name>.pem beside the instance file', () => {
  expect(instanceKeyFile('/h/instances/w.json', {})).toBe('/h/instances/w.pem');
  expect(instanceKeyFile('/h/instances/w.json', { KeyFile: 'keys/k.pem' })).toBe('/h/instances/keys/k.pem');
  expect(instanceKeyFile('/h/instances/w.json', { KeyFile: '/abs/k.pem' })).toBe('/abs/k.pem');
});

test('concurrent pins of several nodes all land, keeping the other fields', async () => {
  const dir = await makeTree({ 'w.json': { ClusterNodes: ['root@a', 'root@b', 'root@c'], URL: 'http://x:7990', Extra: { kept: true } } });
  const file = join(dir, 'w.json');
  await Promise.all(['root@a', 'root@b', 'root@c'].map((n) => pinHostKey(file, n, K1)));
  const written = JSON.parse(await readFile(file, 'utf8'));
  expect(written).toEqual({
    ClusterNodes: ['root@a', 'root@b', 'root@c'],
    URL: 'http://x:7990',
    Extra: { kept: true },
    HostKeys: { 'root@a': K1, 'root@b': K1, 'root@c': K1 },
  });
});

test('connect options check a pinned key, pin on first contact, or skip when insecure', async () => {
  const dir = await makeTree({ 'w.json': { ClusterNodes: ['root@a', 'root@b'], HostKeys: { 'root@a': K1 } } });
  const file = join(dir, 'w.json');
  const { options } = await instanceConnectOptions(file);
  expect(options('root@a')).toEqual({ keyFile: join(dir, 'w.pem'), hostKey: { pinned: K1 } });
  await options('root@b').hostKey!.onFirstContact!(K1);
  expect(JSON.parse(await readFile(file, 'utf8')).HostKeys).toEqual({ 'root@a': K1, 'root@b': K1 });
  expect((await instanceConnectOptions(file, { insecure: true })).options('root@a').hostKey).toEqual({ insecure: true });
});
