import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from '@jest/globals';

import { fakeAws, type FakeAws } from '../test/support/fake-aws.js';
import { shippedTemplate } from '../test/support/home.js';

/** The fake AWS is the ground truth of every provision test: its CloudFormation must refuse what CloudFormation refuses. */

const WORKER = shippedTemplate('WorkerCluster');
/** Everything WorkerCluster needs, as e3 passes it. */
const good = { KeyName: 'k1', VPC: 'vpc-1', Subnets: 'subnet-1a,subnet-1b', CidrBlock: '198.51.100.7/32' };

function create(aws: FakeAws, parameters: Record<string, string>, body = WORKER, name = 'stack-worker-al-000001') {
  return aws.clients.cloudformation.send(
    new CreateStackCommand({
      StackName: name,
      TemplateBody: body,
      Parameters: Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
      Tags: [{ Key: 'e3:template', Value: 'WorkerCluster' }],
    }),
  );
}

/** Polls the stack until it leaves CREATE_IN_PROGRESS. */
async function settle(aws: FakeAws, name = 'stack-worker-al-000001') {
  for (let i = 0; i < 10; i++) {
    const s = (await aws.clients.cloudformation.send(new DescribeStacksCommand({ StackName: name }))).Stacks![0]!;
    if (s.StackStatus !== 'CREATE_IN_PROGRESS') return s;
  }
  throw new Error('stack never settled');
}

function withKey(): FakeAws {
  const aws = fakeAws();
  aws.keyPairs.set('k1', { name: 'k1', id: 'key-1', tags: [] });
  return aws;
}

describe("the fake AWS's CloudFormation parameter validation", () => {
  it('refuses a parameter the template does not declare, and creates nothing', async () => {
    const aws = withKey();
    await expect(create(aws, { ...good, Bogus: 'x', Other: 'y' })).rejects.toMatchObject({ name: 'ValidationError', message: 'Parameters: [Bogus, Other] do not exist in the template' });
    expect(aws.stacks).toEqual([]);
  });

  it('refuses a declared parameter with no Default that is not passed', async () => {
    const aws = withKey();
    await expect(create(aws, { InstanceType: 'c5.large' })).rejects.toMatchObject({ name: 'ValidationError', message: 'Parameters: [KeyName, VPC, Subnets, CidrBlock] must have values' });
    expect(aws.stacks).toEqual([]);
  });

  it('refuses values outside AllowedValues, AllowedPattern, MinValue and Number, worded as CloudFormation', async () => {
    const aws = withKey();
    const allowed = JSON.stringify({
      Parameters: { Size: { Type: 'String', AllowedValues: ['small', 'large'] }, Name: { Type: 'String', MinLength: 2, MaxLength: 3 }, Ids: { Type: 'List<Number>', MaxValue: 9 }, Env: { Type: 'String', AllowedValues: ['a'], ConstraintDescription: 'must be a' } },
      Resources: { R: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
    });
    const base = { Size: 'small', Name: 'ab', Ids: '1,2', Env: 'a' };
    await expect(create(aws, { ...base, Size: 'medium' }, allowed)).rejects.toMatchObject({ name: 'ValidationError', message: "Parameter 'Size' must be one of AllowedValues" });
    await expect(create(aws, { ...base, Name: 'a' }, allowed)).rejects.toMatchObject({ message: "Parameter 'Name' must contain at least 2 characters" });
    await expect(create(aws, { ...base, Name: 'abcd' }, allowed)).rejects.toMatchObject({ message: "Parameter 'Name' must contain at most 3 characters" });
    await expect(create(aws, { ...base, Ids: '1,x' }, allowed)).rejects.toMatchObject({ message: "Parameter 'Ids' must be a number" });
    await expect(create(aws, { ...base, Ids: '1,10' }, allowed)).rejects.toMatchObject({ message: "Parameter 'Ids' must be a number not greater than 9" });
    await expect(create(aws, { ...base, Env: 'b' }, allowed)).rejects.toMatchObject({ message: 'Parameter Env failed to satisfy constraint: must be a' });
    await expect(create(aws, { ...good, CidrBlock: '198.51.100.7' })).rejects.toMatchObject({ message: "Parameter 'CidrBlock' must match pattern ^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$" });
    await expect(create(aws, { ...good, ClusterSize: 'four' })).rejects.toMatchObject({ message: "Parameter 'ClusterSize' must be a number" });
    await expect(create(aws, { ...good, ClusterSize: '0' })).rejects.toMatchObject({ message: "Parameter 'ClusterSize' must be a number not less than 1" });
    expect(aws.stacks).toEqual([]);
  });

  it('fails the stack (rolled back) when a key pair does not exist or an id has the wrong shape', async () => {
    const aws = withKey();
    await create(aws, { ...good, KeyName: 'nope' });
    expect(await settle(aws)).toMatchObject({ StackStatus: 'ROLLBACK_COMPLETE', StackStatusReason: 'Parameter validation failed: parameter value nope for parameter name KeyName does not exist. Rollback requested by user.' });
    await create(aws, { ...good, Subnets: 'subnet-1a,my-subnet' }, WORKER, 'stack-worker-al-000002');
    expect((await settle(aws, 'stack-worker-al-000002')).StackStatusReason).toBe('Parameter validation failed: parameter value my-subnet for parameter name Subnets does not exist. Rollback requested by user.');
  });

  it("answers with the template's declared outputs, and a group of ClusterSize instances (the template default when not passed)", async () => {
    const aws = withKey();
    await create(aws, { ...good, ClusterSize: '3' });
    const s = await settle(aws);
    expect(s.StackStatus).toBe('CREATE_COMPLETE');
    expect(Object.fromEntries(s.Outputs!.map((o) => [o.OutputKey, o.OutputValue]))).toEqual({ AutoScalingGroupName: 'stack-worker-al-000001-asg', SshUser: 'ubuntu' });
    const g = (await aws.clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['stack-worker-al-000001-asg'] }))).AutoScalingGroups![0]!;
    expect([g.DesiredCapacity, g.Instances!.length]).toEqual([3, 3]);

    await create(aws, good, WORKER, 'stack-worker-al-000002');
    await settle(aws, 'stack-worker-al-000002');
    const d = (await aws.clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['stack-worker-al-000002-asg'] }))).AutoScalingGroups![0]!;
    expect(d.DesiredCapacity).toBe(4);
  });

  it('gives other output keys plausible values by key', async () => {
    const aws = withKey();
    const keys = ['URL', 'InternalURL', 'SshHost', 'PublicIp', 'PrivateIp', 'FileServer', 'VPC', 'Subnet2', 'Anything'];
    const body = JSON.stringify({ Resources: { R: { Type: 'AWS::CloudFormation::WaitConditionHandle' } }, Outputs: Object.fromEntries(keys.map((k) => [k, { Value: { Ref: 'R' } }])) });
    await create(aws, {}, body, 's1');
    const out = Object.fromEntries((await settle(aws, 's1')).Outputs!.map((o) => [o.OutputKey, o.OutputValue]));
    expect(Object.keys(out).sort()).toEqual([...keys].sort());
    expect(out).toMatchObject({ URL: expect.stringMatching(/^http:\/\//), InternalURL: expect.stringMatching(/^http:\/\//), Anything: 'Anything-value', VPC: expect.stringMatching(/^vpc-/), Subnet2: expect.stringMatching(/^subnet-\d+b$/) });
    expect(out.PublicIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(out.PrivateIp).toMatch(/^10\./);
  });
});
