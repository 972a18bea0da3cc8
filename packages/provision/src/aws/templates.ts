import { ingressParameters } from './ingress.js';

/**
 * The CloudFormation templates e3 knows, with E³'s stack-name prefixes and parameter defaults.
 * Secrets (database passwords) are generated per stack, never fixed.
 */
export const AWS_TEMPLATES = ['PublicNetwork', 'WorkerCluster', 'BitbucketServer', 'BitbucketDataCenter'] as const;
export type AwsTemplate = (typeof AWS_TEMPLATES)[number];

export function isAwsTemplate(name: string): name is AwsTemplate {
  return (AWS_TEMPLATES as readonly string[]).includes(name);
}

/** E³'s StackNamePrefix of each template. */
export const STACK_PREFIX: Record<AwsTemplate, string> = {
  PublicNetwork: 'network',
  WorkerCluster: 'worker',
  BitbucketServer: 'bitbucket-server',
  BitbucketDataCenter: 'bitbucket-data-center',
};

/** Templates whose nodes e3 reaches over SSH: they get an EC2 key pair named after the stack. */
export const NEEDS_KEY_PAIR: Record<AwsTemplate, boolean> = {
  PublicNetwork: false,
  WorkerCluster: true,
  BitbucketServer: true,
  BitbucketDataCenter: true,
};

/** The network values a stack is placed in. */
export interface NetworkValues {
  vpc: string;
  subnet1: string;
  subnet2: string;
}

export interface ParameterInput {
  template: AwsTemplate;
  stackName: string;
  network?: NetworkValues;
  /** The spec's `parameters` overrides (win over every default). */
  overrides?: Record<string, string | number | boolean>;
  version?: string;
  properties?: string[];
  public: boolean;
  /** CIDRs allowed to reach the machines (SSH, HTTP, git); the first is the controller's /32. Never defaulted to the world. */
  ingress?: readonly string[];
  /** Snapshot ids already checked to exist. */
  homeVolumeSnapshotId?: string;
  dbSnapshotArn?: string;
  /** An OpenSearch snapshot to restore (the descriptor's `es`): its S3 bucket and snapshot name. */
  searchSnapshot?: { bucket: string; name: string };
  randomHex(bytes: number): string;
}

/** JMX for collectd, bound to the loopback interface only (E³ opened 3333 to the network without auth). */
const CATALINA_OPTS = [
  '-Dcom.sun.management.jmxremote.port=3333',
  '-Dcom.sun.management.jmxremote.rmi.port=3333',
  '-Dcom.sun.management.jmxremote.host=127.0.0.1',
  '-Djava.rmi.server.hostname=127.0.0.1',
  '-Dcom.sun.management.jmxremote.authenticate=false',
  '-Dcom.sun.management.jmxremote.ssl=false',
].join(' ');

/**
 * CloudFormation parameters for `input.template` (exactly ones the shipped templates declare): E³'s
 * defaults, then the spec's overrides. Values are
 * strings as CloudFormation wants them. Keys whose value would be empty are left out.
 */
export function stackParameters(input: ParameterInput): Record<string, string> {
  const n = input.network;
  const props = [...(input.properties ?? []), 'jmx.enabled=true'].join(',');
  const cidrs = ingressParameters(input.ingress ?? []);
  let p: Record<string, string | undefined>;
  switch (input.template) {
    case 'PublicNetwork':
      p = {};
      break;
    case 'WorkerCluster':
      p = {
        InstanceType: 'c5.2xlarge',
        ClusterSize: '4',
        KeyName: input.stackName,
        VPC: n?.vpc,
        Subnets: n ? `${n.subnet1},${n.subnet2}` : undefined,
        ...cidrs,
      };
      break;
    case 'BitbucketServer':
      p = {
        InstanceType: 'm5.xlarge',
        HomeVolumeType: 'Provisioned IOPS',
        RootVolumeType: 'Provisioned IOPS',
        HomeIops: '3000',
        RootIops: '1500',
        CatalinaOpts: CATALINA_OPTS,
        KeyName: input.stackName,
        Subnet: n?.subnet1,
        VPC: n?.vpc,
        StartCollectd: 'true',
        AssociatePublicIpAddress: String(input.public),
        BitbucketProperties: props,
        BitbucketVersion: input.version,
        HomeVolumeSnapshotId: input.homeVolumeSnapshotId,
        ...cidrs,
      };
      break;
    case 'BitbucketDataCenter':
      p = {
        ClusterNodeInstanceType: 'c5.xlarge',
        ...cidrs,
        DBMasterUserPassword: `e3${input.randomHex(12)}`,
        // A snapshot's database already has the application user; E³'s snapshots use stash/stash.
        DBUser: input.dbSnapshotArn ? 'stash' : undefined,
        DBPassword: input.dbSnapshotArn ? 'stash' : `e3${input.randomHex(12)}`,
        ExternalSubnets: n ? `${n.subnet1},${n.subnet2}` : undefined,
        InternalSubnets: n ? `${n.subnet1},${n.subnet2}` : undefined,
        KeyName: input.stackName,
        StartCollectd: 'true',
        VPC: n?.vpc,
        AMIOpts: 'ATL_FORCE_HOST_NAME=true',
        CatalinaOpts: CATALINA_OPTS,
        AssociatePublicIpAddress: String(input.public),
        BitbucketProperties: props,
        BitbucketVersion: input.version,
        HomeVolumeSnapshotId: input.homeVolumeSnapshotId,
        DBSnapshotId: input.dbSnapshotArn,
        SearchSnapshotBucket: input.searchSnapshot?.bucket,
        SearchSnapshotName: input.searchSnapshot?.name,
      };
      break;
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== '') out[k] = v;
  for (const [k, v] of Object.entries(input.overrides ?? {})) out[k] = String(v);
  return out;
}

/** Parameter names whose values are secrets: never logged, never written to instance files. */
export const SECRET_PARAMETERS = new Set(['DBMasterUserPassword', 'DBPassword']);
