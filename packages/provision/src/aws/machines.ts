import { E3Error } from '@e3/model';

import type { ProviderContext } from '../types.js';
import type { AwsRuntime } from './runtime.js';
import { groupNodes, type MadeStack } from './stack.js';
import type { AwsTemplate } from './templates.js';

/** What a machine stack kind adds to its instance file: its nodes, and extra fields. */
export interface MachineNodes {
  nodes: string[];
  extra: Record<string, string>;
}

type NodesOf = (aws: AwsRuntime, ctx: ProviderContext, made: MadeStack, user: string) => Promise<MachineNodes>;

/** WorkerCluster: every in-service instance of its auto scaling group. */
const workerCluster: NodesOf = async (aws, ctx, made, user) => ({
  nodes: await groupNodes(aws, ctx, made.name, made.outputs.AutoScalingGroupName ?? made.outputs.ClusterNodeGroup ?? '', user),
  extra: {},
});

/** BitbucketServer: its one instance's address. */
const bitbucketServer: NodesOf = async (_aws, ctx, made, user) => {
  const o = made.outputs;
  if (!(o.PublicIp ?? o.PrivateIp)) {
    throw new E3Error('PROVISION', `stack ${made.name} has no PublicIp or PrivateIp output`, { hint: `Check the BitbucketServer template's Outputs, then \`e3 deprovision -r ${ctx.run}\`` });
  }
  return { nodes: [`${user}@${o.PublicIp ?? o.PrivateIp}`], extra: {} };
};

/**
 * BitbucketDataCenter: the cluster nodes' group, the file server as `FileServerConnectionString`, and
 * `DirectURL` on the first node's 7990 (the *HttpDirect scripts; inside the VPC its DNS name resolves privately).
 */
const bitbucketDataCenter: NodesOf = async (aws, ctx, made, user) => {
  const extra: Record<string, string> = {};
  if (made.outputs.FileServer) extra.FileServerConnectionString = `${user}@${made.outputs.FileServer}`;
  const nodes = await groupNodes(aws, ctx, made.name, made.outputs.ClusterNodeGroup ?? '', user);
  const first = nodes[0]?.slice(nodes[0].indexOf('@') + 1);
  if (first) extra.DirectURL = `http://${first}:7990`;
  return { nodes, extra };
};

/** The machine stack kinds and how each finds its nodes. */
export const MACHINE_KINDS: Partial<Record<AwsTemplate, NodesOf>> = {
  WorkerCluster: workerCluster,
  BitbucketServer: bitbucketServer,
  BitbucketDataCenter: bitbucketDataCenter,
};
