import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { readRunFile, runDirPaths, writeRunFile } from '@e3/model';
import { makeTmpDir } from '@e3/test-utils';

import { fakeClock } from '../test/support/fake-aws.js';
import { memo, updateRunFile } from './context.js';

const base = { run_name: 'r1', duration: 1000, workload: 'mixed', threads: [0, 1, 2, 3].map((i) => ({ name: `t${i}`, instance: { template: 'x' }, worker: { template: 'x' }, stages: [{ clients: 1 }] })) };

describe('updateRunFile', () => {
  it('loses no update when parts finish at the same time', async () => {
    const runDir = join(await makeTmpDir(), 'r1');
    await writeRunFile(runDir, base);
    await Promise.all(
      base.threads.map((_, i) => updateRunFile(runDir, (rf) => void (rf.threads[i]!.worker.stack = { Name: `w${i}` }), fakeClock())),
    );
    const rf = await readRunFile(runDir);
    expect(rf.threads.map((t) => t.worker.stack?.Name)).toEqual(['w0', 'w1', 'w2', 'w3']);
  });

  it('takes over a stale lock file and removes its own', async () => {
    const runDir = join(await makeTmpDir(), 'r1');
    await writeRunFile(runDir, base);
    const lock = runDirPaths(runDir).runFileLock;
    await writeFile(lock, '999999');
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(lock, old, old);
    await updateRunFile(runDir, (rf) => void (rf.description = 'updated'), fakeClock());
    expect((await readRunFile(runDir)).description).toBe('updated');
    await expect(readFile(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('gives up on a lock another live process keeps, naming the lock file', async () => {
    const runDir = join(await makeTmpDir(), 'r1');
    await writeRunFile(runDir, base);
    await writeFile(runDirPaths(runDir).runFileLock, '1');
    await expect(updateRunFile(runDir, () => undefined, fakeClock())).rejects.toMatchObject({ code: 'E3_IO', message: expect.stringContaining('.run-file.lock is held by another e3 process') });
  });
});

describe('memo', () => {
  it('runs each key once and shares the promise', async () => {
    const once = memo();
    let n = 0;
    const [a, b] = await Promise.all([once('k', async () => ++n), once('k', async () => ++n)]);
    expect([a, b, n]).toEqual([1, 1, 1]);
  });
});
