import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import type { Instance } from '@e3/model';

import { awsHome, counterHex, withSnapshots } from '../../test/support/home.js';
import { fakeAws, fakeClock } from '../../test/support/fake-aws.js';
import { provision } from '../provision.js';

describe('a Data Center stack restored from a snapshot with a search snapshot', () => {
  it('gets DBUser=stash and the search snapshot, no CreateBucket; its instance file has DirectURL on the first node', async () => {
    const home = await awsHome();
    const aws = withSnapshots(fakeAws());
    const result = await provision({ experiment: 'aws-dc', run: 'r1', home, env: { AWS_REGION: 'us-east-1' }, owner: 'alice', clients: aws.clients, clock: fakeClock(), randomHex: counterHex(), log: () => undefined });
    const dc = aws.stacks.find((s) => s.template === 'BitbucketDataCenter')!;
    expect(dc.params).toMatchObject({ DBUser: 'stash', DBPassword: 'stash', DBSnapshotId: 'arn:aws:rds:us-east-1:123456789012:snapshot:bb-db', SearchSnapshotBucket: 'e3-es', SearchSnapshotName: 'es1' });
    expect(dc.params).not.toHaveProperty('CreateBucket');
    const instance = JSON.parse(await readFile(join(home, 'instances', `${result.threads[0]!.instance}.json`), 'utf8')) as Instance;
    const first = instance.ClusterNodes![0]!.split('@')[1]!;
    expect(first).toMatch(/compute\.amazonaws\.com$/);
    expect(instance.DirectURL).toBe(`http://${first}:7990`);
  });
});
