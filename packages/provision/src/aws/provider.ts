import { DeleteKeyPairCommand } from '@aws-sdk/client-ec2';
import { E3Error } from '@e3/model';

import type { DeletedResource, InstanceSpec, LedgerResource, Provider, ProviderContext, ProvisionRequest, ProvisionedParts } from '../types.js';
import { runNetwork } from './network.js';
import { provisionPart } from './part.js';
import { awsRuntime, type AwsProviderOptions, type AwsRuntime } from './runtime.js';
import { deleteStack } from './stack.js';
import { isAwsTemplate } from './templates.js';

export type { AwsProviderOptions } from './runtime.js';
export { e3Tags, stackName } from './stack.js';

/**
 * The aws provider: CloudFormation stacks per stack kind — PublicNetwork (network.ts), WorkerCluster,
 * BitbucketServer and BitbucketDataCenter (machines.ts, part.ts) — on shared plumbing (runtime.ts, stack.ts).
 */
export function awsProvider(options: AwsProviderOptions = {}): Provider {
  const aws = awsRuntime(options);
  return {
    name: 'aws',
    preflight: (req, ctx) => preflight(aws, req, ctx),
    async provision(req, ctx) {
      const out: ProvisionedParts = {};
      const results = await Promise.allSettled(req.parts.map(async (part) => (out[part] = await provisionPart(aws, ctx, req, part))));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return out;
    },
    deprovision: (resources, ctx) => deprovisionAll(aws, resources, ctx),
  };
}

/** Everything that creates nothing: region, ingress, machine templates found, snapshots present, the network file. */
async function preflight(aws: AwsRuntime, req: ProvisionRequest, ctx: ProviderContext): Promise<void> {
  aws.region();
  await aws.ingress(ctx);
  for (const part of req.parts) {
    const template = req.thread[part].template!;
    if (!isAwsTemplate(template) || template === 'PublicNetwork') {
      throw new E3Error('INVALID_FILE', `threads[${req.index}].${part}.template: ${template} is not a machine template`, {
        hint: 'Use BitbucketServer or BitbucketDataCenter for an instance, WorkerCluster for workers',
      });
    }
    await aws.templateSource(ctx, template);
    await aws.snapshotOf(ctx, req.thread[part] as InstanceSpec, template);
  }
  if (!aws.options.network) await aws.templateSource(ctx, 'PublicNetwork');
  else await runNetwork(aws, ctx);
}

/** Machine stacks first (together), then key pairs, then networks — kept when anything in them could not be deleted. */
async function deprovisionAll(aws: AwsRuntime, resources: LedgerResource[], ctx: ProviderContext): Promise<DeletedResource[]> {
  const attempt = async (r: LedgerResource, fn: () => Promise<void>): Promise<DeletedResource> => {
    try {
      await fn();
      return { provider: 'aws', resource: r, ok: true };
    } catch (err) {
      return { provider: 'aws', resource: r, ok: false, error: (err as Error).message };
    }
  };
  const stacks = resources.filter((r) => r.type === 'stack');
  const machines = stacks.filter((r) => r.template !== 'PublicNetwork');
  const networks = stacks.filter((r) => r.template === 'PublicNetwork');
  const keys = resources.filter((r) => r.type === 'key-pair');
  const out: DeletedResource[] = [];
  out.push(...(await Promise.all(machines.map((r) => attempt(r, () => deleteStack(aws, ctx, r))))));
  const deleteKey = (r: LedgerResource) => ctx.ledger.track('aws', 'delete', r, async () => void (await aws.clients(r.region).ec2.send(new DeleteKeyPairCommand({ KeyName: r.name }))));
  out.push(...(await Promise.all(keys.map((r) => attempt(r, () => deleteKey(r))))));
  const blocked = out.some((d) => !d.ok);
  for (const r of networks) {
    if (blocked) out.push({ provider: 'aws', resource: r, ok: false, error: 'kept: a stack in it could not be deleted' });
    else out.push(await attempt(r, () => deleteStack(aws, ctx, r)));
  }
  for (const r of resources.filter((x) => x.type !== 'stack' && x.type !== 'key-pair')) {
    out.push({ provider: 'aws', resource: r, ok: false, error: `unknown resource type ${r.type}` });
  }
  return out;
}
