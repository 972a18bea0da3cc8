import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { E3Error, TEMPLATES_DIR, builtinHome, findHomeFile, homeFilePath, homeRuleContext, isE3Error, loadFile, resolveHome, templateFileName, threadName, type Experiment, type Snapshot } from '@e3/model';

import { awsFailure, lazyClients, type AwsClients } from './aws/clients.js';
import { WORLD_WARNING, resolveIngress } from './aws/ingress.js';
import type { AwsProviderOptions } from './aws/runtime.js';
import { checkQuotas, type QuotaCheck, type QuotaNeeds } from './aws/quotas.js';
import { checkSnapshot } from './aws/snapshots.js';
import { STACK_PREFIX, SECRET_PARAMETERS, isAwsTemplate, stackParameters, type AwsTemplate } from './aws/templates.js';
import { defaultOwner } from './context.js';
import { SECRETS_FILE } from './secrets.js';
import { PARTS, type InstanceSpec } from './types.js';

/**
 * On-demand Linux prices in us-east-1, USD per hour, as published by AWS in 2025 — an estimate only:
 * other regions differ, and storage, IOPS, snapshots restore, data transfer and taxes are not counted.
 */
export const HOURLY_USD: Record<string, number> = {
  't3.medium': 0.0416,
  't3.large': 0.0832,
  'c5.large': 0.085,
  'c5.xlarge': 0.17,
  'c5.2xlarge': 0.34,
  'c5.4xlarge': 0.68,
  'm5.large': 0.096,
  'm5.xlarge': 0.192,
  'm5.2xlarge': 0.384,
  'm5.4xlarge': 0.768,
  'r5.large': 0.126,
  'r5.xlarge': 0.252,
  'db.m5.large': 0.171,
  'db.m5.xlarge': 0.342,
  'db.r5.large': 0.25,
  'application-load-balancer': 0.0225,
  'network-load-balancer': 0.0225,
};

/**
 * vCPUs of the EC2 instance types in {@link HOURLY_USD} (all of the standard on-demand families A, C, D,
 * H, I, M, R, T, Z), for the plan's quota check. A planned type missing here is named as unknown.
 */
export const VCPUS: Record<string, number> = {
  't3.medium': 2,
  't3.large': 2,
  'c5.large': 2,
  'c5.xlarge': 4,
  'c5.2xlarge': 8,
  'c5.4xlarge': 16,
  'm5.large': 2,
  'm5.xlarge': 4,
  'm5.2xlarge': 8,
  'm5.4xlarge': 16,
  'r5.large': 2,
  'r5.xlarge': 4,
};

export interface PlannedStack {
  thread: string;
  part: 'network' | 'instance' | 'worker';
  template: string;
  /** `stack-<prefix>-<owner>-<6 hex>`: the hex is drawn at creation. */
  stackName: string;
  /** A local file path or a URL; `not found` when neither exists. */
  templateSource: string;
  parameters: Record<string, string>;
  /** `LogicalId (Type)` of every resource in the template, when it is local. */
  resources: string[];
  snapshot?: { name: string; ebs?: string; rds?: string; es?: string; search?: { bucket: string; name: string }; check: string };
  cidrs: string[];
  /** Machines and their hourly price; unknown types are listed with no price. */
  machines: Array<{ type: string; count: number; usdPerHour?: number }>;
  usdPerHour: number;
}

export interface ProvisionPlan {
  experiment: string;
  region: string;
  stacks: PlannedStack[];
  /** Parts provisioned by other providers (byo, local): nothing is created for them in AWS. */
  others: Array<{ thread: string; part: string; provider: string }>;
  cidrs: string[];
  /** Read-only quota checks for the AWS stacks (empty when the plan makes none). */
  quotas: QuotaCheck[];
  warnings: string[];
  usdPerHour: number;
}

export interface PlanOptions {
  experiment: string;
  home?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  owner?: string;
  aws?: Omit<AwsProviderOptions, 'clients' | 'env'>;
  clients?: Partial<AwsClients>;
  /** Bound of each quota check (default 20 s). */
  quotaTimeoutMs?: number;
}

const REDACTED = `<generated at provision, kept in runs/<run>/${SECRETS_FILE}>`;

/**
 * What `e3 provision -e <experiment>` would create, without creating anything or writing any file: every
 * stack with its template, parameters (generated secrets redacted), resources, snapshot, allowed CIDRs
 * and an estimated hourly cost. AWS is only read (snapshot existence, the controller's address); with no
 * credentials those checks are reported as not made.
 */
export async function planProvision(options: PlanOptions): Promise<ProvisionPlan> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const home = resolveHome({ home: options.home, cwd, env });
  const file = findHomeFile(home, 'experiment', options.experiment) ?? (options.experiment.endsWith('.json') ? join(cwd, options.experiment) : homeFilePath(home, 'experiment', options.experiment));
  const experiment = await loadFile<Experiment>('experiment', file, homeRuleContext(home));
  const region = options.aws?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const clients = lazyClients(region, options.clients)();
  const owner = options.owner ?? defaultOwner(env);
  const anyAws = experiment.threads.some((t) => PARTS.some((p) => isAwsTemplate(t[p].template ?? '') && !t[p].stack?.Name));
  const warnings: string[] = [];
  if (anyAws && !(options.aws?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION)) warnings.push('no region set: planned for us-east-1 (pass --region or set AWS_REGION)');
  const lookup = anyAws ? resolveIngress({ cli: options.aws?.allowCidrs, experiment: experiment.allowCidrs, experimentFile: file, discover: clients.discoverPublicIp }) : Promise.resolve({ cidrs: [], worldOpen: false, warnings: [] });
  const ingress = await lookup.catch((err: unknown) => {
    if (!isE3Error(err) || err.code !== 'E3_ENVIRONMENT') throw err;
    warnings.push(`${err.message}; provision will stop unless --allow-cidr names your address`);
    return { cidrs: ['<this machine>/32'], worldOpen: false, warnings: [] };
  });
  warnings.push(...ingress.warnings);
  const stacks: PlannedStack[] = [];
  const others: ProvisionPlan['others'] = [];
  const snapshotChecks = new Map<string, Promise<string>>();
  const ctx = { home, region, owner, clients, cidrs: ingress.cidrs, options: options.aws ?? {}, snapshotChecks };
  if (!options.aws?.network && anyAws) {
    stacks.push(await planStack(ctx, '(run)', 'network', 'PublicNetwork', {}));
  }
  for (const [ti, thread] of experiment.threads.entries()) {
    const name = threadName(thread, ti);
    for (const part of PARTS) {
      const spec = thread[part];
      if (spec.stack?.Name || !isAwsTemplate(spec.template ?? '')) {
        others.push({ thread: name, part, provider: spec.stack?.Name ? `byo (${spec.stack.Name})` : (spec.template ?? '?') });
        continue;
      }
      stacks.push(await planStack(ctx, name, part, spec.template as AwsTemplate, spec as InstanceSpec));
    }
  }
  for (const t of new Set(stacks.filter((s) => s.templateSource.startsWith('not found')).map((s) => s.template))) {
    warnings.push(`no ${t} template found: e3 ships one in its own e3-home/templates; check --template-dir, or pass --template-url`);
  }
  warnings.push(...oldReleaseWarnings(stacks));
  const quotas = stacks.length ? await checkQuotas({ clients, region, needs: quotaNeeds(stacks), vcpusOf: (t) => VCPUS[t], timeoutMs: options.quotaTimeoutMs }) : [];
  for (const q of quotas.filter((x) => x.problem)) warnings.push(`quota ${q.quota}: ${q.outcome}`);
  const usdPerHour = stacks.reduce((a, s) => a + s.usdPerHour, 0);
  return { experiment: file, region, stacks, others, cidrs: ingress.cidrs, quotas, warnings, usdPerHour };
}

/**
 * One warning per Bitbucket release older than 8.0: e3's templates give it the Java it needs, but are
 * built and checked for 8.0 and later (OpenSearch 2 search, the start-up scripts of current releases).
 */
export function oldReleaseWarnings(stacks: PlannedStack[]): string[] {
  const old = new Map<string, string[]>();
  for (const s of stacks) {
    const v = s.parameters.BitbucketVersion;
    if (v && Number(v.split('.')[0]) < 8) old.set(v, [...(old.get(v) ?? []), s.thread]);
  }
  return [...old].map(
    ([v, threads]) =>
      `Bitbucket ${v} (thread${threads.length > 1 ? 's' : ''} ${threads.join(', ')}): e3's templates are built for Bitbucket 8.0 and later; this release gets the Java it needs, but its search and start-up are not checked — set "version" to a current release, with a snapshot taken from one`,
  );
}

/** What the planned stacks add to the account: EC2 vCPUs (RDS classes and load balancers are not EC2), a VPC per network, an RDS instance per Data Center. */
export function quotaNeeds(stacks: PlannedStack[]): QuotaNeeds {
  let vcpus = 0;
  const unknown = new Set<string>();
  let loadBalancers = 0;
  for (const m of stacks.flatMap((s) => s.machines)) {
    if (m.type.endsWith('-load-balancer')) loadBalancers += m.count;
    else if (m.type.startsWith('db.')) continue;
    else if (VCPUS[m.type] !== undefined) vcpus += VCPUS[m.type]! * m.count;
    else unknown.add(m.type);
  }
  return {
    vcpus,
    unknownTypes: [...unknown],
    vpcs: stacks.filter((s) => s.template === 'PublicNetwork').length,
    dbInstances: stacks.filter((s) => s.template === 'BitbucketDataCenter').length,
    stacks: stacks.length,
    loadBalancers,
  };
}

interface PlanCtx {
  home: string;
  region: string;
  owner: string;
  clients: AwsClients;
  cidrs: string[];
  options: Omit<AwsProviderOptions, 'clients' | 'env'>;
  snapshotChecks: Map<string, Promise<string>>;
}

async function planStack(ctx: PlanCtx, thread: string, part: PlannedStack['part'], template: AwsTemplate, spec: InstanceSpec): Promise<PlannedStack> {
  const { source, body } = await templateFile(ctx, template);
  const hasSnapshot = Boolean(spec.snapshot) && template !== 'WorkerCluster';
  const snapshot = hasSnapshot ? await planSnapshot(ctx, spec.snapshot!, template) : undefined;
  const network = part === 'network' ? undefined : ctx.options.network ? { vpc: `<VPC of ${ctx.options.network}>`, subnet1: '<Subnet1>', subnet2: '<Subnet2>' } : { vpc: '<network stack VPC>', subnet1: '<Subnet1>', subnet2: '<Subnet2>' };
  const name = `stack-${STACK_PREFIX[template]}-${ctx.owner.replace(/[^A-Za-z0-9-]/g, '-')}-<6 hex>`;
  const params = stackParameters({
    template,
    stackName: name,
    network,
    overrides: spec.parameters,
    version: spec.version,
    properties: spec.properties,
    public: ctx.options.public ?? true,
    homeVolumeSnapshotId: snapshot?.ebs,
    dbSnapshotArn: template === 'BitbucketDataCenter' ? snapshot?.rds : undefined,
    ...(template === 'BitbucketDataCenter' && snapshot?.search ? { searchSnapshot: snapshot.search } : {}),
    ingress: template === 'PublicNetwork' ? [] : ctx.cidrs,
    randomHex: () => '',
  });
  for (const k of Object.keys(params)) if (SECRET_PARAMETERS.has(k) && !(k === 'DBPassword' && snapshot?.rds)) params[k] = REDACTED;
  const defaults = templateDefaults(body);
  const machines = machinesOf(template, (k) => params[k] ?? defaults[k]);
  return {
    thread,
    part,
    template,
    stackName: name,
    templateSource: source,
    parameters: params,
    resources: Object.entries((body?.Resources ?? {}) as Record<string, { Type?: string }>).map(([id, r]) => `${id} (${r.Type ?? '?'})`),
    ...(snapshot ? { snapshot } : {}),
    cidrs: template === 'PublicNetwork' ? [] : ctx.cidrs,
    machines,
    usdPerHour: machines.reduce((a, m) => a + (m.usdPerHour ?? 0) * m.count, 0),
  };
}

/** The machines a stack runs, by the parameters it gets (or the template's defaults). */
function machinesOf(template: AwsTemplate, p: (key: string) => string | undefined): PlannedStack['machines'] {
  const m = (type: string | undefined, count: number) => ({ type: type ?? '?', count, ...(type && HOURLY_USD[type] !== undefined ? { usdPerHour: HOURLY_USD[type] } : {}) });
  switch (template) {
    case 'PublicNetwork':
      return [];
    case 'WorkerCluster':
      return [m(p('InstanceType'), Number(p('ClusterSize') ?? 1))];
    case 'BitbucketServer':
      return [m(p('InstanceType'), 1)];
    case 'BitbucketDataCenter':
      // The shipped template: nodes, RDS, file server, an internet-facing and an internal ALB, an internal NLB.
      return [m(p('ClusterNodeInstanceType'), Number(p('ClusterNodeMin') ?? 1)), m(p('DBInstanceClass'), 1), m(p('FileServerInstanceType'), 1), m('application-load-balancer', 2), m('network-load-balancer', 1)];
  }
}

function templateDefaults(body: { Parameters?: Record<string, { Default?: unknown }> } | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(body?.Parameters ?? {}).filter(([, v]) => v.Default !== undefined).map(([k, v]) => [k, String(v.Default)]));
}

/** A local template's JSON; E3_INVALID_FILE naming the file when it is not JSON (e3 reads JSON templates only). */
function parseTemplate(file: string, text: string): { Parameters?: Record<string, { Default?: unknown }>; Resources?: unknown } {
  try {
    return JSON.parse(text) as { Parameters?: Record<string, { Default?: unknown }>; Resources?: unknown };
  } catch (err) {
    throw new E3Error('INVALID_FILE', `${file}: not a JSON CloudFormation template: ${(err as Error).message}`, {
      hint: 'Fix the file (e3 reads JSON templates, not YAML), or remove it to use the one e3 ships',
    });
  }
}

/** The template as provision would find it: local file (parsed), else the URL, else `not found`. */
async function templateFile(ctx: PlanCtx, template: AwsTemplate): Promise<{ source: string; body?: { Parameters?: Record<string, { Default?: unknown }>; Resources?: unknown } }> {
  const dirs = ctx.options.templateDir ? [ctx.options.templateDir] : [...new Set([join(ctx.home, TEMPLATES_DIR), ...(builtinHome() ? [join(builtinHome()!, TEMPLATES_DIR)] : [])])];
  for (const dir of dirs) {
    const file = join(dir, templateFileName(template));
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) return { source: file, body: parseTemplate(file, text) };
  }
  if (ctx.options.templateUrl) return { source: `${ctx.options.templateUrl.replace(/\/$/, '')}/${templateFileName(template)}` };
  return { source: `not found in ${dirs.join(' or ')} (provision will stop; pass --template-dir or --template-url)` };
}

/** The snapshot ids a stack restores, with the read-only existence check's outcome. */
async function planSnapshot(ctx: PlanCtx, name: string, template: AwsTemplate): Promise<NonNullable<PlannedStack['snapshot']>> {
  const file = findHomeFile(ctx.home, 'snapshot', name);
  if (!file) throw new E3Error('FILE_NOT_FOUND', `snapshot descriptor snapshots/${name}.json not found in ${ctx.home}`, { hint: 'Create it with `e3 snapshot`, or fix "snapshot" in the experiment' });
  const d = await loadFile<Snapshot & { es?: { bucket?: string; snapshot?: string; id?: string } }>('snapshot', file);
  const key = `${name}:${template}`;
  if (!ctx.snapshotChecks.has(key)) {
    const check = checkSnapshot({ home: ctx.home, snapshot: name, region: ctx.region, needsDatabase: template === 'BitbucketDataCenter', clients: ctx.clients }).then(
      () => 'exists (checked read-only)',
      (err: unknown) => (isE3Error(err) && err.code === 'E3_ENVIRONMENT') || awsFailure(err, '')?.code === 'E3_ENVIRONMENT' ? 'not checked: no AWS credentials' : `PROBLEM: ${(err as Error).message}`,
    );
    ctx.snapshotChecks.set(key, check);
  }
  return {
    name,
    ...(d.ebs?.[ctx.region] ? { ebs: d.ebs[ctx.region] } : {}),
    ...(template === 'BitbucketDataCenter' && d.rds ? { rds: `arn:aws:rds:${ctx.region}:${d.rds.account}:snapshot:${d.rds.id}` } : {}),
    ...(d.es?.bucket && (d.es.snapshot ?? d.es.id) ? { es: `s3://${d.es.bucket}/snap-${d.es.snapshot ?? d.es.id}.dat`, search: { bucket: d.es.bucket, name: (d.es.snapshot ?? d.es.id)! } } : {}),
    check: await ctx.snapshotChecks.get(key)!,
  };
}

/** The plan for people: one block per stack, then the warnings and the estimated total. */
export function formatPlan(plan: ProvisionPlan): string {
  const usd = (n: number) => `$${n.toFixed(2)}`;
  const lines = [`plan for ${plan.experiment} in ${plan.region} (nothing is created)`, `ingress: ${plan.cidrs.join(', ') || 'none (no AWS machines)'}`, ''];
  for (const s of plan.stacks) {
    lines.push(`${s.template} stack ${s.stackName}  [thread ${s.thread}, ${s.part}]`, `  template: ${s.templateSource}`);
    if (s.snapshot) lines.push(`  restores snapshot ${s.snapshot.name}: ${[s.snapshot.ebs && `EBS ${s.snapshot.ebs}`, s.snapshot.rds && `RDS ${s.snapshot.rds}`, s.snapshot.es && `search ${s.snapshot.es}`].filter(Boolean).join(', ')} — ${s.snapshot.check}`);
    if (s.cidrs.length) lines.push(`  allows: ${s.cidrs.join(', ')}`);
    lines.push('  parameters:', ...Object.entries(s.parameters).map(([k, v]) => `    ${k} = ${v}`));
    if (s.resources.length) lines.push(`  resources: ${s.resources.join(', ')}`);
    if (s.machines.length) lines.push(`  machines: ${s.machines.map((m) => `${m.count} × ${m.type} (${m.usdPerHour === undefined ? 'no price' : `${usd(m.usdPerHour)}/h`})`).join(', ')} ≈ ${usd(s.usdPerHour)}/h`);
    lines.push('');
  }
  for (const o of plan.others) lines.push(`thread ${o.thread} ${o.part}: ${o.provider} (nothing created in AWS)`);
  if (plan.quotas.length) lines.push(`quotas in ${plan.region} (read-only checks):`, ...plan.quotas.map((q) => `  ${q.quota}: ${q.outcome}`), '');
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  if (plan.cidrs.includes('0.0.0.0/0') && !plan.warnings.includes(WORLD_WARNING)) lines.push(`warning: ${WORLD_WARNING}`);
  lines.push(`estimated cost: ${usd(plan.usdPerHour)} per hour while the machines exist (on-demand compute in us-east-1; storage, IOPS, data transfer extra — an estimate, not a quote)`);
  return lines.join('\n');
}
