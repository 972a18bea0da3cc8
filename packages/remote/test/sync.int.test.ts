import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connectNode, syncDir, type NodeHandle } from '@e3/remote';
import { makeTmpDir, makeTree, useNetnsHosts } from '@e3/test-utils';

// host 0 has rsync; host 1 hides rsync from SSH sessions, so syncs with it fall back to SFTP.
const net = useNetnsHosts(2, { withoutCommands: { 1: ['rsync'] } });

const tree = {
  'a.txt': 'alpha\n',
  'sub/b.csv': 'b,1\n',
  'sub/deep/c.csv': 'c,2\n',
  'logs/agent.log': 'log\n',
};

async function localFiles(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await localFiles(root, p)));
    else out.push(p);
  }
  return out.sort();
}

describe.each([
  ['rsync', 0],
  ['sftp', 1],
] as const)('syncDir with %s', (method, hostIndex) => {
  let node: NodeHandle;
  let remoteDir: string;

  beforeAll(async () => {
    const host = net.current.hosts[hostIndex]!;
    node = await connectNode({ node: host.node, privateKey: net.current.privateKey, hostKey: { pinned: host.hostKey } });
    remoteDir = (await node.exec('mktemp -d /tmp/e3-sync-XXXXXX', { check: true })).stdout.trim();
  });
  afterAll(async () => {
    await node.exec(['rm', '-rf', remoteDir]);
    await node.close();
  });

  test('uploads a tree, then a second sync moves nothing, then only a changed file moves', async () => {
    const src = await makeTree(tree);
    const dest = `${remoteDir}/up/nested`;
    const first = await syncDir({ from: 'local', to: node, src, dest });
    expect(first.method).toBe(method);
    expect(first.files.map((f) => f.path).sort()).toEqual(Object.keys(tree).sort());
    expect(first.filesMoved).toBe(4);
    expect(first.bytesMoved).toBeGreaterThan(0);
    expect((await node.exec(['cat', `${dest}/sub/deep/c.csv`])).stdout).toBe('c,2\n');

    const second = await syncDir({ from: 'local', to: node, src, dest });
    expect(second).toMatchObject({ filesMoved: 0, bytesMoved: 0, files: [] });

    await writeFile(join(src, 'sub/b.csv'), 'b,1\nb,2\n');
    await utimes(join(src, 'sub/b.csv'), new Date(), new Date(Date.now() + 5000));
    const third = await syncDir({ from: 'local', to: node, src, dest });
    expect(third.files.map((f) => f.path)).toEqual(['sub/b.csv']);
    expect((await node.exec(['cat', `${dest}/sub/b.csv`])).stdout).toBe('b,1\nb,2\n');
  });

  test('downloads a tree incrementally, with mtimes kept', async () => {
    const src = `${remoteDir}/down`;
    await node.exec(`mkdir -p ${src}/x/y && printf one > ${src}/one && printf two > ${src}/x/y/two && touch -d @1700000000 ${src}/one`, { check: true });
    const dest = join(await makeTmpDir(), 'gathered');
    const first = await syncDir({ from: node, to: 'local', src, dest });
    expect(first.method).toBe(method);
    expect(await localFiles(dest)).toEqual(['one', 'x/y/two']);
    expect(first.bytesMoved).toBeGreaterThanOrEqual(6);
    expect(await readFile(join(dest, 'x/y/two'), 'utf8')).toBe('two');
    expect(Math.floor((await stat(join(dest, 'one'))).mtimeMs / 1000)).toBe(1700000000);

    const second = await syncDir({ from: node, to: 'local', src, dest });
    expect(second).toMatchObject({ filesMoved: 0, bytesMoved: 0 });

    await node.exec(`printf three > ${src}/x/three`, { check: true });
    const third = await syncDir({ from: node, to: 'local', src, dest });
    expect(third.files).toEqual([{ path: 'x/three', size: 5, bytes: expect.any(Number) }]);
  });

  test('filters by glob and by modification time', async () => {
    const src = `${remoteDir}/filter`;
    await node.exec(
      `mkdir -p ${src}/s1 ${src}/s2 && printf a > ${src}/s1/samples.csv && printf b > ${src}/s2/samples.csv && printf c > ${src}/s1/agent.log && touch -d @1600000000 ${src}/s1/samples.csv`,
      { check: true },
    );
    const dest = await makeTmpDir();
    const csv = await syncDir({ from: node, to: 'local', src, dest, include: ['*.csv'], newerThan: 1650000000_000 });
    expect(csv.files.map((f) => f.path)).toEqual(['s2/samples.csv']);
    expect(await localFiles(dest)).toEqual(['s2/samples.csv']);
    const rest = await syncDir({ from: node, to: 'local', src, dest, exclude: ['s2/**'] });
    expect(rest.files.map((f) => f.path).sort()).toEqual(['s1/agent.log', 's1/samples.csv']);
  });

  test('an interrupted copy leaves no partial file under its final name', async () => {
    const src = await makeTmpDir();
    await writeFile(join(src, 'big.bin'), Buffer.alloc(128 * 1024 * 1024, 3));
    const dest = `${remoteDir}/interrupted`;
    const ac = new AbortController();
    const sync = syncDir({ from: 'local', to: node, src, dest, signal: ac.signal });
    // Abort once the temp file has started to grow on the node.
    for (let i = 0; i < 200; i++) {
      const r = await node.exec(`ls -a ${dest} 2>/dev/null`);
      if (r.stdout.includes('big.bin')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    ac.abort();
    await expect(sync).rejects.toMatchObject({ code: 'E3_INTERRUPTED' });
    await new Promise((r) => setTimeout(r, 500));
    // Under its final name the file is complete (the copy may have won the race with the abort) or absent.
    const there = await node.stat(`${dest}/big.bin`);
    if (there) expect(there.size).toBe(128 * 1024 * 1024);

    // And downloading: abort once the temp file appears locally.
    await node.exec(`mkdir -p ${remoteDir}/bigsrc && head -c 134217728 /dev/zero > ${remoteDir}/bigsrc/big.bin`, { check: true });
    const local = await makeTmpDir();
    const down = new AbortController();
    const back = syncDir({ from: node, to: 'local', src: `${remoteDir}/bigsrc`, dest: local, signal: down.signal });
    for (let i = 0; i < 500 && !(await readdir(local)).some((n) => n.includes('big.bin')); i++) await new Promise((r) => setTimeout(r, 10));
    down.abort();
    await expect(back).rejects.toMatchObject({ code: 'E3_INTERRUPTED' });
    await new Promise((r) => setTimeout(r, 300));
    if ((await readdir(local)).includes('big.bin')) expect((await stat(join(local, 'big.bin'))).size).toBe(128 * 1024 * 1024);
  });
});

describe('syncDir on the local machine', () => {
  test('copies local to local with rsync and with the plain copier, incrementally', async () => {
    for (const method of ['rsync', 'sftp'] as const) {
      const src = await makeTree(tree);
      const dest = join(await makeTmpDir(), 'out');
      const localhost = await connectNode({ node: 'localhost' });
      const first = await syncDir({ from: localhost, to: 'local', src, dest, method });
      expect(first.filesMoved).toBe(4);
      expect(await localFiles(dest)).toEqual(Object.keys(tree).sort());
      expect((await syncDir({ from: 'local', to: localhost, src, dest, method })).filesMoved).toBe(0);
    }
  });

  test('refuses node to node', async () => {
    const host = net.current.hosts[0]!;
    const a = await connectNode({ node: host.node, privateKey: net.current.privateKey, hostKey: { pinned: host.hostKey } });
    await expect(syncDir({ from: a, to: a, src: '/tmp', dest: '/tmp/x' })).rejects.toThrow(/node → node/);
    await a.close();
  });
});
