import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { e3OriginalHome, makeTmpDir, makeTree } from '@e3/test-utils';

import { readPhaseStatus, readRunFile, writePhaseStatus, writeStages, readStages } from './io.js';
import { parseRunName, runName } from './naming.js';

describe('run names', () => {
  it('have no colons and round-trip', () => {
    const d = new Date(Date.UTC(2026, 10, 25, 9, 8, 7));
    expect(runName('local-demo', d)).toBe('local-demo-20261125T090807Z');
    expect(parseRunName('local-demo-20261125T090807Z')).toEqual({ experiment: 'local-demo', startedAt: d });
    expect(parseRunName('mixed-2017-03-01T10:11:12')?.experiment).toBe('mixed');
  });
});

describe('run-dir files', () => {
  it('writes phase status atomically and reads it back, leaving no temp file', async () => {
    const dir = await makeTmpDir();
    await writePhaseStatus(dir, { phase: 'run', status: 'succeeded', startedAt: 'a', finishedAt: 'b', version: '0.1.0' });
    expect(await readdir(join(dir, 'phases'))).toEqual(['run.json']);
    expect(await readPhaseStatus(dir, 'run')).toMatchObject({ formatVersion: 1, phase: 'run', status: 'succeeded' });
    expect(await readPhaseStatus(dir, 'gather')).toBeUndefined();
  });

  it('refuses a file written by a newer format with E3_RUN_DIR_INCOMPATIBLE and a hint', async () => {
    const dir = await makeTree({ 'phases/run.json': { formatVersion: 99, phase: 'run', status: 'succeeded', startedAt: 'a', version: '9' } });
    await expect(readPhaseStatus(dir, 'run')).rejects.toMatchObject({
      code: 'E3_RUN_DIR_INCOMPATIBLE',
      message: `${join(dir, 'phases/run.json')}: /formatVersion: 99 is newer than this e3 reads (1)`,
    });
  });

  it('reads an E³ run file (no format version) and rejects a missing one', async () => {
    const exp = JSON.parse(await readFile(join(e3OriginalHome, 'experiments/mixed-test.json'), 'utf8'));
    const dir = await makeTree({ 'mixed-test-2017-03-01T10:11:12/mixed-test-2017-03-01T10:11:12.json': { ...exp, run_name: 'mixed-test-2017-03-01T10:11:12' } });
    expect((await readRunFile(join(dir, 'mixed-test-2017-03-01T10:11:12'))).run_name).toBe('mixed-test-2017-03-01T10:11:12');
    await expect(readRunFile(join(dir, 'nope'))).rejects.toMatchObject({ code: 'E3_RUN_NOT_FOUND' });
  });

  it('round-trips stages.json', async () => {
    const dir = await makeTmpDir();
    const stages = { thread: 0, name: 't', stages: [{ index: 0, key: '000', workload: 'mixed', duration: 1000, clients: 3, workers: [{ node: 'localhost', index: 0, clients: 3, status: 'succeeded' as const }], status: 'succeeded' as const }] };
    await writeStages(dir, stages);
    expect(await readStages(dir, 0)).toEqual({ formatVersion: 1, ...stages });
  });
});
