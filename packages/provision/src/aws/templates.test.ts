import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { repoRoot } from '@e3/test-utils';

import { stackName } from './provider.js';
import { AWS_TEMPLATES, stackParameters } from './templates.js';

const shipped = async (name: string) =>
  JSON.parse(await readFile(join(repoRoot, 'e3-home/templates', `${name}.template`), 'utf8')) as {
    Parameters?: Record<string, { Default?: string }>;
    Outputs: Record<string, unknown>;
    Resources: Record<string, { Type: string }>;
  };

const network = { vpc: 'vpc-1', subnet1: 'subnet-a', subnet2: 'subnet-b' };
const hex = (bytes: number) => 'ab'.repeat(bytes);

describe('shipped templates', () => {
  it('WorkerCluster parses, declares every parameter e3 passes, and needs none that e3 does not pass', async () => {
    const t = await shipped('WorkerCluster');
    const ingress = ['198.51.100.7/32', '10.9.0.0/16', '192.0.2.0/24', '203.0.113.0/24'];
    const passed = stackParameters({ template: 'WorkerCluster', stackName: 'stack-worker-a-000001', network, public: true, ingress, randomHex: hex });
    expect(Object.keys(passed).sort()).toEqual(['CidrBlock', 'CidrBlock2', 'CidrBlock3', 'CidrBlock4', 'ClusterSize', 'InstanceType', 'KeyName', 'Subnets', 'VPC']);
    expect(passed).toMatchObject({ CidrBlock: '198.51.100.7/32', CidrBlock4: '203.0.113.0/24' });
    for (const p of Object.keys(passed)) expect(t.Parameters).toHaveProperty(p);
    const required = Object.entries(t.Parameters ?? {}).filter(([, v]) => v.Default === undefined).map(([k]) => k);
    for (const p of required) expect(passed).toHaveProperty(p);
    expect(Object.keys(t.Outputs)).toEqual(expect.arrayContaining(['AutoScalingGroupName', 'SshUser']));
    const userData = JSON.stringify(t.Resources.LaunchTemplate);
    for (const needle of ['nodejs.org/dist/v${NodeVersion}', 'git', 'collectd', '/media/data', 'cfn-signal']) expect(userData).toContain(needle);
    expect(t.Parameters?.NodeVersion?.Default).toMatch(/^20\./);
    // Every extra CIDR has its own conditional SSH ingress; the first is the security group's own rule.
    for (const i of [2, 3, 4]) expect(t.Resources[`SshIngress${i}`]).toMatchObject({ Type: 'AWS::EC2::SecurityGroupIngress', Condition: `HasCidrBlock${i}` });
  });

  it.each([
    ['BitbucketServer', {}, ['URL', 'PublicIp', 'PrivateIp', 'SshUser']],
    ['BitbucketDataCenter', {}, ['URL', 'InternalURL', 'SshHost', 'ClusterNodeGroup', 'FileServer', 'SshUser', 'SecurityGroup']],
    ['BitbucketDataCenter', { homeVolumeSnapshotId: 'snap-1', dbSnapshotArn: 'arn:aws:rds:eu-west-1:1:snapshot:s', searchSnapshot: { bucket: 'b', name: 'e3-small' } }, ['URL']],
  ] as const)('%s declares every parameter e3 passes %j, e3 passes every one without a default, and it has the outputs e3 reads', async (name, snap, outputs) => {
    const t = await shipped(name);
    const ingress = ['198.51.100.7/32', '10.9.0.0/16'];
    const passed = stackParameters({ template: name, stackName: 'stack-x', network, public: true, ingress, version: '9.4.5', properties: ['a=b'], randomHex: hex, ...snap });
    for (const p of Object.keys(passed)) expect(`${p}: ${p in (t.Parameters ?? {})}`).toBe(`${p}: true`);
    const required = Object.entries(t.Parameters ?? {}).filter(([, v]) => v.Default === undefined).map(([k]) => k);
    for (const p of required) expect(passed).toHaveProperty(p);
    expect(Object.keys(t.Outputs)).toEqual(expect.arrayContaining([...outputs]));
    expect(passed).toMatchObject({ CidrBlock: '198.51.100.7/32', CidrBlock2: '10.9.0.0/16', BitbucketVersion: '9.4.5', BitbucketProperties: 'a=b,jmx.enabled=true' });
    expect(passed).not.toHaveProperty('CreateBucket');
  });

  it("declares every parameter E³'s shipped experiments give their Bitbucket and worker parts", async () => {
    const dir = join(repoRoot, 'e3-home/experiments');
    let checked = 0;
    for (const f of (await readdir(dir)).filter((x) => x.endsWith('.json'))) {
      const e = JSON.parse(await readFile(join(dir, f), 'utf8')) as { threads: Array<Record<string, { template?: string; parameters?: Record<string, unknown> }>> };
      for (const part of e.threads.flatMap((t) => [t.instance!, t.worker!])) {
        if (!part.template || !AWS_TEMPLATES.includes(part.template as never)) continue;
        const declared = (await shipped(part.template)).Parameters ?? {};
        for (const k of Object.keys(part.parameters ?? {})) expect(`${f} ${part.template}.${k}: ${k in declared}`).toBe(`${f} ${part.template}.${k}: true`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('Data Center from a snapshot passes stash as the database user and password, and the search snapshot', () => {
    const p = stackParameters({ template: 'BitbucketDataCenter', stackName: 's', network, public: true, randomHex: hex, dbSnapshotArn: 'arn:x', searchSnapshot: { bucket: 'b', name: 'n' } });
    expect(p).toMatchObject({ DBUser: 'stash', DBPassword: 'stash', DBSnapshotId: 'arn:x', SearchSnapshotBucket: 'b', SearchSnapshotName: 'n' });
    const fresh = stackParameters({ template: 'BitbucketDataCenter', stackName: 's', network, public: true, randomHex: hex });
    for (const k of ['DBUser', 'DBSnapshotId', 'SearchSnapshotBucket', 'SearchSnapshotName']) expect(fresh).not.toHaveProperty(k);
  });

  it('the Bitbucket templates keep JMX off the network and run collectd with e3 config', async () => {
    for (const name of ['BitbucketServer', 'BitbucketDataCenter']) {
      const text = await readFile(join(repoRoot, 'e3-home/templates', `${name}.template`), 'utf8');
      expect(text).not.toMatch(/"(FromPort|ToPort)": 3333/);
      expect(text).toContain('base64 -d | gunzip > /etc/collectd/collectd.conf');
      expect(text).toContain('systemctl enable --now atlbitbucket');
      expect(text).toContain('/etc/ld.so.conf.d/e3-libjvm.conf');
    }
  });

  it('no shipped template lets the world in by default', async () => {
    for (const name of ['WorkerCluster', 'PublicNetwork', 'BitbucketServer', 'BitbucketDataCenter']) {
      const text = await readFile(join(repoRoot, 'e3-home/templates', `${name}.template`), 'utf8');
      const t = JSON.parse(text) as { Parameters?: Record<string, { Default?: string }>; Resources: Record<string, unknown> };
      for (const [k, p] of Object.entries(t.Parameters ?? {})) expect(`${k}=${p.Default ?? ''}`).not.toContain('0.0.0.0/0');
      // The only 0.0.0.0/0 allowed is the network's default route (egress), never an ingress CidrIp.
      const ingress = JSON.stringify(t.Resources, (key, value) => (key === 'DestinationCidrBlock' ? undefined : value));
      expect(ingress).not.toContain('0.0.0.0/0');
    }
  });

  it('PublicNetwork parses and outputs VPC, Subnet1 and Subnet2', async () => {
    const t = await shipped('PublicNetwork');
    expect(Object.keys(t.Outputs).sort()).toEqual(['Subnet1', 'Subnet2', 'VPC']);
    expect(t.Parameters ?? {}).toEqual({});
  });
});

describe('stack parameters', () => {
  it('lets the experiment parameters win over the defaults, and drops empty values', () => {
    const p = stackParameters({ template: 'BitbucketServer', stackName: 's', network, overrides: { InstanceType: 'm5.2xlarge', HomeIops: 5000 }, public: false, randomHex: hex });
    expect(p).toMatchObject({ InstanceType: 'm5.2xlarge', HomeIops: '5000', AssociatePublicIpAddress: 'false', Subnet: 'subnet-a', BitbucketProperties: 'jmx.enabled=true' });
    expect(p).not.toHaveProperty('HomeVolumeSnapshotId');
    expect(p).not.toHaveProperty('BitbucketVersion');
    expect(p.CatalinaOpts).toContain('jmxremote.host=127.0.0.1');
  });

  it('generates the database passwords instead of E³ fixed ones (stash kept for snapshot databases)', () => {
    const fresh = stackParameters({ template: 'BitbucketDataCenter', stackName: 's', network, public: true, randomHex: hex });
    expect(fresh.DBMasterUserPassword).toBe(`e3${'ab'.repeat(12)}`);
    expect(fresh.DBPassword).toBe(`e3${'ab'.repeat(12)}`);
    const fromSnapshot = stackParameters({ template: 'BitbucketDataCenter', stackName: 's', network, public: true, randomHex: hex, dbSnapshotArn: 'arn:x' });
    expect(fromSnapshot).toMatchObject({ DBPassword: 'stash', DBSnapshotId: 'arn:x' });
  });

  it('names stacks stack-<prefix>-<owner>-<6 hex> as E³, with the owner made safe', () => {
    expect(AWS_TEMPLATES.map((t) => stackName(t, 'alice', 'a1b2c3'))).toEqual([
      'stack-network-alice-a1b2c3',
      'stack-worker-alice-a1b2c3',
      'stack-bitbucket-server-alice-a1b2c3',
      'stack-bitbucket-data-center-alice-a1b2c3',
    ]);
    expect(stackName('WorkerCluster', 'j.doe@corp', 'a1b2c3')).toBe('stack-worker-j-doe-corp-a1b2c3');
  });
});
