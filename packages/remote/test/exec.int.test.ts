import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connectNode, type NodeHandle } from '@e3/remote';
import { makeTmpDir, useNetnsHosts } from '@e3/test-utils';

const net = useNetnsHosts(1);

describe.each(['localhost', 'ssh'] as const)('%s node', (kind) => {
  let node: NodeHandle;
  let remoteDir: string;

  beforeAll(async () => {
    const host = net.current.hosts[0]!;
    node =
      kind === 'localhost'
        ? await connectNode({ node: 'localhost' })
        : await connectNode({ node: host.node, privateKey: net.current.privateKey, hostKey: { pinned: host.hostKey } });
    remoteDir = (await node.exec('mktemp -d /tmp/e3-remote-test-XXXXXX', { check: true })).stdout.trim();
  });
  afterAll(async () => {
    await node.exec(['rm', '-rf', remoteDir]);
    await node.close();
  });

  test('returns exit code, stdout and stderr without throwing on failure', async () => {
    const r = await node.exec('echo out; echo err >&2; exit 3');
    expect(r).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  test('quotes argv commands word by word and applies cwd and env', async () => {
    const r = await node.exec(['sh', '-c', 'printf "%s|%s|%s" "$1" "$PWD" "$E3_X"', 'sh', "it's a $word"], { cwd: remoteDir, env: { E3_X: 'a b' } });
    expect(r.stdout).toBe(`it's a $word|${remoteDir}|a b`);
  });

  test('throws E3_ENVIRONMENT with the stderr tail when check is set', async () => {
    await expect(node.exec('echo broken >&2; exit 2', { check: true })).rejects.toMatchObject({
      code: 'E3_ENVIRONMENT',
      message: expect.stringContaining('broken'),
    });
  });

  test('streams output as it arrives and also collects it', async () => {
    const chunks: string[] = [];
    const r = await node.exec('for i in 1 2 3; do echo line$i; sleep 0.1; done', { onStdout: (c) => chunks.push(c.toString()) });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('')).toBe('line1\nline2\nline3\n');
    expect(r.stdout).toBe('line1\nline2\nline3\n');
  });

  test('keeps only the tail of a large output', async () => {
    const r = await node.exec('head -c 300000 /dev/zero | tr "\\0" a; echo END', { maxBuffer: 1000 });
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBe(1000);
    expect(r.stdout.endsWith('END\n')).toBe(true);
  });

  test('feeds stdin from a string and from a stream', async () => {
    expect((await node.exec('cat', { stdin: 'hello' })).stdout).toBe('hello');
    expect((await node.exec('wc -c', { stdin: Readable.from([Buffer.alloc(70000, 1)]) })).stdout.trim()).toBe('70000');
  });

  test('kills a command that runs past its timeout with E3_NODE_TIMEOUT', async () => {
    const started = Date.now();
    await expect(node.exec(['sleep', '20'], { timeoutMs: 300 })).rejects.toMatchObject({ code: 'E3_NODE_TIMEOUT', message: expect.stringContaining(node.node) });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('aborts a command with E3_INTERRUPTED', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    await expect(node.exec(['sleep', '20'], { signal: ac.signal })).rejects.toMatchObject({ code: 'E3_INTERRUPTED' });
  });

  test('spawns a long-lived line protocol and kills it', async () => {
    const p = node.spawn(['sh', '-c', 'while read line; do echo "got $line"; done'], { cwd: remoteDir });
    const lines = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
    p.stdin.write('one\n');
    expect((await lines.next()).value).toBe('got one');
    p.stdin.write('two\n');
    expect((await lines.next()).value).toBe('got two');
    p.kill('TERM');
    const exit = await p.wait();
    expect(exit.code === null ? exit.signal : exit.code).toBeTruthy();
  });

  test('spawned process exits with its code when stdin ends', async () => {
    const p = node.spawn('cat >/dev/null; exit 7');
    p.stdin.end('bye');
    expect(await p.wait()).toEqual({ code: 7 });
  });

  test('puts and gets files, keeping mode and mtime, creating no temp leftovers', async () => {
    const local = await makeTmpDir();
    const src = join(local, 'a.bin');
    const data = Buffer.alloc(300_000, 7);
    await writeFile(src, data, { mode: 0o640 });
    await node.mkdir(`${remoteDir}/x/y`);
    await node.putFile(src, `${remoteDir}/x/y/a.bin`, { mode: 0o600 });
    const s = await node.stat(`${remoteDir}/x/y/a.bin`);
    expect(s).toMatchObject({ type: 'file', size: data.length, mode: 0o600 });
    expect(Math.floor(s!.mtimeMs / 1000)).toBe(Math.floor((await stat(src)).mtimeMs / 1000));
    expect((await node.readdir(`${remoteDir}/x/y`)).map((e) => e.name)).toEqual(['a.bin']);

    await mkdir(join(local, 'back'));
    await node.getFile(`${remoteDir}/x/y/a.bin`, join(local, 'back', 'a.bin'));
    expect((await readFile(join(local, 'back', 'a.bin'))).equals(data)).toBe(true);
    expect(await node.stat(`${remoteDir}/nope`)).toBeUndefined();
    expect((await node.readdir(`${remoteDir}/x`)).map((e) => [e.name, e.type])).toEqual([['y', 'dir']]);
  });
});
