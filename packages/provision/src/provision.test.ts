import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { E3_VERSION, E3Error, readPhaseStatus, readRunFile, validateValue, type Instance } from '@e3/model';
import { repoRoot } from '@e3/test-utils';

import { awsHome, counterHex, withSnapshots } from '../test/support/home.js';
import { fakeAws, fakeClock } from '../test/support/fake-aws.js';
import { deprovision } from './deprovision.js';
import { readLedger } from './ledger.js';
import { provision } from './provision.js';
import type { Provider } from './types.js';

const env = { AWS_REGION: 'us-east-1' };

async function run(home: string, experiment: string, extra: Partial<Parameters<typeof provision>[0]> = {}) {
  const aws = extra.clients ? undefined : withSnapshots(fakeAws());
  const logs: string[] = [];
  const p = provision({ experiment, run: 'r1', home, env, owner: 'alice', clients: aws?.clients, clock: fakeClock(), randomHex: counterHex(), log: (m) => logs.push(m), ...extra });
  return { p, aws: aws!, logs };
}

describe('provision with aws templates', () => {
  it('creates network, key pairs and stacks, and writes instance files, pems, the run file and the phase', async () => {
    const home = await awsHome();
    const { p, aws, logs } = await run(home, 'aws-dc');
    const result = await p;
    const runDir = join(home, 'runs/r1');
    expect(result.threads).toEqual([
      { index: 0, name: 'dc', instance: 'stack-bitbucket-data-center-alice-000002', worker: 'stack-worker-alice-000003', providers: { instance: 'aws', worker: 'aws' } },
    ]);
    expect(aws.stacks.map((s) => `${s.name} ${s.status}`).sort()).toEqual([
      'stack-bitbucket-data-center-alice-000002 CREATE_COMPLETE',
      'stack-network-alice-000001 CREATE_COMPLETE',
      'stack-worker-alice-000003 CREATE_COMPLETE',
    ]);
    expect([...aws.keyPairs.keys()].sort()).toEqual(['stack-bitbucket-data-center-alice-000002', 'stack-worker-alice-000003']);

    const rf = await readRunFile(runDir);
    expect(rf.run_name).toBe('r1');
    const worker = rf.threads[0]!.worker.stack as unknown as Instance;
    const instance = rf.threads[0]!.instance.stack as unknown as Instance;
    expect(worker.ClusterNodes).toEqual(['ubuntu@ec2-i-stack-worker-alice-000003-asg-0.compute.amazonaws.com', 'ubuntu@ec2-i-stack-worker-alice-000003-asg-1.compute.amazonaws.com']);
    expect(instance.ClusterNodes).toHaveLength(2);
    expect(instance.FileServerConnectionString).toMatch(/^ubuntu@fs-/);
    expect(instance.RunConfig).toMatchObject({ network: 'stack-network-alice-000001', owner: 'alice', run: 'r1', admin_password: '3last1c', template: 'BitbucketDataCenter' });
    const file = JSON.parse(await readFile(join(home, 'instances/stack-worker-alice-000003.json'), 'utf8'));
    expect(file).toEqual(worker);
    for (const name of ['stack-worker-alice-000003', 'stack-bitbucket-data-center-alice-000002']) {
      const pem = join(home, `instances/${name}.pem`);
      expect((await stat(pem)).mode & 0o777).toBe(0o600);
      expect(await readFile(pem, 'utf8')).toContain(`SECRET-${name}`);
    }
    expect((await readPhaseStatus(runDir, 'provision'))?.status).toBe('succeeded');

    // Tags, parameters and template bodies.
    const dc = aws.stacks.find((s) => s.template === 'BitbucketDataCenter')!;
    expect(Object.fromEntries(dc.tags.map((t) => [t.Key, t.Value]))).toMatchObject({
      'e3:owner': 'alice',
      'e3:run': 'r1',
      'e3:expires-at': '2026-01-02T12:00:00.000Z',
      e3: expect.any(String),
      service_name: 'e3',
    });
    expect(dc.params).toMatchObject({
      KeyName: dc.name,
      ClusterNodeMin: '2',
      HomeVolumeSnapshotId: 'snap-0e3a0b0c',
      DBSnapshotId: 'arn:aws:rds:us-east-1:123456789012:snapshot:bb-db',
      BitbucketVersion: '8.9.0',
      BitbucketProperties: 'feature.x=true,jmx.enabled=true',
      VPC: 'vpc-1',
      ExternalSubnets: 'subnet-1a,subnet-1b',
    });
    expect(dc.params.DBMasterUserPassword).toMatch(/^e3[0-9a-f]{24}$/);
    expect(aws.stacks.every((s) => s.hasBody)).toBe(true);

    // The ledger: intent + result around every create; snapshot checks come before any create.
    const ledger = await readLedger(join(runDir, 'ledger.ndjson'));
    expect(ledger.slice(0, 2).map((e) => `${e.stage} ${e.action} ${e.resource.type} ${e.resource.template} ${e.ok ?? ''}`)).toEqual([
      'intent create stack PublicNetwork ',
      'result create stack PublicNetwork true',
    ]);
    expect(ledger.every((e) => e.run === 'r1')).toBe(true);
    expect(ledger.filter((e) => e.stage === 'intent')).toHaveLength(5);
    expect(ledger.filter((e) => e.stage === 'result' && e.ok)).toHaveLength(5);
    const firstCreate = aws.calls.findIndex((c) => c.startsWith('Create'));
    expect(aws.calls.slice(0, firstCreate)).toEqual(['DescribeSnapshots', 'DescribeDBSnapshots', 'HeadObject']);

    // No secret reaches the log.
    expect(logs.join('\n')).not.toMatch(/SECRET|3last1c|DBMasterUserPassword/);
  });

  it('checks the snapshots before creating anything: a missing EBS snapshot names the file and field', async () => {
    const home = await awsHome();
    const aws = fakeAws();
    await expect(provision({ experiment: 'aws-dc', run: 'r1', home, env, owner: 'alice', clients: aws.clients, clock: fakeClock() })).rejects.toMatchObject({
      code: 'E3_PROVISION',
      message: expect.stringContaining('aws-small.json: /ebs/us-east-1: EBS snapshot snap-0e3a0b0c cannot be used: InvalidSnapshot.NotFound'),
    });
    expect(aws.calls).toEqual(['DescribeSnapshots']);
    expect(aws.live()).toEqual([]);
    // Nothing was created, so no run is left behind and the same command can run again.
    await expect(readdir(join(home, 'runs'))).resolves.toEqual([]);
  });

  it('fails a stack that ends in CREATE_FAILED with its reason and a deprovision hint', async () => {
    const home = await awsHome();
    const aws = withSnapshots(fakeAws({ faults: { failTemplates: ['WorkerCluster'] } }));
    const err = await provision({ experiment: 'aws-dc', run: 'r1', home, env, owner: 'alice', clients: aws.clients, clock: fakeClock() }).catch((e) => e);
    expect(err).toMatchObject({ code: 'E3_PROVISION', hint: expect.stringContaining('e3 deprovision -r r1') });
    expect(err.message).toMatch(/stack stack-worker-alice-[0-9a-f]{6} ended in CREATE_FAILED: The following resource/);
  });

  it('times out a stack that never completes, without really waiting', async () => {
    const home = await awsHome();
    const aws = withSnapshots(fakeAws({ pollsToComplete: 1e9 }));
    const clock = fakeClock();
    await expect(
      provision({ experiment: 'aws-dc', run: 'r1', home, env, owner: 'alice', clients: aws.clients, clock, aws: { createTimeoutMs: 600_000 } }),
    ).rejects.toMatchObject({ code: 'E3_PROVISION', message: expect.stringMatching(/timed out after 600 s waiting for stack stack-network-/) });
    expect(Math.max(...clock.slept)).toBeLessThanOrEqual(30_000);
  });

  it('stops on SIGINT while waiting: phase aborted, and deprovision cleans up what was made', async () => {
    const home = await awsHome();
    const aws = withSnapshots(fakeAws());
    const ac = new AbortController();
    const log = (m: string) => {
      if (m.includes('creating WorkerCluster')) ac.abort(new E3Error('INTERRUPTED', 'interrupted'));
    };
    await expect(provision({ experiment: 'aws-dc', run: 'r1', home, env, clients: aws.clients, clock: fakeClock(), signal: ac.signal, log })).rejects.toMatchObject({ code: 'E3_INTERRUPTED' });
    expect((await readPhaseStatus(join(home, 'runs/r1'), 'provision'))?.status).toBe('aborted');
    expect(aws.live().length).toBeGreaterThan(0);
    await deprovision({ run: 'r1', home, env, clients: aws.clients, clock: fakeClock() });
    expect(aws.live()).toEqual([]);
  });

  it('needs a region', async () => {
    const home = await awsHome();
    await expect(provision({ experiment: 'aws-dc', run: 'r1', home, env: {}, clients: fakeAws().clients, clock: fakeClock() })).rejects.toMatchObject({
      code: 'E3_ENVIRONMENT',
      hint: expect.stringContaining('AWS_REGION'),
    });
  });

  it('uses --template-url when no local template exists, and an existing --network', async () => {
    const home = await awsHome({
      'e3-home/instances/net1.json': { VPC: 'vpc-9', Subnet1: 'subnet-9a', Subnet2: 'subnet-9b' },
    });
    const aws = withSnapshots(fakeAws());
    await provision({
      experiment: 'aws-mixed',
      run: 'r1',
      home,
      env,
      owner: 'bob',
      clients: aws.clients,
      clock: fakeClock(),
      aws: { templateDir: join(home, 'nowhere'), templateUrl: 'https://bucket.s3.amazonaws.com/t/', network: 'net1' },
    });
    expect(aws.stacks.some((s) => s.template === 'PublicNetwork')).toBe(false);
    expect(aws.stacks.every((s) => !s.hasBody && s.params.VPC === 'vpc-9')).toBe(true);
  });

  it('rejects a template it has no file or URL for before creating anything', async () => {
    const home = await awsHome();
    const aws = withSnapshots(fakeAws());
    await expect(
      provision({ experiment: 'aws-dc', run: 'r1', home, env, clients: aws.clients, clock: fakeClock(), aws: { templateDir: join(home, 'nowhere') } }),
    ).rejects.toMatchObject({ code: 'E3_PROVISION', message: expect.stringContaining('no CloudFormation template BitbucketDataCenter.template') });
    expect(aws.calls.filter((c) => c.startsWith('Create'))).toEqual([]);
  });

  it('refuses an existing run name', async () => {
    const home = await awsHome({ 'e3-home/runs/r1/r1.json': '{}' });
    await expect(run(home, 'byo').then((r) => r.p)).rejects.toMatchObject({ code: 'E3_USAGE', message: expect.stringContaining('run r1 already exists') });
  });
});

describe("E³'s cluster-scaling-ssh against the fake AWS with the shipped templates", () => {
  it('passes every parameter the experiment and the e3-small snapshot imply, and CloudFormation accepts them all', async () => {
    const shipped = (f: string) => readFile(join(repoRoot, 'e3-home', f), 'utf8');
    const home = await awsHome({
      'e3-home/experiments/cluster-scaling-ssh.json': await shipped('experiments/cluster-scaling-ssh.json'),
      'e3-home/snapshots/e3-small.json': await shipped('snapshots/e3-small.json'),
    });
    const experiment = JSON.parse(await shipped('experiments/cluster-scaling-ssh.json')) as {
      threads: Array<{ name: string; instance: { version: string; properties: string[]; parameters: Record<string, string> }; worker: { parameters: Record<string, string> } }>;
    };
    const snapshot = JSON.parse(await shipped('snapshots/e3-small.json')) as { ebs: Record<string, string>; rds: { account: string; id: string } };
    const aws = fakeAws();
    aws.snapshots.add(snapshot.ebs['us-east-1']!);
    const dbArn = `arn:aws:rds:us-east-1:${snapshot.rds.account}:snapshot:${snapshot.rds.id}`;
    aws.dbSnapshots.add(dbArn);
    const logs: string[] = [];
    const result = await provision({ experiment: 'cluster-scaling-ssh', run: 'r1', home, env, owner: 'al', clients: aws.clients, clock: fakeClock(), randomHex: counterHex(), log: (m) => logs.push(m) });

    // Every stack was created from the body of the template e3 ships, and completed.
    expect(aws.stacks.map((s) => `${s.template} ${s.status} ${s.hasBody}`).sort()).toEqual([
      ...Array(4).fill('BitbucketDataCenter CREATE_COMPLETE true'),
      'PublicNetwork CREATE_COMPLETE true',
      ...Array(4).fill('WorkerCluster CREATE_COMPLETE true'),
    ]);
    const network = aws.stacks.find((s) => s.template === 'PublicNetwork')!.outputs;
    const rf = await readRunFile(join(home, 'runs/r1'));
    expect(result.threads.map((t) => t.name)).toEqual(experiment.threads.map((t) => t.name));
    for (const [i, t] of experiment.threads.entries()) {
      const dc = aws.stacks.find((s) => s.name === result.threads[i]!.instance)!;
      const worker = aws.stacks.find((s) => s.name === result.threads[i]!.worker)!;
      const subnets = `${network.Subnet1},${network.Subnet2}`;
      expect(dc.params).toEqual({
        ...t.instance.parameters,
        BitbucketVersion: t.instance.version,
        BitbucketProperties: [...t.instance.properties, 'jmx.enabled=true'].join(','),
        HomeVolumeSnapshotId: snapshot.ebs['us-east-1'],
        DBSnapshotId: dbArn,
        DBUser: 'stash',
        DBPassword: 'stash',
        DBMasterUserPassword: expect.stringMatching(/^e3[0-9a-f]{24}$/),
        ClusterNodeInstanceType: 'c5.xlarge',
        CidrBlock: '198.51.100.7/32',
        KeyName: dc.name,
        VPC: network.VPC,
        ExternalSubnets: subnets,
        InternalSubnets: subnets,
        StartCollectd: 'true',
        AMIOpts: 'ATL_FORCE_HOST_NAME=true',
        AssociatePublicIpAddress: 'true',
        CatalinaOpts: expect.stringContaining('-Dcom.sun.management.jmxremote.host=127.0.0.1'),
      });
      expect(worker.params).toEqual({ ...t.worker.parameters, InstanceType: 'c5.2xlarge', KeyName: worker.name, VPC: network.VPC, Subnets: subnets, CidrBlock: '198.51.100.7/32' });
      expect([...aws.keyPairs.keys()]).toEqual(expect.arrayContaining([dc.name, worker.name]));
      // As many nodes as the experiment asks for, from the groups the stacks' outputs name.
      const inst = rf.threads[i]!.instance.stack as unknown as Instance;
      const work = rf.threads[i]!.worker.stack as unknown as Instance;
      expect(inst.ClusterNodes).toHaveLength(Number(t.instance.parameters.ClusterNodeMin));
      expect(work.ClusterNodes).toHaveLength(Number(t.worker.parameters.ClusterSize));
      expect(work.ClusterNodes!.every((n) => n.startsWith('ubuntu@'))).toBe(true);
      // What the run needs from the Data Center outputs: the people's URL, the workers' way in, the nodes.
      expect(inst.ClusterNodes!.every((n) => n.startsWith('ubuntu@'))).toBe(true);
      expect(inst).toMatchObject({ URL: expect.stringMatching(/^http:\/\//), InternalURL: expect.stringMatching(/^http:\/\//), SshHost: expect.any(String), FileServerConnectionString: expect.stringMatching(/^ubuntu@/) });
      expect(inst.DirectURL).toBe(`http://${inst.ClusterNodes![0]!.replace(/^ubuntu@/, '')}:7990`);
    }
    expect(logs.join('\n')).not.toMatch(/DBMasterUserPassword|e3[0-9a-f]{24}/);
    await deprovision({ run: 'r1', home, env, clients: aws.freshClients(), clock: fakeClock() });
    expect(aws.live()).toEqual([]);
  });
});

describe('provision with byo instance files', () => {
  it('copies the instance files into the run file and creates nothing', async () => {
    const home = await awsHome();
    const aws = fakeAws();
    const result = await provision({ experiment: 'byo', run: 'r1', home, env: {}, clients: aws.clients, clock: fakeClock() });
    expect(result.threads[0]!.providers).toEqual({ instance: 'byo', worker: 'byo' });
    const rf = await readRunFile(join(home, 'runs/r1'));
    expect(rf.threads[0]!.instance.stack).toEqual({ Name: 'my-bitbucket', ClusterNodes: ['ec2-user@bitbucket.example.com'], URL: 'http://bitbucket.example.com:7990', RunConfig: { admin_password: 'hunter2' } });
    expect(rf.threads[0]!.worker.stack).toEqual({ Name: 'my-workers', ClusterNodes: ['localhost'] });
    expect(aws.calls).toEqual([]);
    expect(await readLedger(join(home, 'runs/r1/ledger.ndjson'))).toEqual([]);
  });

  it('needs the pem of a user@host node', async () => {
    const home = await awsHome({ 'e3-home/instances/my-workers.json': { ClusterNodes: ['me@w1.example.com'] } });
    await expect(provision({ experiment: 'byo', run: 'r1', home, env: {}, clock: fakeClock() })).rejects.toMatchObject({
      code: 'E3_FILE_NOT_FOUND',
      message: expect.stringContaining('my-workers.json: /ClusterNodes: nodes are reached over SSH but the private key'),
      hint: expect.stringContaining('my-workers.pem'),
    });
  });

  it('rejects a missing instance file through experiment validation, naming the field', async () => {
    const home = await awsHome({ 'e3-home/experiments/byo2.json': { ...JSON.parse(JSON.stringify((await import('../test/support/home.js')).byoExperiment)), threads: [{ name: 't', instance: { stack: { Name: 'nope' } }, worker: { stack: { Name: 'my-workers' } }, stages: [{ clients: 1 }] }] } });
    await expect(provision({ experiment: 'byo2', run: 'r1', home, env: {}, clock: fakeClock() })).rejects.toMatchObject({
      code: 'E3_INVALID_FILE',
      message: expect.stringContaining('/threads/0/instance/stack/Name: instance "nope" not found'),
    });
    await expect(readdir(join(home, 'runs'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses an experiment whose workload has bad weights and an unknown script, before creating any run folder or stack', async () => {
    const home = await awsHome({
      'e3-home/workloads/mixed.json': [
        { script: 'bitbucket.scm.NoSuchScript', description: 'Clone', weight: 0.5 },
        { script: 'bitbucket.scm.GitCloneOverHttp', description: 'Http', weight: 0.2 },
      ],
      'e3-home/instances/my-workers.json': '{"ClusterNodes": "not a list"}',
    });
    const { p, aws } = await run(home, 'byo');
    const err = (await p.catch((e: unknown) => e)) as E3Error;
    expect(err.code).toBe('E3_INVALID_FILE');
    const w = join(home, 'workloads/mixed.json');
    expect(err.message).toContain(`${w}: /: job weights sum to 0.7, expected 1`);
    expect(err.message).toContain(`${w}: /0/script: job "Clone": script "bitbucket.scm.NoSuchScript" is not a library script nor a .ts/.js file (known: bitbucket.persona.DeveloperUsingPullRequests,`);
    expect(err.message).toContain(`${join(home, 'instances/my-workers.json')}: /ClusterNodes: must be array`);
    expect(err.hint).toContain(`${w} (named by ${join(home, 'experiments/byo.json')} /workload)`);
    await expect(readdir(join(home, 'runs'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(aws.stacks).toEqual([]);
  });

  it('runs the injected checks on every resolved thread, and fails the phase when one throws', async () => {
    const home = await awsHome();
    const seen: string[] = [];
    await provision({ experiment: 'byo', run: 'r1', home, env: {}, clock: fakeClock(), checks: [async (t) => void seen.push(`${t.index} ${t.instance.Name} ${t.worker.Name}`)] });
    expect(seen).toEqual(['0 my-bitbucket my-workers']);
    const failing = provision({ experiment: 'byo', run: 'r2', home, env: {}, clock: fakeClock(), checks: [async () => Promise.reject(new Error('unreachable'))] });
    await expect(failing).rejects.toThrow('unreachable');
    // Nothing was created (bring-your-own only): the failed provision leaves no run folder behind, on every try.
    await expect(stat(join(home, 'runs/r2'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('names `e3 deprovision -r <run>` in the hint of a failed check once something was created', async () => {
    const home = await awsHome();
    const unreachable = new E3Error('ENVIRONMENT', 'ubuntu@w: unreachable', { hint: 'Check the security group' });
    const { p } = await run(home, 'aws-dc', { checks: [async () => Promise.reject(unreachable)] });
    const err = (await p.catch((e: unknown) => e)) as E3Error;
    expect(err.code).toBe('E3_ENVIRONMENT');
    expect(err.hint).toBe('Check the security group; then run `e3 deprovision -r r1` to delete whatever was created');
    const status = await readPhaseStatus(join(home, 'runs/r1'), 'provision');
    expect(validateValue('phase', status, 'provision.json').errors).toEqual([]);
    expect(status).toMatchObject({ status: 'failed', version: E3_VERSION, error: { code: 'E3_ENVIRONMENT', message: 'ubuntu@w: unreachable', hint: err.hint } });
    expect(status?.pid).toBeUndefined();
  });
});

describe('checks that change instance files', () => {
  it('copies what a check wrote into an instance file (e.g. a pinned host key) into the run file', async () => {
    const home = await awsHome();
    const pin: Parameters<typeof provision>[0]['checks'] = [
      async (t) => {
        const file = join(home, 'instances', `${t.instance.Name}.json`);
        const inst = JSON.parse(await readFile(file, 'utf8'));
        await writeFile(file, JSON.stringify({ ...inst, HostKeys: { [inst.ClusterNodes[0]]: 'ssh-ed25519 AAAA' } }));
      },
    ];
    await provision({ experiment: 'byo', run: 'r1', home, env: {}, clock: fakeClock(), checks: pin });
    const rf = await readRunFile(join(home, 'runs/r1'));
    expect(rf.threads[0]!.instance.stack).toMatchObject({ Name: 'my-bitbucket', HostKeys: { 'ec2-user@bitbucket.example.com': 'ssh-ed25519 AAAA' } });
  });
});

describe('injected providers', () => {
  it('takes a provider for the template "local" from outside, called once per thread with both parts', async () => {
    const home = await awsHome({
      'e3-home/experiments/local.json': { duration: 1000, workload: 'mixed', threads: [{ name: 'l', instance: { template: 'local' }, worker: { template: 'local' }, stages: [{ clients: 1 }] }] },
    });
    const calls: string[] = [];
    const local: Provider = {
      name: 'local',
      async provision(req, ctx) {
        calls.push(req.parts.join('+'));
        await ctx.ledger.track('local', 'create', { type: 'target', name: 'target-1' }, async () => 'pid-1');
        return { instance: { Name: 'local-target', ClusterNodes: ['localhost'], URL: 'http://127.0.0.1:7990' }, worker: { Name: 'localhost', ClusterNodes: ['localhost'] } };
      },
      async deprovision(resources) {
        return resources.map((resource) => ({ provider: 'local', resource, ok: true }));
      },
    };
    const result = await provision({ experiment: 'local', run: 'r1', home, env: {}, clock: fakeClock(), providers: { local } });
    expect(calls).toEqual(['instance+worker']);
    expect(result.created).toEqual([{ provider: 'local', resource: { type: 'target', name: 'target-1' } }]);
    await expect(provision({ experiment: 'local', run: 'r2', home, env: {}, clock: fakeClock() })).rejects.toMatchObject({
      code: 'E3_INVALID_FILE',
      message: expect.stringContaining('/threads/0/instance.template: no provider for "local"'),
    });
  });
});
