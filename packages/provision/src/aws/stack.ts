import { dirname, join, relative } from 'node:path';

import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateStackCommand, DeleteStackCommand, DescribeStacksCommand, type Stack, type Tag } from '@aws-sdk/client-cloudformation';
import { CreateKeyPairCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { E3Error, E3_VERSION, homeFilePath, instanceKeyFileName, writeFileAtomic } from '@e3/model';

import { saveSecrets } from '../secrets.js';
import type { InstanceSpec, LedgerResource, ProviderContext, WorkerSpec } from '../types.js';
import { poll } from '../wait.js';
import { isStackMissing } from './clients.js';
import { WORLD, WORLD_WARNING } from './ingress.js';
import type { AwsRuntime } from './runtime.js';
import type { CheckedSnapshot } from './snapshots.js';
import { NEEDS_KEY_PAIR, SECRET_PARAMETERS, STACK_PREFIX, stackParameters, type AwsTemplate, type NetworkValues } from './templates.js';

/** E3 tags for every resource: owner, run, e3 version and expiry (plus E³'s resource_owner/service_name). */
export function e3Tags(ctx: Pick<ProviderContext, 'owner' | 'run' | 'expiresAt'>, name: string, template?: string): Tag[] {
  return [
    ...(template ? [{ Key: 'e3:template', Value: template }] : []),
    { Key: 'Name', Value: `e3-${name}` },
    { Key: 'e3', Value: E3_VERSION },
    { Key: 'e3:owner', Value: ctx.owner },
    { Key: 'e3:run', Value: ctx.run },
    { Key: 'e3:expires-at', Value: ctx.expiresAt },
    { Key: 'resource_owner', Value: ctx.owner },
    { Key: 'service_name', Value: 'e3' },
  ];
}

/** `stack-<prefix>-<owner>-<6 hex>` as E³, with the owner reduced to what a stack name may hold. */
export function stackName(template: AwsTemplate, owner: string, hex: string): string {
  const safeOwner = owner.replace(/[^A-Za-z0-9-]/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '') || 'e3';
  return `stack-${STACK_PREFIX[template]}-${safeOwner}-${hex}`;
}

/** A stack that reached CREATE_COMPLETE. */
export interface MadeStack {
  name: string;
  stackId: string;
  outputs: Record<string, string>;
  /** The CIDRs the stack lets in, and whether that is the world. */
  cidrs: string[];
  worldOpen: boolean;
  /** Where its generated secrets are kept (relative to the run dir), when it has any. */
  secrets?: string;
}

export interface StackInput {
  spec?: InstanceSpec | WorkerSpec;
  net?: NetworkValues;
  snap?: CheckedSnapshot;
}

/** Creates the stack's EC2 key pair (ledger-tracked) and saves its private key as `instances/<stack>.pem` (0600). */
async function createKeyPair(aws: AwsRuntime, ctx: ProviderContext, name: string, tags: Tag[]): Promise<void> {
  const keyFile = join(dirname(homeFilePath(ctx.home, 'instance', name)), instanceKeyFileName(name));
  const res = await ctx.ledger.track(
    'aws',
    'create',
    { type: 'key-pair', name, region: aws.region(), file: relative(ctx.home, keyFile) },
    () => aws.clients().ec2.send(new CreateKeyPairCommand({ KeyName: name, TagSpecifications: [{ ResourceType: 'key-pair', Tags: tags }] })),
    (r) => r.KeyPairId,
  );
  if (!res.KeyMaterial) throw new E3Error('PROVISION', `EC2 returned no key material for key pair ${name}`, { hint: `Run \`e3 deprovision -r ${ctx.run}\`, then provision again` });
  await writeFileAtomic(keyFile, res.KeyMaterial.endsWith('\n') ? res.KeyMaterial : `${res.KeyMaterial}\n`, { mode: 0o600 });
}

/** The parameters of a new stack: defaults, ingress and the spec's overrides; secrets saved to the run's secrets file. */
async function parametersFor(aws: AwsRuntime, ctx: ProviderContext, template: AwsTemplate, name: string, input: StackInput) {
  const spec = (input.spec ?? {}) as InstanceSpec;
  const cidrs = template === 'PublicNetwork' ? [] : (await aws.ingress(ctx)).cidrs;
  const parameters = stackParameters({
    template,
    stackName: name,
    network: input.net,
    overrides: spec.parameters,
    version: spec.version,
    properties: spec.properties,
    public: aws.options.public ?? true,
    homeVolumeSnapshotId: input.snap?.homeVolumeSnapshotId,
    dbSnapshotArn: input.snap?.dbSnapshotArn,
    ...(template === 'BitbucketDataCenter' && input.snap?.searchSnapshot ? { searchSnapshot: input.snap.searchSnapshot } : {}),
    ingress: cidrs,
    randomHex: ctx.randomHex,
  });
  const allowed = Object.entries(parameters).filter(([k]) => /^CidrBlock\d*$/.test(k)).map(([, v]) => v);
  const worldOpen = allowed.includes(WORLD);
  if (worldOpen && !cidrs.includes(WORLD)) ctx.log(`warning: ${name}: ${WORLD_WARNING} (a CidrBlock parameter override)`);
  const secretValues = Object.fromEntries(Object.entries(parameters).filter(([k]) => SECRET_PARAMETERS.has(k)));
  const secrets = Object.keys(secretValues).length ? await saveSecrets(ctx.runDir, name, secretValues) : undefined;
  return { parameters, allowed, worldOpen, secrets };
}

/** Creates one stack (key pair first when the template needs one), tracked in the ledger, and waits for CREATE_COMPLETE. */
export async function createStack(aws: AwsRuntime, ctx: ProviderContext, template: AwsTemplate, input: StackInput): Promise<MadeStack> {
  ctx.signal?.throwIfAborted();
  const c = aws.clients();
  const reg = aws.region();
  const name = stackName(template, ctx.owner, ctx.randomHex(3));
  const tags = e3Tags(ctx, name, template);
  const source = await aws.templateSource(ctx, template);
  if (NEEDS_KEY_PAIR[template]) await createKeyPair(aws, ctx, name, tags);
  ctx.signal?.throwIfAborted();
  const { parameters, allowed, worldOpen, secrets } = await parametersFor(aws, ctx, template, name, input);
  ctx.log(`creating ${template} stack ${name} in ${reg}`);
  const created = await ctx.ledger.track(
    'aws',
    'create',
    { type: 'stack', name, region: reg, template, file: relative(ctx.home, homeFilePath(ctx.home, 'instance', name)) },
    () =>
      c.cloudformation.send(
        new CreateStackCommand({
          StackName: name,
          ...source,
          Parameters: Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
          Capabilities: ['CAPABILITY_IAM'],
          DisableRollback: true,
          ClientRequestToken: `e3-${name}`,
          Tags: tags,
        }),
      ),
    (r) => r.StackId,
  );
  const stackId = created.StackId ?? name;
  const stack = await waitForCreate(aws, ctx, name, stackId);
  const outputs: Record<string, string> = {};
  for (const o of stack.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
  return { name, stackId, outputs, cidrs: allowed, worldOpen, ...(secrets ? { secrets } : {}) };
}

function waitForCreate(aws: AwsRuntime, ctx: ProviderContext, name: string, stackId: string): Promise<Stack> {
  const hint = `Look at the stack's events in the CloudFormation console, then \`e3 deprovision -r ${ctx.run}\``;
  return poll<Stack>({
    what: `stack ${name} to be CREATE_COMPLETE`,
    clock: ctx.clock,
    signal: ctx.signal,
    timeoutMs: aws.options.createTimeoutMs ?? 60 * 60_000,
    initialDelayMs: 10_000,
    hint,
    probe: async () => {
      const res = await aws.clients().cloudformation.send(new DescribeStacksCommand({ StackName: stackId }));
      const s = res.Stacks?.[0];
      if (!s || s.StackStatus === 'CREATE_IN_PROGRESS') return undefined;
      if (s.StackStatus === 'CREATE_COMPLETE') return s;
      throw new E3Error('PROVISION', `stack ${name} ended in ${s.StackStatus}${s.StackStatusReason ? `: ${s.StackStatusReason}` : ''}`, { hint });
    },
  });
}

/** `<user>@<address>` of every in-service instance of an auto scaling group, once all desired ones are in service. */
export async function groupNodes(aws: AwsRuntime, ctx: ProviderContext, stack: string, group: string, user: string): Promise<string[]> {
  const c = aws.clients();
  const ids = await poll<string[]>({
    what: `auto scaling group ${group} of ${stack} to have all its instances in service`,
    clock: ctx.clock,
    signal: ctx.signal,
    timeoutMs: aws.options.createTimeoutMs ?? 60 * 60_000,
    initialDelayMs: 5_000,
    hint: `Look at the group's activity in the EC2 console, then \`e3 deprovision -r ${ctx.run}\``,
    probe: async () => {
      const res = await c.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }));
      const g = res.AutoScalingGroups?.[0];
      if (!g) return undefined;
      const inService = (g.Instances ?? []).filter((i) => i.LifecycleState === 'InService').map((i) => i.InstanceId!);
      return inService.length > 0 && inService.length >= (g.DesiredCapacity ?? 1) ? inService : undefined;
    },
  });
  const res = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  const hosts = (res.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.PublicDnsName || i.PublicIpAddress || i.PrivateIpAddress);
  if (hosts.length === 0 || hosts.some((h) => !h)) {
    throw new E3Error('PROVISION', `instances of ${group} (${stack}) have no address`, { hint: `Check the group in the EC2 console, then \`e3 deprovision -r ${ctx.run}\`` });
  }
  return hosts.map((h) => `${user}@${h}`);
}

/** Deletes a stack (tracked in the ledger) and waits until it is gone; a DELETE_FAILED stack is retried once. */
export async function deleteStack(aws: AwsRuntime, ctx: ProviderContext, r: LedgerResource): Promise<void> {
  const c = aws.clients(r.region);
  const target = r.id ?? r.name;
  await ctx.ledger.track('aws', 'delete', r, async () => {
    let retried = false;
    await c.cloudformation.send(new DeleteStackCommand({ StackName: target }));
    await poll<true>({
      what: `stack ${r.name} to be deleted`,
      clock: ctx.clock,
      signal: ctx.signal,
      timeoutMs: aws.options.deleteTimeoutMs ?? 30 * 60_000,
      initialDelayMs: 5_000,
      hint: `Look at the stack's events in the CloudFormation console, then run \`e3 deprovision\` again`,
      probe: async () => {
        let s: Stack | undefined;
        try {
          s = (await c.cloudformation.send(new DescribeStacksCommand({ StackName: target }))).Stacks?.[0];
        } catch (err) {
          if (isStackMissing(err)) return true;
          throw err;
        }
        if (!s || s.StackStatus === 'DELETE_COMPLETE') return true;
        if (s.StackStatus === 'DELETE_FAILED') {
          if (retried) {
            throw new E3Error('PROVISION', `stack ${r.name} could not be deleted: ${s.StackStatusReason ?? 'DELETE_FAILED'}`, {
              hint: `Remove what blocks it in the CloudFormation console, then run \`e3 deprovision --stack ${r.name}\``,
            });
          }
          retried = true;
          await c.cloudformation.send(new DeleteStackCommand({ StackName: target }));
        }
        return undefined;
      },
    });
  });
}
