import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { validatePaths } from '@e3/model';
import { e3OriginalHome, makeTree, repoRoot } from '@e3/test-utils';

import { fakeAws, fakeClock, type FakeAws } from '../test/support/fake-aws.js';
import type { AwsClients } from './aws/clients.js';
import { provisionCommandWith } from './commands.js';
import { HOURLY_USD, VCPUS, formatPlan, oldReleaseWarnings, planProvision, type PlannedStack } from './plan.js';

const SHIPPED = ['adaptive-scaling', 'cluster-scaling-ssh', 'mixed-test', 'pull-request'];
const original = (name: string) => join(e3OriginalHome, 'experiments', `${name}.json`);
const home = join(repoRoot, 'e3-home');

describe("E³'s shipped experiments", () => {
  it('are in e3-home unchanged and validate', async () => {
    for (const name of SHIPPED) {
      const ours = await readFile(join(home, 'experiments', `${name}.json`), 'utf8');
      const theirs = await readFile(original(name), 'utf8').catch(() => undefined);
      if (theirs !== undefined) expect(`${name}: ${ours === theirs}`).toBe(`${name}: true`);
    }
    const results = await validatePaths(SHIPPED.map((n) => join(home, 'experiments', `${n}.json`)), { home });
    for (const r of results) expect(r.errors).toEqual([]);
  });

  it('every one plans without credentials and without creating anything', async () => {
    const aws = fakeAws({ faults: { noCredentials: true } });
    for (const name of SHIPPED) {
      const plan = await planProvision({ experiment: name, home, env: { AWS_REGION: 'us-east-1' }, owner: 'al', clients: aws.clients });
      const e = JSON.parse(await readFile(join(home, 'experiments', `${name}.json`), 'utf8')) as { threads: unknown[] };
      expect(plan.stacks.filter((s) => s.part !== 'network')).toHaveLength(e.threads.length * 2);
      for (const s of plan.stacks.filter((x) => x.snapshot)) expect(s.snapshot!.check).toBe('not checked: no AWS credentials');
    }
    expect(aws.calls.filter((c) => !/^(Get|Describe|List|HeadObject)/.test(c))).toEqual([]);
    expect(aws.stacks).toEqual([]);
  });
});

describe('e3 provision --plan', () => {
  it('prints the four Data Center stacks of cluster-scaling-ssh and their workers, with parameters, CIDRs, snapshot and cost; no run folder', async () => {
    const scratch = await makeTree({});
    const aws = fakeAws({ faults: { noCredentials: true } });
    const env = { AWS_REGION: 'eu-west-1', E3_HOME: home };
    const cmd = provisionCommandWith({ clients: aws.clients, clock: fakeClock() });
    const ctx = { json: false, log: () => undefined, event: () => undefined, signal: new AbortController().signal, tty: false, cwd: scratch, env, progress: () => undefined };
    const before = await readdir(home);
    const out = await cmd.run!({ experiment: 'cluster-scaling-ssh', plan: true, home, owner: 'al', json: false, ttl: '24h', internal: false } as never, ctx);
    expect(await readdir(home)).toEqual(before);
    const plan = out.data as Awaited<ReturnType<typeof planProvision>>;
    const dc = plan.stacks.filter((s) => s.template === 'BitbucketDataCenter');
    expect(dc.map((s) => s.thread)).toEqual(['1-node', '3-node', '6-node', '10-node']);
    expect(dc.map((s) => s.parameters.ClusterNodeMin)).toEqual(['1', '3', '6', '10']);
    expect(plan.stacks.filter((s) => s.template === 'WorkerCluster')).toHaveLength(4);
    expect(plan.stacks.filter((s) => s.template === 'PublicNetwork')).toHaveLength(1);
    for (const s of dc) {
      expect(s.parameters).toMatchObject({ BitbucketVersion: '4.11.0', CidrBlock: '198.51.100.7/32', HomeVolumeSnapshotId: 'snap-cd3373ab', DBSnapshotId: 'arn:aws:rds:eu-west-1:098706035825:snapshot:e3-small', DBPassword: 'stash' });
      expect(s.parameters.DBMasterUserPassword).toMatch(/^<generated at provision/);
      expect(s.cidrs).toEqual(['198.51.100.7/32']);
      expect(s.snapshot).toMatchObject({ name: 'e3-small', ebs: 'snap-cd3373ab' });
    }
    // Cost by hand: each DC stack = N × c5.xlarge + db.m5.large + m5.xlarge + 2 ALBs + 1 NLB; its workers W × c5.2xlarge (E³'s file: W = 4, 4, 12, 4).
    const byHand = [[1, 4], [3, 4], [6, 12], [10, 4]].reduce((a, [n, w]) => a + n! * 0.17 + 0.171 + 0.192 + 3 * 0.0225 + w! * 0.34, 0);
    expect(plan.usdPerHour).toBeCloseTo(byHand, 6);
    expect(HOURLY_USD['c5.xlarge']).toBe(0.17);
    const text = out.text!;
    expect(text).toContain('(nothing is created)');
    expect(text).toContain(`estimated cost: $${byHand.toFixed(2)} per hour`);
    expect(text).toContain('allows: 198.51.100.7/32');
    expect(text).toContain('resources: ');
    // E³'s file names Bitbucket 4.11.0: one warning naming every thread that runs it.
    expect(plan.warnings.filter((w) => w.startsWith('Bitbucket '))).toEqual([expect.stringMatching(/^Bitbucket 4\.11\.0 \(threads 1-node, 3-node, 6-node, 10-node\): e3's templates are built for Bitbucket 8\.0 and later/)]);
    expect(aws.calls.some((c) => /^(Create|Delete)/.test(c))).toBe(false);
    // --json carries the quota checks; without credentials none is made.
    expect(plan.quotas.map((q) => q.outcome)).toEqual([...Array(4).fill('not checked: no AWS credentials'), 'not checked: e3 does not read the Elastic Load Balancing quota; the plan makes 12']);
    expect(text).toContain('quotas in eu-west-1 (read-only checks):\n  EC2 Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances, vCPUs: not checked: no AWS credentials');
  });

  it('shows the world-open warning when 0.0.0.0/0 is asked for', async () => {
    const aws = fakeAws({ faults: { noCredentials: true } });
    const plan = await planProvision({ experiment: 'mixed-test', home, env: { AWS_REGION: 'us-east-1' }, aws: { allowCidrs: ['0.0.0.0/0'] }, clients: aws.clients });
    expect(formatPlan(plan)).toMatch(/warning: ingress 0\.0\.0\.0\/0 was asked for/);
    expect(plan.stacks.find((s) => s.template === 'WorkerCluster')!.parameters).toMatchObject({ CidrBlock: '198.51.100.7/32', CidrBlock2: '0.0.0.0/0' });
  });
});

describe('quota checks in the plan', () => {
  /** An account in us-east-1 with e3-small's snapshots, some instances, VPCs, databases and stacks of its own. */
  function account(): FakeAws {
    const aws = fakeAws();
    aws.snapshots.add('snap-6ff61170');
    aws.dbSnapshots.add('arn:aws:rds:us-east-1:098706035825:snapshot:e3-small');
    aws.account.instances = [
      { InstanceType: 'c5.xlarge', State: 'running', CoreCount: 2, ThreadsPerCore: 2 }, // 4 vCPUs
      { InstanceType: 'm5.large', State: 'running' }, // no CpuOptions: 2 from the table
      { InstanceType: 'p3.2xlarge', State: 'running', CoreCount: 4, ThreadsPerCore: 2 }, // a GPU type: another quota
      { InstanceType: 't3.large', State: 'stopped', CoreCount: 1, ThreadsPerCore: 2 }, // stopped: not counted
      { InstanceType: 'r5.xlarge', State: 'pending', CoreCount: 2, ThreadsPerCore: 2 }, // 4 vCPUs
    ];
    aws.account.vpcs = 3;
    aws.account.dbInstances = 2;
    aws.account.stacks = 5;
    aws.account.quotas = { 'ec2/L-1216C47A': 1000, 'vpc/L-F678F1CE': 5, 'rds/L-7B6409FD': 40 };
    return aws;
  }
  const plan = (aws: FakeAws, clients: Partial<AwsClients> = aws.clients, quotaTimeoutMs?: number) =>
    planProvision({ experiment: 'cluster-scaling-ssh', home, env: { AWS_REGION: 'us-east-1' }, owner: 'al', clients, quotaTimeoutMs });
  const outcomes = (p: Awaited<ReturnType<typeof planProvision>>) => Object.fromEntries(p.quotas.map((q) => [q.quota.split(' ')[0] === 'EC2' ? 'ec2' : q.quota, q.outcome]));

  // cluster-scaling-ssh by hand (E³'s file): workers ClusterSize 4 + 4 + 12 + 4 = 24 × c5.2xlarge (8 vCPUs) = 192;
  // Data Center nodes ClusterNodeMin 1 + 3 + 6 + 10 = 20 × c5.xlarge (4) = 80; one file server per cluster, 4 × m5.xlarge (4) = 16.
  // RDS classes and load balancers are not EC2 instances. 192 + 80 + 16 = 288 vCPUs.
  // In use: c5.xlarge 2 cores × 2 threads = 4, m5.large 2 (table), r5.xlarge pending 4; the GPU type and the stopped one do not count: 10.
  // Stacks: 1 network + 4 Data Center + 4 worker = 9; VPCs: 1 (the network); RDS instances: 4 (one per Data Center).
  it('compares what cluster-scaling-ssh needs with the quotas and current use', async () => {
    expect([VCPUS['c5.2xlarge'], VCPUS['c5.xlarge'], VCPUS['m5.xlarge'], VCPUS['m5.large']]).toEqual([8, 4, 4, 2]);
    const p = await plan(account());
    expect(outcomes(p)).toEqual({
      ec2: 'ok (need 288 of 1000, 10 in use)',
      'VPCs per region': 'ok (need 1 of 5, 3 in use)',
      'RDS DB instances': 'ok (need 4 of 40, 2 in use)',
      'CloudFormation stacks': 'ok (need 9 of 2000, 5 in use)',
      // 4 Data Center stacks × (an internet-facing ALB, an internal ALB, an internal NLB).
      'Load balancers (application and network)': 'not checked: e3 does not read the Elastic Load Balancing quota; the plan makes 12',
    });
    expect(p.stacks.filter((s) => s.snapshot).every((s) => s.snapshot!.check === 'exists (checked read-only)')).toBe(true);
    expect(p.warnings.filter((w) => w.startsWith('quota'))).toEqual([]);
  });

  it('reports a PROBLEM, with where to ask for more, in the quota block and the warnings', async () => {
    const aws = account();
    aws.account.quotas['ec2/L-1216C47A'] = 256;
    aws.account.vpcs = 5;
    const p = await plan(aws);
    const ec2 = 'PROBLEM: need 288, 256 allowed, 10 in use → ask AWS for more at https://us-east-1.console.aws.amazon.com/servicequotas/home/services/ec2/quotas/L-1216C47A';
    const vpc = 'PROBLEM: need 1, 5 allowed, 5 in use → ask AWS for more at https://us-east-1.console.aws.amazon.com/servicequotas/home/services/vpc/quotas/L-F678F1CE';
    expect(outcomes(p)).toMatchObject({ ec2, 'VPCs per region': vpc, 'RDS DB instances': 'ok (need 4 of 40, 2 in use)' });
    expect(p.quotas.find((q) => q.code === 'L-1216C47A')).toMatchObject({ need: 288, limit: 256, inUse: 10, problem: true });
    expect(p.warnings).toEqual(expect.arrayContaining([`quota EC2 Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances, vCPUs: ${ec2}`, `quota VPCs per region: ${vpc}`]));
    const lines = formatPlan(p).split('\n');
    const block = lines.indexOf('quotas in us-east-1 (read-only checks):');
    expect(lines[block + 1]).toBe(`  EC2 Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances, vCPUs: ${ec2}`);
    expect(block).toBeGreaterThan(0);
    expect(block).toBeLessThan(lines.findIndex((l) => l.startsWith('warning: quota EC2')));
  });

  it("falls back to AWS's default quota when the account never changed it", async () => {
    const aws = account();
    aws.account.quotas = {};
    aws.account.defaultQuotas = { 'ec2/L-1216C47A': 320, 'vpc/L-F678F1CE': 5, 'rds/L-7B6409FD': 40 };
    const p = await plan(aws);
    expect(outcomes(p)).toMatchObject({ ec2: 'ok (need 288 of 320, 10 in use)', 'VPCs per region': 'ok (need 1 of 5, 3 in use)' });
    expect(aws.calls.filter((c) => c === 'GetAWSDefaultServiceQuota')).toHaveLength(3);
  });

  it('says which permission is missing when a call is denied, and still plans', async () => {
    const aws = account();
    aws.faults.deny = ['GetServiceQuota', 'DescribeInstances', 'ListStacks'];
    const p = await plan(aws);
    const o = outcomes(p);
    expect(o.ec2).toMatch(/^not checked: (AccessDeniedException: .*servicequotas:GetServiceQuota.* \(needs servicequotas:GetServiceQuota\)|UnauthorizedOperation: .* \(needs ec2:DescribeInstances\))$/);
    expect(o['VPCs per region']).toMatch(/^not checked: AccessDeniedException: .* \(needs servicequotas:GetServiceQuota\)$/);
    expect(o['CloudFormation stacks']).toMatch(/^not checked: AccessDenied: .* \(needs cloudformation:ListStacks\)$/);
    expect(p.quotas.some((q) => q.problem)).toBe(false);
  });

  it('reports every check as not checked without credentials, or when AWS does not answer in time', async () => {
    const none = await plan(fakeAws({ faults: { noCredentials: true } }));
    expect(none.quotas.slice(0, 4).map((q) => q.outcome)).toEqual(Array(4).fill('not checked: no AWS credentials'));
    const aws = account();
    const silent = { send: () => new Promise(() => undefined) } as unknown as AwsClients['serviceQuotas'];
    const p = await plan(aws, { ...aws.clients, serviceQuotas: silent }, 50);
    expect(outcomes(p)).toMatchObject({ ec2: 'not checked: no answer from AWS within 0.05 s', 'CloudFormation stacks': 'ok (need 9 of 2000, 5 in use)' });
  });

  it('sends only Get, Describe and List commands', async () => {
    const aws = account();
    aws.account.quotas = { 'ec2/L-1216C47A': 1000 }; // the VPC and RDS quotas take the default path too
    await plan(aws);
    const sent = aws.commandsSent();
    expect(sent.filter((c) => !/^(Get|Describe|List)[A-Za-z]*Command$/.test(c))).toEqual([]);
    expect(new Set(sent)).toEqual(
      new Set([
        'DescribeSnapshotsCommand',
        'DescribeDBSnapshotsCommand',
        'GetServiceQuotaCommand',
        'GetAWSDefaultServiceQuotaCommand',
        'DescribeInstancesCommand',
        'DescribeVpcsCommand',
        'DescribeDBInstancesCommand',
        'DescribeAccountLimitsCommand',
        'ListStacksCommand',
      ]),
    );
    expect(aws.stacks).toEqual([]);
    expect(aws.keyPairs.size).toBe(0);
  });
});

describe('oldReleaseWarnings', () => {
  const stack = (thread: string, BitbucketVersion?: string) => ({ thread, parameters: BitbucketVersion ? { BitbucketVersion } : {} }) as unknown as PlannedStack;
  it('warns once per release before 8.0, never for 8.0 and later or stacks without a version', () => {
    expect(oldReleaseWarnings([stack('a', '7.21.0'), stack('b', '8.0.0'), stack('c', '9.4.5'), stack('d'), stack('e', '7.21.0')])).toEqual([expect.stringMatching(/^Bitbucket 7\.21\.0 \(threads a, e\)/)]);
  });
});

describe('bad local files in a plan', () => {
  it('names the file of a template that is not JSON, and of a snapshot descriptor that is not one, as E3_INVALID_FILE', async () => {
    const aws = fakeAws({ faults: { noCredentials: true } });
    const experiment = { duration: 1000, workload: 'mixed', threads: [{ name: 't', instance: { template: 'BitbucketServer', snapshot: 's' }, worker: { template: 'WorkerCluster' }, stages: [{ clients: 1 }] }] };
    const badTemplate = await makeTree({ 'e3-home/experiments/x.json': experiment, 'e3-home/snapshots/s.json': { name: 's', projects: [], users: [] }, 'e3-home/templates/BitbucketServer.template': 'Resources:\n  Instance: {}\n' });
    await expect(planProvision({ experiment: 'x', home: join(badTemplate, 'e3-home'), env: { AWS_REGION: 'us-east-1' }, clients: aws.clients })).rejects.toMatchObject({
      code: 'E3_INVALID_FILE', message: expect.stringContaining('templates/BitbucketServer.template: not a JSON CloudFormation template'), hint: expect.stringContaining('YAML'),
    });
    const badSnapshot = await makeTree({ 'e3-home/experiments/x.json': experiment, 'e3-home/snapshots/s.json': '{"name": "s", "projects": [' });
    await expect(planProvision({ experiment: 'x', home: join(badSnapshot, 'e3-home'), env: { AWS_REGION: 'us-east-1' }, clients: aws.clients })).rejects.toMatchObject({
      code: 'E3_INVALID_FILE', message: expect.stringContaining('snapshots/s.json'),
    });
  });
});
