import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { validatePaths } from '@e3/model';
import { e3OriginalHome, makeTree, repoRoot } from '@e3/test-utils';

import { fakeAws, fakeClock } from '../test/support/fake-aws.js';
import { provisionCommandWith } from './commands.js';
import { HOURLY_USD, formatPlan, planProvision } from './plan.js';

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
    expect(aws.calls.filter((c) => !/^Describe|^HeadObject/.test(c))).toEqual([]);
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
    expect(aws.calls.some((c) => /^(Create|Delete)/.test(c))).toBe(false);
  });

  it('shows the world-open warning when 0.0.0.0/0 is asked for', async () => {
    const aws = fakeAws({ faults: { noCredentials: true } });
    const plan = await planProvision({ experiment: 'mixed-test', home, env: { AWS_REGION: 'us-east-1' }, aws: { allowCidrs: ['0.0.0.0/0'] }, clients: aws.clients });
    expect(formatPlan(plan)).toMatch(/warning: ingress 0\.0\.0\.0\/0 was asked for/);
    expect(plan.stacks.find((s) => s.template === 'WorkerCluster')!.parameters).toMatchObject({ CidrBlock: '198.51.100.7/32', CidrBlock2: '0.0.0.0/0' });
  });
});
