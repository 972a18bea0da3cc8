import { existsSync, readFileSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { deprovision, provision } from '@e3/provision';

import { fakeAws, fakeClock, isCrash, type FakeAws } from './support/fake-aws.js';
import { awsHome, withSnapshots } from './support/home.js';

/**
 * The acceptance test of the ledger: for every AWS call of a provision, (a) that call fails, and (b) the
 * process is killed right after the call took effect. Each time a fresh deprovision, reading only the
 * run dir and its ledger, leaves nothing behind in the model, and a second deprovision is harmless.
 */

const env = { AWS_REGION: 'us-east-1' };
const EXPERIMENTS = ['aws-dc', 'aws-mixed'] as const;

async function baselineCalls(experiment: string): Promise<string[]> {
  const home = await awsHome();
  const aws = withSnapshots(fakeAws());
  await provision({ experiment, run: 'r1', home, env, owner: 'alice', clients: aws.clients, clock: fakeClock() });
  return aws.calls;
}

const ledgerLines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

async function cleanUpAndCheck(home: string, aws: FakeAws): Promise<void> {
  aws.dead = false;
  aws.faults = {};
  if (!existsSync(join(home, 'runs/r1'))) {
    // The checks before any create failed: provision removed the run, and nothing may exist.
    expect(aws.calls.filter((c) => c.startsWith('Create'))).toEqual([]);
    expect(aws.live()).toEqual([]);
    return;
  }
  // A fresh invocation: new clients, nothing in memory but what is on disk.
  await deprovision({ run: 'r1', home, env, clients: aws.freshClients(), clock: fakeClock() });
  expect(aws.live()).toEqual([]);
  expect(await readdir(join(home, 'archive'))).toEqual(['r1']);
  const again = await deprovision({ run: 'r1', home, env, clients: aws.freshClients(), clock: fakeClock() });
  expect(again.alreadyArchived).toBe(true);
  expect(aws.live()).toEqual([]);
  const left = (await readdir(join(home, 'instances'))).filter((f) => f.startsWith('stack-'));
  expect(left).toEqual([]);
}

describe.each(EXPERIMENTS)('fault injection: %s', (experiment) => {
  it('covers a provision sequence with creates, polls and lookups', async () => {
    const calls = await baselineCalls(experiment);
    expect(calls).toEqual(expect.arrayContaining(['CreateKeyPair', 'CreateStack', 'DescribeStacks', 'DescribeAutoScalingGroups', 'DescribeInstances', 'DescribeSnapshots']));
    expect(calls.length).toBeGreaterThan(15);
  });

  it('leaves nothing behind when any one AWS call fails', async () => {
    const n = (await baselineCalls(experiment)).length;
    for (let i = 0; i < n; i++) {
      const home = await awsHome();
      const aws = withSnapshots(fakeAws({ faults: { failAt: i } }));
      const err = await provision({ experiment, run: 'r1', home, env, owner: 'alice', clients: aws.clients, clock: fakeClock() }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect({ call: i, name: aws.calls[i], code: (err as { code?: string })?.code }).toEqual({ call: i, name: aws.calls[i], code: 'E3_PROVISION' });
      await cleanUpAndCheck(home, aws);
    }
  });

  it('leaves nothing behind when the process is killed right after any one AWS call', async () => {
    const n = (await baselineCalls(experiment)).length;
    for (let i = 0; i < n; i++) {
      const home = await awsHome();
      const ledger = join(home, 'runs/r1/ledger.ndjson');
      let atCrash: string[] = [];
      const aws = withSnapshots(fakeAws({ faults: { crashAt: i, onCrash: () => (atCrash = ledgerLines(ledger)) } }));
      const err = await provision({ experiment, run: 'r1', home, env, owner: 'alice', clients: aws.clients, clock: fakeClock() }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect({ call: i, crashed: isCrash(err) }).toEqual({ call: i, crashed: true });
      // A killed process writes nothing more: the ledger is what it was at the crash.
      if (existsSync(join(home, 'runs/r1'))) await writeFile(ledger, atCrash.map((l) => `${l}\n`).join(''));
      await cleanUpAndCheck(home, aws);
    }
  });

  it('finishes the job when deprovision itself is killed after any one of its calls', async () => {
    const home0 = await awsHome();
    const probe = withSnapshots(fakeAws());
    await provision({ experiment, run: 'r1', home: home0, env, owner: 'alice', clients: probe.clients, clock: fakeClock() });
    const before = probe.calls.length;
    await deprovision({ run: 'r1', home: home0, env, clients: probe.clients, clock: fakeClock() });
    const n = probe.calls.length - before;
    for (let j = 0; j < n; j++) {
      const home = await awsHome();
      const aws = withSnapshots(fakeAws());
      await provision({ experiment, run: 'r1', home, env, owner: 'alice', clients: aws.clients, clock: fakeClock() });
      aws.faults = { crashAt: aws.calls.length + j };
      const err = await deprovision({ run: 'r1', home, env, clients: aws.clients, clock: fakeClock() }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect({ call: j, crashed: isCrash(err) }).toEqual({ call: j, crashed: true });
      await cleanUpAndCheck(home, aws);
    }
  });
});
