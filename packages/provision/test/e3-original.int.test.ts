import { cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { readRunFile, type Instance } from '@e3/model';
import { deprovision, provision } from '@e3/provision';
import { e3OriginalHome, makeTmpDir } from '@e3/test-utils';

import { fakeAws, fakeClock } from './support/fake-aws.js';

describe("E³'s own experiments", () => {
  it.each(['adaptive-scaling', 'mixed-test'])('%s provisions unchanged against E³ snapshot ids, and deprovisions to nothing', async (experiment) => {
    const home = join(await makeTmpDir(), 'e3-home');
    await cp(e3OriginalHome, home, { recursive: true });
    // No templates folder: provision finds the ones e3 ships (its built-in e3-home/templates).
    const aws = fakeAws();
    aws.snapshots.add('snap-6ff61170');
    aws.dbSnapshots.add('arn:aws:rds:us-east-1:098706035825:snapshot:e3-small');
    const env = { AWS_REGION: 'us-east-1' };
    const result = await provision({ experiment, run: 'r1', home, env, owner: 'e3ci', clients: aws.clients, clock: fakeClock() });
    const rf = await readRunFile(join(home, 'runs/r1'));
    expect(rf.threads).toHaveLength(result.threads.length);
    for (const t of rf.threads) {
      expect((t.worker.stack as unknown as Instance).ClusterNodes?.length).toBeGreaterThan(0);
      expect((t.instance.stack as unknown as Instance).URL).toMatch(/^http/);
    }
    await deprovision({ run: 'r1', home, env, clients: aws.freshClients(), clock: fakeClock() });
    expect(aws.live()).toEqual([]);
    expect((await readdir(join(home, 'instances'))).filter((f) => f.startsWith('stack-'))).toEqual([]);
  });
});
