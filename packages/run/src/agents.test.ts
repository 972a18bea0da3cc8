import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { connectNode } from '@e3/remote';
import { makeTmpDir } from '@e3/test-utils';

import { keepEarlierAttempt } from './agents.js';

describe('keepEarlierAttempt', () => {
  it('moves an earlier stage folder to the next free attempt, keeping its files and the other stages', async () => {
    const worker = await makeTmpDir();
    const stage = join(worker, 'stage-001');
    const handle = await connectNode({ node: 'localhost' });
    try {
      expect(await keepEarlierAttempt(handle, stage, 1)).toBeUndefined();
      await mkdir(join(worker, 'stage-000'));
      for (const round of [1, 2]) {
        await mkdir(stage);
        await writeFile(join(stage, 'samples.csv'), `round ${round}\n`);
        expect(await keepEarlierAttempt(handle, stage, 1)).toBe(join(worker, `stage-001.attempt-${round}`));
      }
      expect(existsSync(stage)).toBe(false);
      expect((await readdir(worker)).sort()).toEqual(['stage-000', 'stage-001.attempt-1', 'stage-001.attempt-2']);
      expect(await readFile(join(worker, 'stage-001.attempt-1', 'samples.csv'), 'utf8')).toBe('round 1\n');
      expect(await readFile(join(worker, 'stage-001.attempt-2', 'samples.csv'), 'utf8')).toBe('round 2\n');
    } finally {
      await handle.close();
    }
  });
});
