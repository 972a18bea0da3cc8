import { E3Error } from '@e3/model';

/**
 * Who may reach the machines e3 provisions: the controller's own public address (/32), plus the CIDRs
 * the experiment (`allowCidrs`) or `--allow-cidr` names. Workers reach the system under test inside the
 * VPC; nothing is open to the world unless `0.0.0.0/0` is asked for explicitly.
 */

/** The templates take at most this many CIDRs: `CidrBlock`, `CidrBlock2` … `CidrBlock4`. */
export const MAX_CIDRS = 4;
export const WORLD = '0.0.0.0/0';

/** Read-only: the controller's public IPv4 address as AWS sees it. */
export type DiscoverPublicIp = (signal?: AbortSignal) => Promise<string>;

/** AWS's own "what is my address" endpoint: a GET that creates nothing and needs no credentials. */
export const CHECKIP_URL = 'https://checkip.amazonaws.com/';

/** Where the controller's address is asked for: `E3_CHECKIP_URL` (a service of your own behind a proxy), else {@link CHECKIP_URL}. */
export const checkipUrl = (env: NodeJS.ProcessEnv = process.env): string => env.E3_CHECKIP_URL || CHECKIP_URL;

/** Asks {@link checkipUrl} (5 s limit) for the controller's public address: a body holding just the IPv4 address. */
export const checkipPublicIp: DiscoverPublicIp = async (signal) => {
  const url = checkipUrl();
  const timeout = AbortSignal.timeout(5_000);
  const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return (await res.text()).trim();
};

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** `a.b.c.d/n` with every octet ≤ 255 and n ≤ 32, or undefined. */
export function normalCidr(text: string): string | undefined {
  const [ip, bits, ...rest] = text.trim().split('/');
  if (rest.length || !ip || !IPV4.test(ip) || ip.split('.').some((o) => Number(o) > 255)) return undefined;
  if (bits === undefined) return `${ip}/32`;
  if (!/^\d{1,2}$/.test(bits) || Number(bits) > 32) return undefined;
  return `${ip}/${Number(bits)}`;
}

/** The CIDRs each machine stack allows, and why. */
export interface Ingress {
  cidrs: string[];
  /** The controller's address as a /32, when it was found. */
  controller?: string;
  /** True when `0.0.0.0/0` was asked for. */
  worldOpen: boolean;
  /** What people must be told (world-open ingress, controller address not found). */
  warnings: string[];
}

export interface IngressInput {
  /** `--allow-cidr` values. */
  cli?: readonly string[];
  /** The experiment's `allowCidrs`. */
  experiment?: readonly string[];
  experimentFile?: string;
  discover: DiscoverPublicIp;
  signal?: AbortSignal;
}

/** One line for the plan, the run file and the log when the world is let in. */
export const WORLD_WARNING = `ingress ${WORLD} was asked for: SSH, HTTP and git of these machines are open to the whole internet, and they hold a copy of your data`;

/**
 * Resolves the ingress of a run: the discovered controller /32 first, then the named CIDRs, without
 * duplicates. Throws E3_USAGE for a bad CIDR or more than {@link MAX_CIDRS}, E3_ENVIRONMENT when the
 * address cannot be found and no CIDR was named.
 */
export async function resolveIngress(input: IngressInput): Promise<Ingress> {
  const named: string[] = [];
  const add = (list: readonly string[] | undefined, where: (i: number) => string) =>
    list?.forEach((raw, i) => {
      const c = typeof raw === 'string' ? normalCidr(raw) : undefined;
      if (!c) throw new E3Error('USAGE', `${where(i)}: ${JSON.stringify(raw)} is not an IPv4 CIDR`, { hint: 'Use e.g. 203.0.113.7/32 or 10.20.0.0/16' });
      if (!named.includes(c)) named.push(c);
    });
  add(input.experiment, (i) => `${input.experimentFile ?? 'the experiment'}: /allowCidrs/${i}`);
  add(input.cli, () => '--allow-cidr');
  const warnings: string[] = [];
  let controller: string | undefined;
  try {
    const ip = (await input.discover(input.signal)).trim();
    controller = IPV4.test(ip) ? normalCidr(ip) : undefined;
    if (!controller) throw new Error(`not an IPv4 address: ${JSON.stringify(ip.slice(0, 60))}`);
  } catch (err) {
    input.signal?.throwIfAborted();
    const why = `cannot find this machine's public address (${checkipUrl()}): ${(err as Error).message}`;
    if (named.length === 0) {
      throw new E3Error('ENVIRONMENT', why, { hint: 'Pass --allow-cidr <your public address>/32 (the address e3 and you connect from)' });
    }
    warnings.push(`${why}; only ${named.join(', ')} may reach the machines`);
  }
  const cidrs = [...(controller ? [controller] : []), ...named.filter((c) => c !== controller)];
  if (cidrs.length > MAX_CIDRS) {
    throw new E3Error('USAGE', `${cidrs.length} ingress CIDRs (${cidrs.join(', ')}): the templates take at most ${MAX_CIDRS}, the controller's address included`, {
      hint: 'Merge them into wider CIDRs in allowCidrs / --allow-cidr',
    });
  }
  const worldOpen = cidrs.includes(WORLD);
  if (worldOpen) warnings.push(WORLD_WARNING);
  return { cidrs, ...(controller ? { controller } : {}), worldOpen, warnings };
}

/** Template parameters for `cidrs`: `CidrBlock`, then `CidrBlock2` … only as many as there are. */
export function ingressParameters(cidrs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  cidrs.forEach((c, i) => (out[i === 0 ? 'CidrBlock' : `CidrBlock${i + 1}`] = c));
  return out;
}
