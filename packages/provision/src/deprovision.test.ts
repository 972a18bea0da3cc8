import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { readPhaseStatus, writePhaseStatus } from '@e3/model';

import { awsHome, counterHex, withSnapshots } from '../test/support/home.js';
import { fakeAws, fakeClock, type FakeAws } from '../test/support/fake-aws.js';
import { deprovision } from './deprovision.js';
import { readLedger } from './ledger.js';
import { provision } from './provision.js';
import type { Provider } from './types.js';

const env = { AWS_REGION: 'us-east-1' };

async function provisioned(options: { experiment?: string; run?: string; owner?: string; ttl?: string; aws?: FakeAws; home?: string } = {}) {
  const home = options.home ?? (await awsHome());
  const aws = options.aws ?? withSnapshots(fakeAws());
  await provision({
    experiment: options.experiment ?? 'aws-dc',
    run: options.run ?? 'r1',
    home,
    env,
    owner: options.owner ?? 'alice',
    ttl: options.ttl,
    clients: aws.clients,
    clock: fakeClock(),
    randomHex: counterHex(),
  });
  return { home, aws };
}

describe('deprovision -r <run>', () => {
  it('deletes every stack and key pair, waits for it, moves the files into the run and archives it', async () => {
    const { home, aws } = await provisioned();
    expect(aws.live()).toHaveLength(5);
    const result = await deprovision({ run: 'r1', home, env, clients: aws.freshClients(), clock: fakeClock() });
    expect(aws.live()).toEqual([]);
    const deleted = result.deleted.map((d) => `${d.resource.type} ${d.resource.name} ${d.ok}`);
    // Machine stacks are deleted together (in ledger order, which parallel creates leave open), then key pairs, then the network.
    expect([...deleted.slice(0, 2).sort(), ...deleted.slice(2)]).toEqual([
      'stack stack-bitbucket-data-center-alice-000002 true',
      'stack stack-worker-alice-000003 true',
      'key-pair stack-bitbucket-data-center-alice-000002 true',
      'key-pair stack-worker-alice-000003 true',
      'stack stack-network-alice-000001 true',
    ]);
    expect(result.archivedTo).toBe(join(home, 'archive/r1'));
    await expect(readdir(join(home, 'runs/r1'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(join(home, 'archive/r1/instances'))).sort()).toEqual([
      'stack-bitbucket-data-center-alice-000002.json',
      'stack-bitbucket-data-center-alice-000002.pem',
      'stack-network-alice-000001.json',
      'stack-worker-alice-000003.json',
      'stack-worker-alice-000003.pem',
    ]);
    expect((await readdir(join(home, 'instances'))).sort()).toEqual(['my-bitbucket.json', 'my-bitbucket.pem', 'my-workers.json']);
    expect((await readPhaseStatus(join(home, 'archive/r1'), 'deprovision'))?.status).toBe('succeeded');
    const ledger = await readLedger(join(home, 'archive/r1/ledger.ndjson'));
    expect(ledger.filter((e) => e.action === 'delete' && e.stage === 'result' && e.ok)).toHaveLength(5);
  });

  it('is harmless the second time: nothing is called, the archived run is reported', async () => {
    const { home, aws } = await provisioned();
    // No region configured: the ledger's region is used.
    await deprovision({ run: 'r1', home, env: {}, clients: aws.clients, clock: fakeClock() });
    expect(aws.live()).toEqual([]);
    const calls = aws.calls.length;
    const again = await deprovision({ run: 'r1', home, env, clients: aws.clients, clock: fakeClock() });
    expect(again).toMatchObject({ alreadyArchived: true, deleted: [] });
    expect(aws.calls.length).toBe(calls);
  });

  it('deletes what only the ledger knows: a create intent with no result', async () => {
    const { home, aws } = await provisioned({ experiment: 'byo' });
    aws.keyPairs.set('stack-worker-x-abcdef', { name: 'stack-worker-x-abcdef', id: 'key-1', tags: [] });
    await appendFile(
      join(home, 'runs/r1/ledger.ndjson'),
      JSON.stringify({ ts: new Date().toISOString(), id: 'a1', stage: 'intent', action: 'create', provider: 'aws', resource: { type: 'key-pair', name: 'stack-worker-x-abcdef' } }) + '\n{"ts":"2026-01',
    );
    await deprovision({ run: 'r1', home, env, clients: aws.clients, clock: fakeClock() });
    expect(aws.live()).toEqual([]);
  });

  it('retries a stack that ends in DELETE_FAILED once', async () => {
    const { home, aws } = await provisioned();
    aws.faults.failDeleteOnce = ['WorkerCluster'];
    await deprovision({ run: 'r1', home, env, clients: aws.clients, clock: fakeClock() });
    expect(aws.live()).toEqual([]);
  });

  it('keeps the run and the network when a stack cannot be deleted, and finishes on the next call', async () => {
    const { home, aws } = await provisioned();
    aws.faults.failDelete = ['WorkerCluster'];
    const err = await deprovision({ run: 'r1', home, env, clients: aws.clients, clock: fakeClock() }).catch((e) => e);
    expect(err).toMatchObject({ code: 'E3_PROVISION', hint: expect.stringContaining('e3 deprovision -r r1') });
    expect(err.message).toContain('stack stack-worker-alice-000003: stack stack-worker-alice-000003 could not be deleted');
    expect(err.message).toContain('stack stack-network-alice-000001: kept: a stack in it could not be deleted');
    expect((await readPhaseStatus(join(home, 'runs/r1'), 'deprovision'))?.status).toBe('failed');
    expect(aws.live().sort()).toEqual(['stack stack-network-alice-000001 CREATE_COMPLETE', 'stack stack-worker-alice-000003 DELETE_FAILED']);
    aws.faults.failDelete = [];
    await deprovision({ run: 'r1', home, env, clients: aws.clients, clock: fakeClock() });
    expect(aws.live()).toEqual([]);
    expect(await readdir(join(home, 'archive'))).toEqual(['r1']);
  });

  it('deletes the stacks of an E³ run (no ledger) from its run file, with their networks', async () => {
    const home = await awsHome({
      'e3-home/runs/old/old.json': {
        run_name: 'old',
        duration: 1000,
        workload: 'mixed',
        threads: [
          {
            name: 't',
            instance: { stack: { Name: 'my-bitbucket' } },
            worker: { template: 'WorkerCluster', parameters: {}, stack: { Name: 'stack-worker-bob-aaaaaa', StackId: 'stack-worker-bob-aaaaaa', ClusterNodes: ['ec2-user@w'], RunConfig: { network: 'stack-network-bob-bbbbbb' } } },
            stages: [{ clients: 1 }],
          },
        ],
      },
    });
    const aws = fakeAws();
    await aws.clients.cloudformation.send(new (await import('@aws-sdk/client-cloudformation')).CreateStackCommand({ StackName: 'stack-network-bob-bbbbbb', TemplateURL: 'https://example.com/PublicNetwork.template', Tags: [{ Key: 'e3:template', Value: 'PublicNetwork' }] }));
    await aws.clients.cloudformation.send(new (await import('@aws-sdk/client-cloudformation')).CreateStackCommand({ StackName: 'stack-worker-bob-aaaaaa', TemplateURL: 'https://example.com/WorkerCluster.template', Parameters: [{ ParameterKey: 'VPC', ParameterValue: 'vpc-1' }] }));
    aws.keyPairs.set('stack-worker-bob-aaaaaa', { name: 'stack-worker-bob-aaaaaa', id: 'k', tags: [] });
    await deprovision({ run: 'old', home, env, clients: aws.clients, clock: fakeClock() });
    expect(aws.live()).toEqual([]);
    expect(await readdir(join(home, 'instances'))).toContain('my-bitbucket.json');
  });

  it('names the provider it lacks for resources another provider recorded', async () => {
    const home = await awsHome({
      'e3-home/experiments/local.json': { duration: 1000, workload: 'mixed', threads: [{ name: 'l', instance: { template: 'local' }, worker: { template: 'local' }, stages: [{ clients: 1 }] }] },
    });
    const deleted: string[] = [];
    const local: Provider = {
      name: 'local',
      async provision(_req, ctx) {
        await ctx.ledger.track('local', 'create', { type: 'target', name: 't1' }, async () => undefined);
        return { instance: { ClusterNodes: ['localhost'], Name: 'local' }, worker: { ClusterNodes: ['localhost'], Name: 'localhost' } };
      },
      async deprovision(resources) {
        deleted.push(...resources.map((r) => r.name));
        return resources.map((resource) => ({ provider: 'local', resource, ok: true }));
      },
    };
    await provision({ experiment: 'local', run: 'r1', home, env: {}, clock: fakeClock(), providers: { local } });
    await expect(deprovision({ run: 'r1', home, env: {}, clock: fakeClock() })).rejects.toMatchObject({
      code: 'E3_PROVISION',
      message: expect.stringContaining('resources of provider "local" remain (t1)'),
    });
    await deprovision({ run: 'r1', home, env: {}, clock: fakeClock(), providers: { local } });
    expect(deleted).toEqual(['t1']);
  });

  it('refuses while the provision of the run is still running in another live process', async () => {
    const { home, aws } = await provisioned({ experiment: 'byo' });
    await writePhaseStatus(join(home, 'runs/r1'), { phase: 'provision', status: 'running', startedAt: '2026-01-01T00:00:00Z', version: '0', pid: process.ppid });
    await expect(deprovision({ run: 'r1', home, env, clients: aws.clients, clock: fakeClock() })).rejects.toMatchObject({
      code: 'E3_PHASE_NOT_READY',
      hint: expect.stringContaining(`kill ${process.ppid}`),
    });
  });

  it('rejects an unknown run and a wrong mix of modes', async () => {
    const home = await awsHome();
    await expect(deprovision({ run: 'nope', home, env })).rejects.toMatchObject({ code: 'E3_RUN_NOT_FOUND' });
    await expect(deprovision({ home, env })).rejects.toMatchObject({ code: 'E3_USAGE' });
    await expect(deprovision({ run: 'x', expired: true, home, env })).rejects.toMatchObject({ code: 'E3_USAGE' });
    await expect(deprovision({ all: true, home, env })).rejects.toMatchObject({ code: 'E3_USAGE', message: expect.stringContaining('--owner is required') });
  });
});

describe('deprovision by stack, owner and expiry', () => {
  it('--stack deletes one stack and its key pair, and moves its files into its run', async () => {
    const { home, aws } = await provisioned();
    await deprovision({ stack: 'stack-worker-alice-000003', home, env, clients: aws.clients, clock: fakeClock() });
    expect(aws.live().sort()).toEqual([
      'key-pair stack-bitbucket-data-center-alice-000002',
      'stack stack-bitbucket-data-center-alice-000002 CREATE_COMPLETE',
      'stack stack-network-alice-000001 CREATE_COMPLETE',
    ]);
    expect(await readdir(join(home, 'runs/r1/instances'))).toEqual(['stack-worker-alice-000003.json', 'stack-worker-alice-000003.pem']);
    // The run's ledger knows, so deprovision -r does not try it again.
    const ledger = await readLedger(join(home, 'runs/r1/ledger.ndjson'));
    expect(ledger.filter((e) => e.action === 'delete' && e.ok).map((e) => e.resource.type)).toEqual(['stack', 'key-pair']);
    await deprovision({ run: 'r1', home, env, clients: aws.clients, clock: fakeClock() });
    expect(aws.live()).toEqual([]);
  });

  it('--all --owner deletes only that owner\'s e3 resources; --expired only the expired ones', async () => {
    const aws = withSnapshots(fakeAws());
    const { home } = await provisioned({ aws, owner: 'alice', run: 'ra', ttl: '1h' });
    await provisioned({ aws, home, owner: 'bob', run: 'rb', ttl: '48h' });
    expect(aws.live()).toHaveLength(10);
    const clock = fakeClock(Date.UTC(2026, 0, 1, 14));
    const expired = await deprovision({ expired: true, home, env, clients: aws.clients, clock });
    expect(expired.deleted).toHaveLength(5);
    expect(aws.live().every((l) => l.includes('-bob-'))).toBe(true);
    await deprovision({ all: true, owner: 'carol', home, env, clients: aws.clients, clock });
    expect(aws.live()).toHaveLength(5);
    await deprovision({ all: true, owner: 'bob', home, env, clients: aws.clients, clock });
    expect(aws.live()).toEqual([]);
    expect(await readFile(join(home, 'runs/rb/ledger.ndjson'), 'utf8')).toContain('"action":"delete"');
  });
});
