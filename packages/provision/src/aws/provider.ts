import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateStackCommand, DeleteStackCommand, DescribeStacksCommand, type Stack, type Tag } from '@aws-sdk/client-cloudformation';
import { CreateKeyPairCommand, DeleteKeyPairCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import {
  E3Error,
  E3_VERSION,
  TEMPLATES_DIR,
  builtinHome,
  homeFilePath,
  instanceKeyFileName,
  parseJson,
  templateFileName,
  writeFileAtomic,
  writeJsonAtomic,
  type Instance,
} from '@e3/model';

import type { DeletedResource, InstanceSpec, LedgerResource, Part, Provider, ProviderContext, ProvisionRequest, ProvisionedParts, WorkerSpec } from '../types.js';
import { poll } from '../wait.js';
import { isStackMissing, lazyClients, type AwsClients } from './clients.js';
import { WORLD, WORLD_WARNING, resolveIngress, type Ingress } from './ingress.js';
import { checkSnapshot, type CheckedSnapshot } from './snapshots.js';
import { NEEDS_KEY_PAIR, SECRET_PARAMETERS, STACK_PREFIX, isAwsTemplate, stackParameters, type AwsTemplate, type NetworkValues } from './templates.js';
import { saveSecrets } from '../secrets.js';

/** Settings of the aws provider. */
export interface AwsProviderOptions {
  /** AWS region; `AWS_REGION`, then `AWS_DEFAULT_REGION` from `env` when absent. */
  region?: string;
  /** SDK v3 clients; the missing ones are created for `region` on first use (standard credential chain). */
  clients?: Partial<AwsClients>;
  /** Folder of `<Template>.template` files; default `<e3-home>/templates`, then e3's built-in `e3-home/templates`. */
  templateDir?: string;
  /** Base URL: `<templateUrl>/<Template>.template` is passed to CloudFormation as TemplateURL when no local file exists. */
  templateUrl?: string;
  /** An existing network instance file (`instances/<network>.json` with VPC, Subnet1, Subnet2); otherwise a PublicNetwork stack is created per run. */
  network?: string;
  /** Whether Bitbucket nodes get public addresses (E³ `--public`, the default). */
  public?: boolean;
  /** Limits for stack creation and deletion (default 60 and 30 minutes). */
  createTimeoutMs?: number;
  deleteTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** CIDRs allowed in besides the controller's address (`--allow-cidr`); the experiment's `allowCidrs` are added. */
  allowCidrs?: string[];
}

const TEMPLATE_BODY_LIMIT = 51_200;
const SSH_USER = 'ec2-user';

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

interface TemplateSource {
  TemplateBody?: string;
  TemplateURL?: string;
}

/** The aws provider: CloudFormation stacks for PublicNetwork, WorkerCluster, BitbucketServer and BitbucketDataCenter. */
export function awsProvider(options: AwsProviderOptions = {}): Provider {
  const env = options.env ?? process.env;
  const clientsByRegion = new Map<string, () => AwsClients>();
  const region = (recorded?: string): string => {
    const r = recorded ?? options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!r) {
      throw new E3Error('ENVIRONMENT', 'no AWS region: the aws provider needs one', {
        hint: 'Pass --region <region> or set AWS_REGION (e.g. `export AWS_REGION=us-east-1`)',
      });
    }
    return r;
  };
  /** Clients for `recorded` (a region the ledger names) or the configured region. Injected clients serve every region. */
  const clients = (recorded?: string): AwsClients => {
    const r = region(recorded);
    let get = clientsByRegion.get(r);
    if (!get) clientsByRegion.set(r, (get = lazyClients(r, options.clients)));
    return get();
  };

  const templateSource = (ctx: ProviderContext, template: AwsTemplate): Promise<TemplateSource> =>
    ctx.once(`aws:template:${template}`, async () => {
      const dirs = options.templateDir ? [options.templateDir] : [join(ctx.home, TEMPLATES_DIR), ...(builtinHome() ? [join(builtinHome()!, TEMPLATES_DIR)] : [])];
      for (const dir of dirs) {
        const file = join(dir, templateFileName(template));
        const body = await readFile(file, 'utf8').catch(() => undefined);
        if (body === undefined) continue;
        if (Buffer.byteLength(body) > TEMPLATE_BODY_LIMIT) {
          if (options.templateUrl) break;
          throw new E3Error('PROVISION', `${file} is ${Buffer.byteLength(body)} bytes: CloudFormation takes at most ${TEMPLATE_BODY_LIMIT} inline`, {
            hint: `Upload it to S3 and pass --template-url <https://bucket.s3.amazonaws.com/prefix> (e3 appends /${templateFileName(template)})`,
          });
        }
        return { TemplateBody: body };
      }
      if (options.templateUrl) return { TemplateURL: `${options.templateUrl.replace(/\/$/, '')}/${templateFileName(template)}` };
      throw new E3Error('PROVISION', `no CloudFormation template ${templateFileName(template)} in ${dirs.join(' or ')}`, {
        hint: `Put ${templateFileName(template)} in ${dirs[0]} (Atlassian's atlassian-aws-deployment repository has the Bitbucket ones), or pass --template-url`,
      });
    });

  const snapshotOf = (ctx: ProviderContext, spec: InstanceSpec, template: AwsTemplate): Promise<CheckedSnapshot> => {
    if (!spec.snapshot || template === 'WorkerCluster' || template === 'PublicNetwork') return Promise.resolve({});
    return ctx.once(`aws:snapshot:${spec.snapshot}:${template}`, () =>
      checkSnapshot({ home: ctx.home, snapshot: spec.snapshot!, region: region(), needsDatabase: template === 'BitbucketDataCenter', clients: clients() }),
    );
  };

  const ingress = (ctx: ProviderContext): Promise<Ingress> =>
    ctx.once('aws:ingress', async () => {
      const found = await resolveIngress({ cli: options.allowCidrs, experiment: ctx.allowCidrs, discover: clients().discoverPublicIp, signal: ctx.signal });
      ctx.log(`machines will accept SSH, HTTP and git from ${found.cidrs.join(', ')}${found.controller ? ` (${found.controller}: this machine)` : ''}`);
      for (const w of found.warnings) ctx.log(`warning: ${w}`);
      return found;
    });

  const network = (ctx: ProviderContext): Promise<{ name: string; values: NetworkValues }> =>
    ctx.once('aws:network', async () => {
      if (options.network) {
        // Network files (E³ and e3) have no ClusterNodes, so they are not read as instance files.
        const file = homeFilePath(ctx.home, 'instance', options.network);
        const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new E3Error(err.code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO', `network file ${file}: ${err.code === 'ENOENT' ? 'not found' : err.message}`, {
            hint: `Pass --network <name> of a file in ${dirname(file)}, or leave --network out to create a PublicNetwork stack`,
          });
        });
        const parsed = parseJson(text);
        const inst = (parsed.syntaxError === undefined ? parsed.value : {}) as { VPC?: unknown; Subnet1?: unknown; Subnet2?: unknown };
        if (typeof inst.VPC !== 'string' || typeof inst.Subnet1 !== 'string' || typeof inst.Subnet2 !== 'string') {
          throw new E3Error('PROVISION', `${file}: a network instance file needs VPC, Subnet1 and Subnet2`, {
            hint: `Fix ${file}, or leave --network out to create a PublicNetwork stack`,
          });
        }
        return { name: options.network, values: { vpc: inst.VPC, subnet1: inst.Subnet1, subnet2: inst.Subnet2 } };
      }
      const made = await createStack(ctx, 'PublicNetwork', {});
      const out = made.outputs;
      if (!out.VPC || !out.Subnet1 || !out.Subnet2) {
        throw new E3Error('PROVISION', `network stack ${made.name} has no VPC/Subnet1/Subnet2 outputs`, {
          hint: `Check the PublicNetwork template's Outputs, then \`e3 deprovision -r ${ctx.run}\``,
        });
      }
      const instance = { ...out, Name: made.name, StackId: made.stackId, RunConfig: { owner: ctx.owner, run: ctx.run, expiresAt: ctx.expiresAt } };
      await writeJsonAtomic(homeFilePath(ctx.home, 'instance', made.name), instance, { mode: 0o600 });
      return { name: made.name, values: { vpc: out.VPC, subnet1: out.Subnet1, subnet2: out.Subnet2 } };
    });

  interface Made {
    name: string;
    stackId: string;
    outputs: Record<string, string>;
    /** The CIDRs the stack lets in, and whether that is the world. */
    cidrs: string[];
    worldOpen: boolean;
    /** Where its generated secrets are kept (relative to the run dir), when it has any. */
    secrets?: string;
  }

  async function createStack(ctx: ProviderContext, template: AwsTemplate, input: { spec?: InstanceSpec | WorkerSpec; net?: NetworkValues; snap?: CheckedSnapshot }): Promise<Made> {
    ctx.signal?.throwIfAborted();
    const c = clients();
    const reg = region();
    const name = stackName(template, ctx.owner, ctx.randomHex(3));
    const tags = e3Tags(ctx, name, template);
    const source = await templateSource(ctx, template);
    if (NEEDS_KEY_PAIR[template]) {
      const keyFile = join(dirname(homeFilePath(ctx.home, 'instance', name)), instanceKeyFileName(name));
      const res = await ctx.ledger.track(
        'aws',
        'create',
        { type: 'key-pair', name, region: reg, file: relative(ctx.home, keyFile) },
        () => c.ec2.send(new CreateKeyPairCommand({ KeyName: name, TagSpecifications: [{ ResourceType: 'key-pair', Tags: tags }] })),
        (r) => r.KeyPairId,
      );
      if (!res.KeyMaterial) throw new E3Error('PROVISION', `EC2 returned no key material for key pair ${name}`, { hint: `Run \`e3 deprovision -r ${ctx.run}\`, then provision again` });
      await writeFileAtomic(keyFile, res.KeyMaterial.endsWith('\n') ? res.KeyMaterial : `${res.KeyMaterial}\n`, { mode: 0o600 });
    }
    ctx.signal?.throwIfAborted();
    const spec = (input.spec ?? {}) as InstanceSpec;
    const cidrs = template === 'PublicNetwork' ? [] : (await ingress(ctx)).cidrs;
    const parameters = stackParameters({
      template,
      stackName: name,
      network: input.net,
      overrides: spec.parameters,
      version: spec.version,
      properties: spec.properties,
      public: options.public ?? true,
      homeVolumeSnapshotId: input.snap?.homeVolumeSnapshotId,
      dbSnapshotArn: input.snap?.dbSnapshotArn,
      ingress: cidrs,
      randomHex: ctx.randomHex,
    });
    const allowed = Object.entries(parameters).filter(([k]) => /^CidrBlock\d*$/.test(k)).map(([, v]) => v);
    const worldOpen = allowed.includes(WORLD);
    if (worldOpen && !cidrs.includes(WORLD)) ctx.log(`warning: ${name}: ${WORLD_WARNING} (a CidrBlock parameter override)`);
    const secretValues = Object.fromEntries(Object.entries(parameters).filter(([k]) => SECRET_PARAMETERS.has(k)));
    const secrets = Object.keys(secretValues).length ? await saveSecrets(ctx.runDir, name, secretValues) : undefined;
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
    const stack = await poll<Stack>({
      what: `stack ${name} to be CREATE_COMPLETE`,
      clock: ctx.clock,
      signal: ctx.signal,
      timeoutMs: options.createTimeoutMs ?? 60 * 60_000,
      initialDelayMs: 10_000,
      hint: `Look at the stack's events in the CloudFormation console, then \`e3 deprovision -r ${ctx.run}\``,
      probe: async () => {
        const res = await c.cloudformation.send(new DescribeStacksCommand({ StackName: stackId }));
        const s = res.Stacks?.[0];
        if (!s || s.StackStatus === 'CREATE_IN_PROGRESS') return undefined;
        if (s.StackStatus === 'CREATE_COMPLETE') return s;
        throw new E3Error('PROVISION', `stack ${name} ended in ${s.StackStatus}${s.StackStatusReason ? `: ${s.StackStatusReason}` : ''}`, {
          hint: `Look at the stack's events in the CloudFormation console, then \`e3 deprovision -r ${ctx.run}\``,
        });
      },
    });
    const outputs: Record<string, string> = {};
    for (const o of stack.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
    return { name, stackId, outputs, cidrs: allowed, worldOpen, ...(secrets ? { secrets } : {}) };
  }

  async function groupNodes(ctx: ProviderContext, stack: string, group: string, user: string): Promise<string[]> {
    const c = clients();
    const ids = await poll<string[]>({
      what: `auto scaling group ${group} of ${stack} to have all its instances in service`,
      clock: ctx.clock,
      signal: ctx.signal,
      timeoutMs: options.createTimeoutMs ?? 60 * 60_000,
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

  async function provisionPart(ctx: ProviderContext, req: ProvisionRequest, part: Part): Promise<Instance> {
    const spec = req.thread[part];
    const template = spec.template!;
    if (!isAwsTemplate(template)) throw new Error(`aws provider asked for template ${template}`);
    const snap = await snapshotOf(ctx, spec as InstanceSpec, template);
    const net = await network(ctx);
    const made = await createStack(ctx, template, { spec, net: net.values, snap });
    const o = made.outputs;
    const user = o.SshUser ?? SSH_USER;
    let nodes: string[];
    const extra: Record<string, string> = {};
    switch (template) {
      case 'WorkerCluster':
        nodes = await groupNodes(ctx, made.name, o.AutoScalingGroupName ?? o.ClusterNodeGroup ?? '', user);
        break;
      case 'BitbucketServer':
        if (!(o.PublicIp ?? o.PrivateIp)) {
          throw new E3Error('PROVISION', `stack ${made.name} has no PublicIp or PrivateIp output`, { hint: `Check the BitbucketServer template's Outputs, then \`e3 deprovision -r ${ctx.run}\`` });
        }
        nodes = [`${user}@${o.PublicIp ?? o.PrivateIp}`];
        break;
      case 'BitbucketDataCenter':
        nodes = await groupNodes(ctx, made.name, o.ClusterNodeGroup ?? '', user);
        if (o.FileServer) extra.FileServerConnectionString = `${user}@${o.FileServer}`;
        break;
      default:
        throw new Error(`template ${template} is not a machine`);
    }
    const isp = spec as InstanceSpec;
    const instance = {
      ...o,
      ...extra,
      ClusterNodes: nodes,
      Name: made.name,
      StackId: made.stackId,
      snapshot: isp.snapshot ?? '',
      RunConfig: {
        ...(part === 'instance' ? { admin_password: String(isp.settings?.admin_password ?? '3last1c') } : {}),
        network: net.name,
        owner: ctx.owner,
        run: ctx.run,
        expiresAt: ctx.expiresAt,
        public: String(options.public ?? true),
        ingress: made.cidrs.join(','),
        ...(made.worldOpen ? { ingressWarning: WORLD_WARNING } : {}),
        // The generated database passwords are not here: the run dir's secrets file (0600) holds them under the stack name.
        ...(made.secrets ? { secretsFile: made.secrets } : {}),
        template,
        ...(isp.name ? { name: isp.name } : {}),
        ...(isp.version ? { version: isp.version } : {}),
        ...(isp.snapshot ? { snapshot: isp.snapshot } : {}),
        properties: (isp.properties ?? []).join(','),
        parameters: isp.parameters ?? {},
        vpc: net.values.vpc,
        subnet1: net.values.subnet1,
        subnet2: net.values.subnet2,
      },
    };
    await writeJsonAtomic(homeFilePath(ctx.home, 'instance', made.name), instance, { mode: 0o600 });
    return instance as Instance;
  }

  async function deleteStack(ctx: ProviderContext, r: LedgerResource): Promise<void> {
    const c = clients(r.region);
    const target = r.id ?? r.name;
    await ctx.ledger.track('aws', 'delete', r, async () => {
      let retried = false;
      await c.cloudformation.send(new DeleteStackCommand({ StackName: target }));
      await poll<true>({
        what: `stack ${r.name} to be deleted`,
        clock: ctx.clock,
        signal: ctx.signal,
        timeoutMs: options.deleteTimeoutMs ?? 30 * 60_000,
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

  return {
    name: 'aws',
    async preflight(req, ctx) {
      region();
      await ingress(ctx);
      for (const part of req.parts) {
        const template = req.thread[part].template!;
        if (!isAwsTemplate(template) || template === 'PublicNetwork') {
          throw new E3Error('INVALID_FILE', `threads[${req.index}].${part}.template: ${template} is not a machine template`, {
            hint: 'Use BitbucketServer or BitbucketDataCenter for an instance, WorkerCluster for workers',
          });
        }
        await templateSource(ctx, template);
        await snapshotOf(ctx, req.thread[part] as InstanceSpec, template);
      }
      if (!options.network) await templateSource(ctx, 'PublicNetwork');
      else await network(ctx);
    },
    async provision(req, ctx) {
      const out: ProvisionedParts = {};
      const results = await Promise.allSettled(req.parts.map(async (part) => (out[part] = await provisionPart(ctx, req, part))));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return out;
    },
    async deprovision(resources, ctx) {
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
      out.push(...(await Promise.all(machines.map((r) => attempt(r, () => deleteStack(ctx, r))))));
      const deleteKey = (r: LedgerResource) => ctx.ledger.track('aws', 'delete', r, async () => void (await clients(r.region).ec2.send(new DeleteKeyPairCommand({ KeyName: r.name }))));
      out.push(...(await Promise.all(keys.map((r) => attempt(r, () => deleteKey(r))))));
      const blocked = out.some((d) => !d.ok);
      for (const r of networks) {
        if (blocked) out.push({ provider: 'aws', resource: r, ok: false, error: 'kept: a stack in it could not be deleted' });
        else out.push(await attempt(r, () => deleteStack(ctx, r)));
      }
      for (const r of resources.filter((x) => x.type !== 'stack' && x.type !== 'key-pair')) {
        out.push({ provider: 'aws', resource: r, ok: false, error: `unknown resource type ${r.type}` });
      }
      return out;
    },
  };
}
