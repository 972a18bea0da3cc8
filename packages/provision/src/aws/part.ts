import { homeFilePath, writeJsonAtomic, type Instance } from '@e3/model';

import type { InstanceSpec, Part, ProviderContext, ProvisionRequest } from '../types.js';
import { WORLD_WARNING } from './ingress.js';
import { MACHINE_KINDS } from './machines.js';
import { runNetwork } from './network.js';
import type { AwsRuntime } from './runtime.js';
import { createStack, type MadeStack } from './stack.js';
import { isAwsTemplate, type NetworkValues } from './templates.js';

const SSH_USER = 'ec2-user';

/** Provisions one thread part: snapshot check, network, stack, nodes; writes `instances/<stack>.json` (0600). */
export async function provisionPart(aws: AwsRuntime, ctx: ProviderContext, req: ProvisionRequest, part: Part): Promise<Instance> {
  const spec = req.thread[part];
  const template = spec.template!;
  if (!isAwsTemplate(template)) throw new Error(`aws provider asked for template ${template}`);
  const kind = MACHINE_KINDS[template];
  if (!kind) throw new Error(`template ${template} is not a machine`);
  const snap = await aws.snapshotOf(ctx, spec as InstanceSpec, template);
  const net = await runNetwork(aws, ctx);
  const made = await createStack(aws, ctx, template, { spec, net: net.values, snap });
  const { nodes, extra } = await kind(aws, ctx, made, made.outputs.SshUser ?? SSH_USER);
  const instance = { ...made.outputs, ...extra, ClusterNodes: nodes, Name: made.name, StackId: made.stackId, snapshot: (spec as InstanceSpec).snapshot ?? '', RunConfig: runConfig(aws, ctx, part, spec as InstanceSpec, made, net) };
  await writeJsonAtomic(homeFilePath(ctx.home, 'instance', made.name), instance, { mode: 0o600 });
  return instance as Instance;
}

/** E³'s RunConfig, plus e3's ingress record; never a generated secret (those stay in the run's secrets file). */
function runConfig(aws: AwsRuntime, ctx: ProviderContext, part: Part, isp: InstanceSpec, made: MadeStack, net: { name: string; values: NetworkValues }) {
  return {
    ...(part === 'instance' ? { admin_password: String(isp.settings?.admin_password ?? '3last1c') } : {}),
    network: net.name,
    owner: ctx.owner,
    run: ctx.run,
    expiresAt: ctx.expiresAt,
    public: String(aws.options.public ?? true),
    ingress: made.cidrs.join(','),
    ...(made.worldOpen ? { ingressWarning: WORLD_WARNING } : {}),
    ...(made.secrets ? { secretsFile: made.secrets } : {}),
    template: isp.template,
    ...(isp.name ? { name: isp.name } : {}),
    ...(isp.version ? { version: isp.version } : {}),
    ...(isp.snapshot ? { snapshot: isp.snapshot } : {}),
    properties: (isp.properties ?? []).join(','),
    parameters: isp.parameters ?? {},
    vpc: net.values.vpc,
    subnet1: net.values.subnet1,
    subnet2: net.values.subnet2,
  };
}
