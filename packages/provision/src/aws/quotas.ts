import { DescribeAccountLimitsCommand, ListStacksCommand, StackStatus } from '@aws-sdk/client-cloudformation';
import { DescribeInstancesCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand } from '@aws-sdk/client-service-quotas';

import { awsErrorName, awsFailure, type AwsClients } from './clients.js';

/**
 * Read-only quota checks for a plan: what the plan needs against the account's quota and current use in
 * the region. Every call is a Get/Describe/List; nothing is created or changed.
 */

/** What a plan would add to the account. */
export interface QuotaNeeds {
  /** vCPUs of the planned EC2 instances of the standard families (A, C, D, H, I, M, R, T, Z). */
  vcpus: number;
  /** Planned EC2 instance types whose vCPUs e3 does not know (not counted in `vcpus`). */
  unknownTypes: string[];
  vpcs: number;
  dbInstances: number;
  stacks: number;
  loadBalancers: number;
}

/** One quota check and its outcome. */
export interface QuotaCheck {
  quota: string;
  /** Service Quotas service and quota code, when the quota has one. */
  service?: string;
  code?: string;
  /** What the plan adds. */
  need: number;
  /** The account's quota and what is in use now, when they could be read. */
  limit?: number;
  inUse?: number;
  /** `ok (…)`, `PROBLEM: …` or `not checked: …`. */
  outcome: string;
  problem: boolean;
}

/** The AWS permission a failing call needs, carried with its error. */
class CallError extends Error {
  readonly permission: string;
  readonly original: unknown;
  constructor(permission: string, original: unknown) {
    super((original as Error)?.message ?? String(original));
    this.permission = permission;
    this.original = original;
  }
}

class QuotaTimeout extends Error {}

const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation', 'UnrecognizedClientException', 'AuthFailure']);

/** A send bounded by `signal`, its failure tagged with the permission it needs. */
async function call<T>(permission: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    throw new CallError(permission, err);
  }
}

type Send = { abortSignal: AbortSignal };

/** Instance types of the standard on-demand quota: A, C, D, H, I, M, R, T, Z families (not Inf, DL, Trn, HPC, Mac, u-). */
export function isStandardType(type: string): boolean {
  const family = type.split('.')[0] ?? '';
  return /^[acdhimrtz]/.test(family) && !/^(inf|dl|trn|hpc|mac|u-)/.test(family);
}

async function paginate<P>(page: (token: string | undefined) => Promise<{ items: P[]; next?: string }>): Promise<P[]> {
  const all: P[] = [];
  let token: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const r = await page(token);
    all.push(...r.items);
    if (!r.next) break;
    token = r.next;
  }
  return all;
}

/** How many items every page of a read-only listing holds; a failing page is tagged with `permission`. */
async function countAll<P>(permission: string, page: (token: string | undefined) => Promise<{ items: P[]; next?: string }>): Promise<number> {
  return (await paginate((token) => call(permission, () => page(token)))).length;
}

/** The applied quota value, else (NoSuchResource: never changed) AWS's default. */
async function serviceQuota(clients: AwsClients, service: string, code: string, opt: Send): Promise<number> {
  try {
    const res = await call('servicequotas:GetServiceQuota', () => clients.serviceQuotas.send(new GetServiceQuotaCommand({ ServiceCode: service, QuotaCode: code }), opt));
    if (res.Quota?.Value === undefined) throw new CallError('servicequotas:GetServiceQuota', new Error(`no value for quota ${service}/${code}`));
    return res.Quota.Value;
  } catch (err) {
    if (!(err instanceof CallError) || awsErrorName(err.original) !== 'NoSuchResourceException') throw err;
    const res = await call('servicequotas:GetAWSDefaultServiceQuota', () => clients.serviceQuotas.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: service, QuotaCode: code }), opt));
    if (res.Quota?.Value === undefined) throw new CallError('servicequotas:GetAWSDefaultServiceQuota', new Error(`no default value for quota ${service}/${code}`));
    return res.Quota.Value;
  }
}

/** vCPUs of running and pending standard-family instances in the region. */
async function standardVcpusInUse(clients: AwsClients, opt: Send, vcpusOf: (type: string) => number | undefined): Promise<number> {
  const instances = await paginate(async (NextToken) => {
    const r = await call('ec2:DescribeInstances', () =>
      clients.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }], MaxResults: 1000, NextToken }), opt),
    );
    return { items: (r.Reservations ?? []).flatMap((x) => x.Instances ?? []), next: r.NextToken };
  });
  let sum = 0;
  for (const i of instances) {
    const type = String(i.InstanceType ?? '');
    if (!isStandardType(type)) continue;
    const c = i.CpuOptions;
    sum += c?.CoreCount ? c.CoreCount * (c.ThreadsPerCore ?? 1) : (vcpusOf(type) ?? 0);
  }
  return sum;
}

/** Non-deleted stacks, as CloudFormation counts them against its stack limit. */
const ACTIVE_STACK_STATUSES = Object.values(StackStatus).filter((s) => s !== StackStatus.DELETE_COMPLETE);

async function stackLimit(clients: AwsClients, opt: Send): Promise<number> {
  const limits = await paginate(async (NextToken) => {
    const r = await call('cloudformation:DescribeAccountLimits', () => clients.cloudformation.send(new DescribeAccountLimitsCommand({ NextToken }), opt));
    return { items: r.AccountLimits ?? [], next: r.NextToken };
  });
  const v = limits.find((l) => l.Name === 'StackLimit')?.Value;
  if (v === undefined) throw new CallError('cloudformation:DescribeAccountLimits', new Error('no StackLimit in the account limits'));
  return v;
}

interface CheckSpec {
  quota: string;
  service?: string;
  code?: string;
  need: number;
  limit(opt: Send): Promise<number>;
  inUse(opt: Send): Promise<number>;
  /** Appended to the outcome (e.g. types not counted). */
  note?: string;
}

/** Where to ask for more: the quota's page in the Service Quotas console. */
export function quotaConsoleUrl(region: string, service: string, code: string): string {
  return `https://${region}.console.aws.amazon.com/servicequotas/home/services/${service}/quotas/${code}`;
}

/** The reason a check could not be made, from the error of one of its calls. */
function notChecked(err: unknown, timeoutMs: number): string {
  if (err instanceof QuotaTimeout) return `not checked: no answer from AWS within ${timeoutMs / 1000} s`;
  const original = err instanceof CallError ? err.original : err;
  if (awsFailure(original, '')?.code === 'E3_ENVIRONMENT') return 'not checked: no AWS credentials';
  const name = awsErrorName(original) || 'Error';
  const message = (original as Error)?.message ?? String(original);
  if (err instanceof CallError && ACCESS_DENIED.has(name)) return `not checked: ${name}: ${message} (needs ${err.permission})`;
  if (name === 'AbortError') return `not checked: no answer from AWS within ${timeoutMs / 1000} s`;
  return `not checked: ${name}: ${message}`;
}

async function runCheck(spec: CheckSpec, region: string, timeoutMs: number): Promise<QuotaCheck> {
  const base = { quota: spec.quota, ...(spec.service ? { service: spec.service, code: spec.code } : {}), need: spec.need };
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new QuotaTimeout());
      ac.abort();
    }, timeoutMs);
    timer.unref?.();
  });
  try {
    const opt = { abortSignal: ac.signal };
    const [limit, inUse] = await Promise.race([Promise.all([spec.limit(opt), spec.inUse(opt)]), timeout]);
    const note = spec.note ? `; ${spec.note}` : '';
    if (spec.need + inUse <= limit) return { ...base, limit, inUse, outcome: `ok (need ${spec.need} of ${limit}, ${inUse} in use)${note}`, problem: false };
    const where = spec.service && spec.code ? quotaConsoleUrl(region, spec.service, spec.code) : 'the Service Quotas console';
    return { ...base, limit, inUse, outcome: `PROBLEM: need ${spec.need}, ${limit} allowed, ${inUse} in use → ask AWS for more at ${where}${note}`, problem: true };
  } catch (err) {
    if (!(err instanceof CallError || err instanceof QuotaTimeout)) throw err;
    return { ...base, outcome: notChecked(err, timeoutMs), problem: false };
  } finally {
    clearTimeout(timer);
  }
}

export interface QuotaCheckInput {
  clients: AwsClients;
  region: string;
  needs: QuotaNeeds;
  /** vCPUs of an instance type DescribeInstances gave no CpuOptions for. */
  vcpusOf(type: string): number | undefined;
  /** Each check's bound (default 20 s): a check with no answer by then is reported as not checked. */
  timeoutMs?: number;
}

/** EC2 standard vCPUs, VPCs, RDS instances and CloudFormation stacks, checked in parallel; load balancers counted only. */
export async function checkQuotas(input: QuotaCheckInput): Promise<QuotaCheck[]> {
  const { clients, needs } = input;
  const timeoutMs = input.timeoutMs ?? 20_000;
  const specs: CheckSpec[] = [
    {
      quota: 'EC2 Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances, vCPUs',
      service: 'ec2',
      code: 'L-1216C47A',
      need: needs.vcpus,
      limit: (opt) => serviceQuota(clients, 'ec2', 'L-1216C47A', opt),
      inUse: (opt) => standardVcpusInUse(clients, opt, input.vcpusOf),
      ...(needs.unknownTypes.length ? { note: `vCPUs of ${needs.unknownTypes.join(', ')} unknown to e3, not counted` } : {}),
    },
    {
      quota: 'VPCs per region',
      service: 'vpc',
      code: 'L-F678F1CE',
      need: needs.vpcs,
      limit: (opt) => serviceQuota(clients, 'vpc', 'L-F678F1CE', opt),
      inUse: (opt) =>
        countAll('ec2:DescribeVpcs', async (NextToken) => {
          const r = await clients.ec2.send(new DescribeVpcsCommand({ NextToken }), opt);
          return { items: r.Vpcs ?? [], next: r.NextToken };
        }),
    },
    {
      quota: 'RDS DB instances',
      service: 'rds',
      code: 'L-7B6409FD',
      need: needs.dbInstances,
      limit: (opt) => serviceQuota(clients, 'rds', 'L-7B6409FD', opt),
      inUse: (opt) =>
        countAll('rds:DescribeDBInstances', async (Marker) => {
          const r = await clients.rds.send(new DescribeDBInstancesCommand({ Marker }), opt);
          return { items: r.DBInstances ?? [], next: r.Marker };
        }),
    },
    {
      quota: 'CloudFormation stacks',
      service: 'cloudformation',
      code: 'L-0485CB21',
      need: needs.stacks,
      limit: (opt) => stackLimit(clients, opt),
      inUse: (opt) =>
        countAll('cloudformation:ListStacks', async (NextToken) => {
          const r = await clients.cloudformation.send(new ListStacksCommand({ NextToken, StackStatusFilter: ACTIVE_STACK_STATUSES }), opt);
          return { items: r.StackSummaries ?? [], next: r.NextToken };
        }),
    },
  ];
  const checks = await Promise.all(specs.map((s) => runCheck(s, input.region, timeoutMs)));
  if (needs.loadBalancers > 0) {
    checks.push({ quota: 'Load balancers (application and network)', need: needs.loadBalancers, outcome: `not checked: e3 does not read the Elastic Load Balancing quota; the plan makes ${needs.loadBalancers}`, problem: false });
  }
  return checks;
}
