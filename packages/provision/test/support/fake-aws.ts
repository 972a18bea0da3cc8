import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeAccountLimitsCommand,
  DescribeStacksCommand,
  ListStacksCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { CreateKeyPairCommand, DeleteKeyPairCommand, DescribeInstancesCommand, DescribeKeyPairsCommand, DescribeSnapshotsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';

import type { AwsClients } from '../../src/aws/clients.js';
import { checkParameters, fakeOutputs, parseTemplate } from './fake-cfn.js';

/** Thrown by the fake after a call took effect: the process "died" right after the call. */
export function crash(): Error {
  return Object.assign(new Error('simulated crash: the process was killed'), { name: 'Crash' });
}
/** True when `err`, or an error it wraps, is the simulated crash (code that wraps errors may carry it as `cause` or in its message). */
export function isCrash(err: unknown): boolean {
  for (let e = err as Error | undefined; e; e = e.cause as Error | undefined) {
    if (e.name === 'Crash' || /simulated crash/.test(e.message ?? '')) return true;
  }
  return false;
}

interface FakeStack {
  name: string;
  id: string;
  status: string;
  reason?: string;
  template: string;
  params: Record<string, string>;
  tags: Array<{ Key?: string; Value?: string }>;
  outputs: Record<string, string>;
  polls: number;
  token?: string;
  hasBody: boolean;
  /** Why CloudFormation fails the stack after accepting the call (an AWS-specific value that does not exist). */
  failure?: string;
}

/** An instance running in the account outside the fake's stacks (what the plan's vCPU check counts). */
export interface FakeInstance {
  InstanceType: string;
  State: 'pending' | 'running' | 'stopped' | 'terminated';
  CoreCount?: number;
  ThreadsPerCore?: number;
}

/** What the account holds besides the fake's own stacks and key pairs. */
export interface FakeAccount {
  instances: FakeInstance[];
  vpcs: number;
  dbInstances: number;
  stacks: number;
  /** Applied quota values, by `<service>/<quota code>`; one missing here answers NoSuchResourceException. */
  quotas: Record<string, number>;
  /** AWS's default quota values, by `<service>/<quota code>`. */
  defaultQuotas: Record<string, number>;
  stackLimit: number;
}

interface FakeKeyPair {
  name: string;
  id: string;
  tags: Array<{ Key?: string; Value?: string }>;
}

export interface Faults {
  /** Index (0-based) of the call that fails without effect. */
  failAt?: number;
  /** Index of the call that takes effect and then "kills the process". */
  crashAt?: number;
  /** Called when the crash happens (before the Crash is thrown). */
  onCrash?: () => void;
  /** Templates whose stacks end in CREATE_FAILED. */
  failTemplates?: string[];
  /** Templates whose stacks end in DELETE_FAILED once. */
  failDeleteOnce?: string[];
  /** Every call fails as the SDK does when no credentials are found. */
  noCredentials?: boolean;
  /** Templates whose stacks always end in DELETE_FAILED. */
  failDelete?: string[];
  /** Calls (by name, e.g. `GetServiceQuota`) refused as the caller's policy would: AccessDeniedException, UnauthorizedOperation or AccessDenied. */
  deny?: string[];
}

export interface FakeAws {
  clients: AwsClients;
  stacks: FakeStack[];
  keyPairs: Map<string, FakeKeyPair>;
  /** Every call, in order: `CreateStack`, `DescribeStacks`, … */
  calls: string[];
  faults: Faults;
  dead: boolean;
  /** EBS snapshot ids, RDS snapshot ARNs, `bucket/key` S3 objects that exist. */
  snapshots: Set<string>;
  dbSnapshots: Set<string>;
  objects: Set<string>;
  /** What the controller's address lookup answers (an Error: it fails). */
  publicIp: string | Error;
  /** Describe polls before a stack reaches its end state. */
  pollsToComplete: number;
  /** The account beyond the fake's stacks: running instances, VPCs, DB instances, stacks and quotas. */
  account: FakeAccount;
  /** Auto scaling groups of the stacks made from a template body: name → desired capacity. */
  groups: Map<string, number>;
  /** Resources that exist: stacks not DELETE_COMPLETE and key pairs. */
  live(): string[];
  /** The name of every command sent to any client (e.g. `GetServiceQuotaCommand`), unmocked ones included. */
  commandsSent(): string[];
  /** A client set for a fresh invocation: same model, new client objects. */
  freshClients(): AwsClients;
}

const awsError = (name: string, message: string, status = 400): Error =>
  Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });

/** A call the caller's IAM policy does not allow, as each service words it. */
function denied(name: string): Error {
  if (/^(CreateKeyPair|DeleteKeyPair|Describe(KeyPairs|Snapshots|Instances|Vpcs))$/.test(name)) return awsError('UnauthorizedOperation', `You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/e3 is not authorized to perform: ec2:${name}`, 403);
  if (/ServiceQuota/.test(name)) return awsError('AccessDeniedException', `User: arn:aws:iam::123456789012:user/e3 is not authorized to perform: servicequotas:${name} because no identity-based policy allows the servicequotas:${name} action`, 400);
  return awsError('AccessDenied', `User: arn:aws:iam::123456789012:user/e3 is not authorized to perform: ${name} because no identity-based policy allows the action`, 403);
}

const templateOf = (tags: FakeStack['tags']): string => tags.find((t) => t.Key === 'e3:template')?.Value ?? 'Unknown';

let counter = 0;

/** An in-memory model of the AWS calls e3 makes, wired into every SDK client class with aws-sdk-client-mock. */
export function fakeAws(init: Partial<Pick<FakeAws, 'pollsToComplete'>> & { faults?: Faults } = {}): FakeAws {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const stubs: Array<AwsStub<any, any, any>> = [];
  const model: FakeAws = {
    clients: undefined as unknown as AwsClients,
    stacks: [],
    keyPairs: new Map(),
    calls: [],
    faults: init.faults ?? {},
    dead: false,
    snapshots: new Set(),
    dbSnapshots: new Set(),
    objects: new Set(),
    pollsToComplete: init.pollsToComplete ?? 2,
    publicIp: '198.51.100.7',
    account: {
      instances: [],
      vpcs: 0,
      dbInstances: 0,
      stacks: 0,
      quotas: {},
      defaultQuotas: { 'ec2/L-1216C47A': 5, 'vpc/L-F678F1CE': 5, 'rds/L-7B6409FD': 40 },
      stackLimit: 2000,
    },
    groups: new Map(),
    commandsSent: () => stubs.flatMap((m) => m.calls().map((c) => (c.args[0] as object).constructor.name)),
    live: () => [
      ...model.stacks.filter((s) => s.status !== 'DELETE_COMPLETE').map((s) => `stack ${s.name} ${s.status}`),
      ...[...model.keyPairs.keys()].map((k) => `key-pair ${k}`),
    ],
    freshClients: () => makeClients(),
  };

  const byName = (name: string): FakeStack | undefined =>
    name.startsWith('arn:') ? model.stacks.find((s) => s.id === name) : model.stacks.find((s) => s.name === name && s.status !== 'DELETE_COMPLETE');

  const advance = (s: FakeStack) => {
    if (!s.status.endsWith('_IN_PROGRESS')) return;
    s.polls++;
    if (s.polls < model.pollsToComplete) return;
    if (s.status === 'CREATE_IN_PROGRESS') {
      if (s.failure) {
        s.status = 'ROLLBACK_COMPLETE';
        s.reason = s.failure;
      } else if (model.faults.failTemplates?.includes(s.template)) {
        s.status = 'CREATE_FAILED';
        s.reason = 'The following resource(s) failed to create: [ClusterNodeGroup].';
      } else s.status = 'CREATE_COMPLETE';
    } else if (s.status === 'DELETE_IN_PROGRESS') {
      const inUse = s.template === 'PublicNetwork' && model.stacks.some((o) => o !== s && o.status !== 'DELETE_COMPLETE' && o.params.VPC === s.outputs.VPC);
      const failOnce = model.faults.failDeleteOnce?.includes(s.template) || model.faults.failDelete?.includes(s.template);
      if (inUse || failOnce) {
        s.status = 'DELETE_FAILED';
        s.reason = inUse ? 'The vpc has dependencies and cannot be deleted.' : 'resource busy';
        if (model.faults.failDeleteOnce?.includes(s.template)) model.faults.failDeleteOnce = model.faults.failDeleteOnce!.filter((t) => t !== s.template);
      } else s.status = 'DELETE_COMPLETE';
    }
  };

  const describe = (s: FakeStack): Stack => ({
    StackName: s.name,
    StackId: s.id,
    StackStatus: s.status as Stack['StackStatus'],
    StackStatusReason: s.reason,
    CreationTime: new Date(0),
    Tags: s.tags as Stack['Tags'],
    Outputs: s.status === 'CREATE_COMPLETE' ? Object.entries(s.outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) : [],
  });

  /** CreateStack with a TemplateBody: CloudFormation's parameter validation, then outputs the template declares. */
  const createFromBody = (name: string, body: string, params: Record<string, string>, tags: FakeStack['tags'], template: string, token?: string) => {
    const parsed = parseTemplate(body);
    if ('formatError' in parsed) throw awsError('ValidationError', parsed.formatError);
    const checked = checkParameters(parsed, params, new Set(model.keyPairs.keys()));
    if (checked.validationError) throw awsError('ValidationError', checked.validationError);
    const id = `arn:aws:cloudformation:us-east-1:123456789012:stack/${name}/${(++counter).toString(16).padStart(8, '0')}`;
    const { outputs, groups } = fakeOutputs(parsed, name, counter, checked.values);
    for (const g of groups) model.groups.set(g.name, g.desired);
    model.stacks.push({ name, id, status: 'CREATE_IN_PROGRESS', template, params, tags, outputs, polls: 0, token, hasBody: true, ...(checked.stackFailure ? { failure: checked.stackFailure } : {}) });
    return { StackId: id };
  };

  /** Two items a page, so every caller's pagination is exercised. */
  function page<T, K extends string>(all: T[], token: string | undefined, key: K): { [k in K]: T[] } & { NextToken?: string } {
    const at = token ? Number(token) : 0;
    return { [key]: all.slice(at, at + 2), NextToken: at + 2 < all.length ? String(at + 2) : undefined } as { [k in K]: T[] } & { NextToken?: string };
  }

  const handlers: Record<string, (input: never) => unknown> = {
    CreateStack(input: { StackName: string; Parameters?: Array<{ ParameterKey: string; ParameterValue: string }>; Tags?: FakeStack['tags']; ClientRequestToken?: string; TemplateBody?: string; TemplateURL?: string }) {
      const existing = byName(input.StackName);
      if (existing) {
        if (existing.token && existing.token === input.ClientRequestToken) return { StackId: existing.id };
        throw awsError('AlreadyExistsException', `Stack [${input.StackName}] already exists`);
      }
      if (!input.TemplateBody && !input.TemplateURL) throw awsError('ValidationError', 'Either Template URL or Template Body must be specified.');
      const params = Object.fromEntries((input.Parameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue]));
      const tags = input.Tags ?? [];
      const template = templateOf(tags);
      if (input.TemplateBody) return createFromBody(input.StackName, input.TemplateBody, params, tags, template, input.ClientRequestToken);
      const id = `arn:aws:cloudformation:us-east-1:123456789012:stack/${input.StackName}/${(++counter).toString(16).padStart(8, '0')}`;
      const outputs: Record<string, string> = {
        PublicNetwork: { VPC: `vpc-${counter}`, Subnet1: `subnet-${counter}a`, Subnet2: `subnet-${counter}b` },
        WorkerCluster: { AutoScalingGroupName: `${input.StackName}-asg`, SshUser: 'ubuntu' },
        BitbucketServer: { URL: `http://bb-${counter}.example.com:7990`, PublicIp: `203.0.113.${counter % 250}`, PrivateIp: `10.0.0.${counter % 250}` },
        BitbucketDataCenter: { URL: `http://lb-${counter}.example.com`, ClusterNodeGroup: `${input.StackName}-nodes`, FileServer: `fs-${counter}.example.com` },
      }[template] ?? {};
      model.stacks.push({ name: input.StackName, id, status: 'CREATE_IN_PROGRESS', template, params, tags, outputs, polls: 0, token: input.ClientRequestToken, hasBody: false });
      return { StackId: id };
    },
    ListStacks(input: { NextToken?: string; StackStatusFilter?: string[] }) {
      const own = model.stacks.filter((s) => !input.StackStatusFilter || input.StackStatusFilter.includes(s.status)).map((s) => ({ StackName: s.name, StackId: s.id, StackStatus: s.status }));
      const others = Array.from({ length: model.account.stacks }, (_, i) => ({ StackName: `other-${i}`, StackId: `other-${i}`, StackStatus: 'CREATE_COMPLETE' }));
      return page([...own, ...others], input.NextToken, 'StackSummaries');
    },
    DescribeAccountLimits() {
      return { AccountLimits: [{ Name: 'StackOutputsLimit', Value: 200 }, { Name: 'StackLimit', Value: model.account.stackLimit }] };
    },
    DescribeVpcs(input: { NextToken?: string }) {
      const own = model.stacks.filter((s) => s.status !== 'DELETE_COMPLETE' && s.outputs.VPC).map((s) => ({ VpcId: s.outputs.VPC }));
      return page([...own, ...Array.from({ length: model.account.vpcs }, (_, i) => ({ VpcId: `vpc-other${i}` }))], input.NextToken, 'Vpcs');
    },
    DescribeDBInstances(input: { Marker?: string }) {
      const own = model.stacks.filter((s) => s.status !== 'DELETE_COMPLETE' && s.template === 'BitbucketDataCenter').map((s) => ({ DBInstanceIdentifier: `${s.name}-db` }));
      const all = [...own, ...Array.from({ length: model.account.dbInstances }, (_, i) => ({ DBInstanceIdentifier: `other-db-${i}` }))];
      const { DBInstances, NextToken } = page(all, input.Marker, 'DBInstances');
      return { DBInstances, Marker: NextToken };
    },
    GetServiceQuota(input: { ServiceCode: string; QuotaCode: string }) {
      const value = model.account.quotas[`${input.ServiceCode}/${input.QuotaCode}`];
      if (value === undefined) throw awsError('NoSuchResourceException', `The request failed because the specified service quota ${input.QuotaCode} does not exist.`);
      return { Quota: { ServiceCode: input.ServiceCode, QuotaCode: input.QuotaCode, Value: value } };
    },
    GetAWSDefaultServiceQuota(input: { ServiceCode: string; QuotaCode: string }) {
      const value = model.account.defaultQuotas[`${input.ServiceCode}/${input.QuotaCode}`];
      if (value === undefined) throw awsError('NoSuchResourceException', `The request failed because the specified service quota ${input.QuotaCode} does not exist.`);
      return { Quota: { ServiceCode: input.ServiceCode, QuotaCode: input.QuotaCode, Value: value } };
    },
    DescribeStacks(input: { StackName?: string; NextToken?: string }) {
      if (!input.StackName) {
        const all = model.stacks.map((s) => (advance(s), describe(s)));
        const page = input.NextToken ? Number(input.NextToken) : 0;
        return { Stacks: all.slice(page, page + 2), NextToken: page + 2 < all.length ? String(page + 2) : undefined };
      }
      const s = byName(input.StackName);
      if (!s) throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
      advance(s);
      return { Stacks: [describe(s)] };
    },
    DeleteStack(input: { StackName: string }) {
      const s = byName(input.StackName);
      if (!s || s.status === 'DELETE_COMPLETE' || s.status === 'DELETE_IN_PROGRESS') return {};
      s.status = 'DELETE_IN_PROGRESS';
      s.reason = undefined;
      s.polls = 0;
      return {};
    },
    CreateKeyPair(input: { KeyName: string; TagSpecifications?: Array<{ Tags?: FakeKeyPair['tags'] }> }) {
      if (model.keyPairs.has(input.KeyName)) throw awsError('InvalidKeyPair.Duplicate', `The keypair '${input.KeyName}' already exists.`);
      const id = `key-${(++counter).toString(16)}`;
      model.keyPairs.set(input.KeyName, { name: input.KeyName, id, tags: input.TagSpecifications?.[0]?.Tags ?? [] });
      return { KeyName: input.KeyName, KeyPairId: id, KeyMaterial: `-----BEGIN RSA PRIVATE KEY-----\nSECRET-${input.KeyName}\n-----END RSA PRIVATE KEY-----` };
    },
    DeleteKeyPair(input: { KeyName: string }) {
      model.keyPairs.delete(input.KeyName);
      return {};
    },
    DescribeKeyPairs(input: { Filters?: Array<{ Name: string; Values: string[] }> }) {
      const tagKey = input.Filters?.find((f) => f.Name === 'tag-key')?.Values[0];
      const list = [...model.keyPairs.values()].filter((k) => !tagKey || k.tags.some((t) => t.Key === tagKey));
      return { KeyPairs: list.map((k) => ({ KeyName: k.name, KeyPairId: k.id, Tags: k.tags })) };
    },
    DescribeSnapshots(input: { SnapshotIds: string[] }) {
      const id = input.SnapshotIds[0]!;
      if (!model.snapshots.has(id)) throw awsError('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
      return { Snapshots: [{ SnapshotId: id, State: 'completed' }] };
    },
    DescribeDBSnapshots(input: { DBSnapshotIdentifier: string }) {
      if (!model.dbSnapshots.has(input.DBSnapshotIdentifier)) throw awsError('DBSnapshotNotFoundFault', `DBSnapshot ${input.DBSnapshotIdentifier} not found.`, 404);
      return { DBSnapshots: [{ DBSnapshotArn: input.DBSnapshotIdentifier, Status: 'available' }] };
    },
    HeadObject(input: { Bucket: string; Key: string }) {
      if (!model.objects.has(`${input.Bucket}/${input.Key}`)) throw awsError('NotFound', 'NotFound', 404);
      return { ContentLength: 1 };
    },
    DescribeAutoScalingGroups(input: { AutoScalingGroupNames: string[] }) {
      const name = input.AutoScalingGroupNames[0]!;
      const s = model.stacks.find((x) => x.status !== 'DELETE_COMPLETE' && Object.values(x.outputs).includes(name));
      if (!s) return { AutoScalingGroups: [] };
      const size = model.groups.get(name) ?? Number(s.params.ClusterSize ?? s.params.ClusterNodeMin ?? 1);
      const Instances = Array.from({ length: size }, (_, i) => ({ InstanceId: `i-${name}-${i}`, LifecycleState: 'InService' }));
      return { AutoScalingGroups: [{ AutoScalingGroupName: name, DesiredCapacity: size, Instances }] };
    },
    DescribeInstances(input: { InstanceIds?: string[]; Filters?: Array<{ Name: string; Values: string[] }>; NextToken?: string }) {
      if (!input.InstanceIds) {
        const states = input.Filters?.find((f) => f.Name === 'instance-state-name')?.Values;
        const list = model.account.instances.filter((i) => !states || states.includes(i.State));
        const instances = list.map((i, n) => ({
          InstanceId: `i-other${n}`,
          InstanceType: i.InstanceType,
          State: { Name: i.State },
          ...(i.CoreCount ? { CpuOptions: { CoreCount: i.CoreCount, ThreadsPerCore: i.ThreadsPerCore ?? 1 } } : {}),
        }));
        const { Instances, NextToken } = page(instances, input.NextToken, 'Instances');
        return { Reservations: [{ Instances }], NextToken };
      }
      return { Reservations: [{ Instances: input.InstanceIds.map((id) => ({ InstanceId: id, PublicDnsName: `ec2-${id}.compute.amazonaws.com` })) }] };
    },
  };

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const dispatch = (name: string) => async (input: any) => {
    if (model.dead) throw crash();
    const index = model.calls.length;
    model.calls.push(name);
    if (model.faults.noCredentials) throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    if (model.faults.failAt === index) throw awsError('InternalFailure', `injected failure of ${name} (call ${index})`, 500);
    if (model.faults.deny?.includes(name)) throw denied(name);
    const out = handlers[name]!(input as never);
    if (model.faults.crashAt === index) {
      model.dead = true;
      model.faults.onCrash?.();
      throw crash();
    }
    return structuredClone(out);
  };

  const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' };
  const wire = () => {
    const cfn = mockClient(CloudFormationClient).onAnyCommand().rejects(new Error('unmocked CloudFormation command'));
    for (const [cmd, name] of [
      [CreateStackCommand, 'CreateStack'],
      [DescribeStacksCommand, 'DescribeStacks'],
      [DeleteStackCommand, 'DeleteStack'],
      [ListStacksCommand, 'ListStacks'],
      [DescribeAccountLimitsCommand, 'DescribeAccountLimits'],
    ] as const) {
      cfn.on(cmd as never).callsFake(dispatch(name));
    }
    const ec2 = mockClient(EC2Client).onAnyCommand().rejects(new Error('unmocked EC2 command'));
    for (const [cmd, name] of [
      [CreateKeyPairCommand, 'CreateKeyPair'],
      [DeleteKeyPairCommand, 'DeleteKeyPair'],
      [DescribeKeyPairsCommand, 'DescribeKeyPairs'],
      [DescribeSnapshotsCommand, 'DescribeSnapshots'],
      [DescribeInstancesCommand, 'DescribeInstances'],
      [DescribeVpcsCommand, 'DescribeVpcs'],
    ] as const) {
      ec2.on(cmd as never).callsFake(dispatch(name));
    }
    const rds = mockClient(RDSClient).onAnyCommand().rejects(new Error('unmocked RDS command'));
    rds.on(DescribeDBSnapshotsCommand).callsFake(dispatch('DescribeDBSnapshots')).on(DescribeDBInstancesCommand).callsFake(dispatch('DescribeDBInstances'));
    const s3 = mockClient(S3Client).onAnyCommand().rejects(new Error('unmocked S3 command')).on(HeadObjectCommand).callsFake(dispatch('HeadObject'));
    const asg = mockClient(AutoScalingClient).onAnyCommand().rejects(new Error('unmocked Auto Scaling command')).on(DescribeAutoScalingGroupsCommand).callsFake(dispatch('DescribeAutoScalingGroups'));
    const sq = mockClient(ServiceQuotasClient).onAnyCommand().rejects(new Error('unmocked Service Quotas command'));
    sq.on(GetServiceQuotaCommand).callsFake(dispatch('GetServiceQuota')).on(GetAWSDefaultServiceQuotaCommand).callsFake(dispatch('GetAWSDefaultServiceQuota'));
    stubs.push(cfn, ec2, rds, s3, asg, sq);
  };
  // Every client class is stubbed at the prototype, so even a client the code made itself never reaches AWS.
  wire();
  function makeClients(): AwsClients {
    const region = 'us-east-1';
    return {
      cloudformation: new CloudFormationClient({ region, credentials }),
      ec2: new EC2Client({ region, credentials }),
      rds: new RDSClient({ region, credentials }),
      s3: new S3Client({ region, credentials }),
      autoscaling: new AutoScalingClient({ region, credentials }),
      serviceQuotas: new ServiceQuotasClient({ region, credentials }),
      discoverPublicIp: async () => {
        if (model.publicIp instanceof Error) throw model.publicIp;
        return model.publicIp;
      },
    };
  }
  model.clients = makeClients();
  return model;
}

/** A clock whose sleep returns at once and moves time on. */
export function fakeClock(start = Date.UTC(2026, 0, 1, 12)): { now(): number; sleep(ms: number, signal?: AbortSignal): Promise<void>; slept: number[] } {
  let t = start;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw signal.reason;
      slept.push(ms);
      t += ms;
    },
    slept,
  };
}
