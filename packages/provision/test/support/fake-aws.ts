import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, CreateStackCommand, DeleteStackCommand, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { CreateKeyPairCommand, DeleteKeyPairCommand, DescribeInstancesCommand, DescribeKeyPairsCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

import type { AwsClients } from '../../src/aws/clients.js';

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
  /** Resources that exist: stacks not DELETE_COMPLETE and key pairs. */
  live(): string[];
  /** A client set for a fresh invocation: same model, new client objects. */
  freshClients(): AwsClients;
}

const awsError = (name: string, message: string, status = 400): Error =>
  Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });

const templateOf = (tags: FakeStack['tags']): string => tags.find((t) => t.Key === 'e3:template')?.Value ?? 'Unknown';

let counter = 0;

/** An in-memory model of the AWS calls e3 makes, wired into every SDK client class with aws-sdk-client-mock. */
export function fakeAws(init: Partial<Pick<FakeAws, 'pollsToComplete'>> & { faults?: Faults } = {}): FakeAws {
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
      if (model.faults.failTemplates?.includes(s.template)) {
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
      const id = `arn:aws:cloudformation:us-east-1:123456789012:stack/${input.StackName}/${(++counter).toString(16).padStart(8, '0')}`;
      const outputs: Record<string, string> = {
        PublicNetwork: { VPC: `vpc-${counter}`, Subnet1: `subnet-${counter}a`, Subnet2: `subnet-${counter}b` },
        WorkerCluster: { AutoScalingGroupName: `${input.StackName}-asg`, SshUser: 'ubuntu' },
        BitbucketServer: { URL: `http://bb-${counter}.example.com:7990`, PublicIp: `203.0.113.${counter % 250}`, PrivateIp: `10.0.0.${counter % 250}` },
        BitbucketDataCenter: { URL: `http://lb-${counter}.example.com`, ClusterNodeGroup: `${input.StackName}-nodes`, FileServer: `fs-${counter}.example.com` },
      }[template] ?? {};
      model.stacks.push({ name: input.StackName, id, status: 'CREATE_IN_PROGRESS', template, params, tags, outputs, polls: 0, token: input.ClientRequestToken, hasBody: Boolean(input.TemplateBody) });
      return { StackId: id };
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
      const size = Number(s.params.ClusterSize ?? s.params.ClusterNodeMin ?? 1);
      const Instances = Array.from({ length: size }, (_, i) => ({ InstanceId: `i-${name}-${i}`, LifecycleState: 'InService' }));
      return { AutoScalingGroups: [{ AutoScalingGroupName: name, DesiredCapacity: size, Instances }] };
    },
    DescribeInstances(input: { InstanceIds: string[] }) {
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
    mockClient(CloudFormationClient)
      .onAnyCommand()
      .rejects(new Error('unmocked CloudFormation command'))
      .on(CreateStackCommand)
      .callsFake(dispatch('CreateStack'))
      .on(DescribeStacksCommand)
      .callsFake(dispatch('DescribeStacks'))
      .on(DeleteStackCommand)
      .callsFake(dispatch('DeleteStack'));
    mockClient(EC2Client)
      .onAnyCommand()
      .rejects(new Error('unmocked EC2 command'))
      .on(CreateKeyPairCommand)
      .callsFake(dispatch('CreateKeyPair'))
      .on(DeleteKeyPairCommand)
      .callsFake(dispatch('DeleteKeyPair'))
      .on(DescribeKeyPairsCommand)
      .callsFake(dispatch('DescribeKeyPairs'))
      .on(DescribeSnapshotsCommand)
      .callsFake(dispatch('DescribeSnapshots'))
      .on(DescribeInstancesCommand)
      .callsFake(dispatch('DescribeInstances'));
    mockClient(RDSClient).onAnyCommand().rejects(new Error('unmocked RDS command')).on(DescribeDBSnapshotsCommand).callsFake(dispatch('DescribeDBSnapshots'));
    mockClient(S3Client).onAnyCommand().rejects(new Error('unmocked S3 command')).on(HeadObjectCommand).callsFake(dispatch('HeadObject'));
    mockClient(AutoScalingClient)
      .onAnyCommand()
      .rejects(new Error('unmocked Auto Scaling command'))
      .on(DescribeAutoScalingGroupsCommand)
      .callsFake(dispatch('DescribeAutoScalingGroups'));
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
