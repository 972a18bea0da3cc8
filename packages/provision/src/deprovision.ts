import { access, mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { DescribeKeyPairsCommand } from '@aws-sdk/client-ec2';
import {
  E3Error,
  HOME_DIRS,
  archivedRunDir,
  homeFilePath,
  instanceKeyFileName,
  isArchivedRunDir,
  readPhaseStatus,
  readRunFile,
  resolveHome,
  resolveRunDir,
  runDirPaths,
  withPhase,
  type LedgerEntry,
} from '@e3/model';

import { awsFailure, lazyClients, type AwsClients } from './aws/clients.js';
import type { AwsProviderOptions } from './aws/provider.js';
import { isAwsTemplate } from './aws/templates.js';
import { defaultOwner, defaultRandomHex, memo } from './context.js';
import { memoryLedger, openLedger, outstandingResources, readLedger, type OutstandingResource } from './ledger.js';
import { defaultProviders, providerByName } from './registry.js';
import type { Clock, DeletedResource, LedgerResource, ProviderContext, ProviderRegistry } from './types.js';
import { systemClock } from './wait.js';

export interface DeprovisionOptions {
  /** Delete everything the run's ledger says may exist, then archive `runs/<run>` to `archive/<run>`. */
  run?: string;
  /** Delete one stack (and its key pair) by name. */
  stack?: string;
  /** Delete every e3-tagged stack and key pair of `owner`. */
  all?: boolean;
  owner?: string;
  /** Delete every e3-tagged stack and key pair whose `e3:expires-at` has passed. */
  expired?: boolean;
  home?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  aws?: Omit<AwsProviderOptions, 'clients' | 'env'>;
  clients?: Partial<AwsClients>;
  providers?: ProviderRegistry;
  clock?: Clock;
  log?: (message: string) => void;
  signal?: AbortSignal;
  /**
   * Run mode: removes the run's scratch (user keys among it) from its workers before any machine is
   * deleted (`@e3/run`'s removeRunDirScratch; the CLI passes it). Best effort: it logs, never throws.
   */
  cleanWorkers?: (runDir: string, run: string) => Promise<unknown>;
}

export interface DeprovisionResult {
  mode: 'run' | 'stack' | 'all' | 'expired';
  run?: string;
  /** Every resource deprovision tried to delete, with its outcome. */
  deleted: DeletedResource[];
  /** Where the run went (`archive/<run>`), in run mode. */
  archivedTo?: string;
  /** True when the run was already archived: nothing was done. */
  alreadyArchived?: boolean;
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

/**
 * Deletes machines. Exactly one mode: `run` (everything its ledger says may exist, not only what the run
 * file knows; waits until deletion completes; moves the instance files and pems it made into the run dir
 * and the run dir to `archive/<run>`), `stack`, `all` (with `owner`) or `expired`. Idempotent: running it
 * again deletes nothing and succeeds. Writes `phases/deprovision.json` in run mode.
 *
 * Throws E3_USAGE (modes), E3_RUN_NOT_FOUND, E3_PROVISION (some resource could not be deleted: the run
 * stays in runs/ and the error lists what is left), E3_ENVIRONMENT (no region).
 */
export async function deprovision(options: DeprovisionOptions): Promise<DeprovisionResult> {
  try {
    return await deprovisionUnwrapped(options);
  } catch (err) {
    throw awsFailure(err, 'deprovisioning', 'Fix the cause, then run the same `e3 deprovision` again: it continues where it stopped') ?? err;
  }
}

async function deprovisionUnwrapped(options: DeprovisionOptions): Promise<DeprovisionResult> {
  const env = options.env ?? process.env;
  const home = resolveHome({ home: options.home, cwd: options.cwd, env });
  const modes = [options.run !== undefined, options.stack !== undefined, Boolean(options.all), Boolean(options.expired)].filter(Boolean).length;
  if (modes !== 1) {
    throw new E3Error('USAGE', 'deprovision needs exactly one of -r <run>, --stack <name>, --all --owner <owner>, --expired', {
      hint: 'Run `e3 deprovision -r <run>` to delete what a run created (see `e3 list runs`)',
    });
  }
  if (options.all && !options.owner) {
    throw new E3Error('USAGE', '--all deletes every e3 resource of one owner: --owner is required', { hint: `Run \`e3 deprovision --all --owner ${defaultOwner(env)}\`` });
  }
  const registry: ProviderRegistry = {
    ...defaultProviders({ aws: { ...options.aws, clients: options.clients, env } }),
    ...options.providers,
  };
  const clock = options.clock ?? systemClock;
  const baseCtx = (runDir: string, run: string, ledger: ProviderContext['ledger']): ProviderContext => ({
    home,
    runDir,
    run,
    owner: options.owner ?? defaultOwner(env),
    expiresAt: '',
    ledger,
    clock,
    randomHex: defaultRandomHex,
    once: memo(),
    log: options.log ?? (() => undefined),
    signal: options.signal,
  });

  if (options.run !== undefined) return deprovisionRun(options.run, home, registry, clock, baseCtx, options.cwd, options.cleanWorkers);

  const region = options.aws?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new E3Error('ENVIRONMENT', 'no AWS region', { hint: 'Pass --region <region> or set AWS_REGION' });
  const clients = lazyClients(region, options.clients)();
  let found: Array<OutstandingResource & { run?: string }>;
  if (options.stack !== undefined) {
    found = await stackResources(clients, options.stack, region);
  } else {
    const now = clock.now();
    found = await taggedResources(clients, region, (tags) =>
      options.all ? tags['e3:owner'] === options.owner : Boolean(tags['e3:expires-at']) && Date.parse(tags['e3:expires-at']!) <= now,
    );
  }
  const byRun = new Map<string, typeof found>();
  for (const r of found) byRun.set(r.run ?? '', [...(byRun.get(r.run ?? '') ?? []), r]);
  const deleted: DeletedResource[] = [];
  for (const [run, list] of byRun) {
    const runDir = run ? join(home, HOME_DIRS.run, run) : '';
    const hasRunDir = run !== '' && (await exists(runDir));
    const ledger = hasRunDir ? openLedger(runDirPaths(runDir).ledger, { run, now: () => clock.now() }) : memoryLedger();
    const ctx = baseCtx(runDir, run, ledger);
    const provider = providerByName(registry, 'aws')!;
    const done = await provider.deprovision(list.map((r) => r.resource), ctx);
    deleted.push(...done);
    for (const d of done.filter((x) => x.ok)) {
      for (const file of filesOf(home, d.resource)) {
        if (hasRunDir) await moveInto(file, runDirPaths(runDir).instancesDir);
        else await rm(file, { force: true });
      }
    }
  }
  const mode = options.stack !== undefined ? 'stack' : options.all ? 'all' : 'expired';
  failIfLeft(deleted, mode === 'stack' ? `e3 deprovision --stack ${options.stack}` : mode === 'all' ? `e3 deprovision --all --owner ${options.owner}` : 'e3 deprovision --expired');
  return { mode, deleted };
}

async function deprovisionRun(
  run: string,
  home: string,
  registry: ProviderRegistry,
  clock: Clock,
  baseCtx: (runDir: string, run: string, ledger: ProviderContext['ledger']) => ProviderContext,
  cwd?: string,
  cleanWorkers?: DeprovisionOptions['cleanWorkers'],
): Promise<DeprovisionResult> {
  const runDir = resolveRunDir(home, run, { cwd });
  const name = basename(runDir);
  const archived = archivedRunDir(home, name);
  if (isArchivedRunDir(home, runDir)) return { mode: 'run', run: name, deleted: [], archivedTo: runDir, alreadyArchived: true };
  const prov = await readPhaseStatus(runDir, 'provision').catch(() => undefined);
  if (prov?.status === 'running' && prov.pid && prov.pid !== process.pid && isAlive(prov.pid)) {
    throw new E3Error('PHASE_NOT_READY', `provision of ${name} is still running (pid ${prov.pid})`, {
      hint: `Wait for it to finish or stop it (\`kill ${prov.pid}\`), then run \`e3 deprovision -r ${name}\``,
    });
  }
  const paths = runDirPaths(runDir);
  const ctx = baseCtx(runDir, name, openLedger(paths.ledger, { run: name, now: () => clock.now() }));
  const deleted = await withPhase(runDir, 'deprovision', async () => {
    await cleanWorkers?.(runDir, name).catch((err: unknown) => ctx.log(`could not remove the run's scratch from its workers: ${(err as Error).message}`));
    return deleteRunResources(home, runDir, name, registry, ctx);
  }, { now: () => clock.now(), signal: ctx.signal });
  await mkdir(dirname(archived), { recursive: true });
  if (await exists(archived)) {
    throw new E3Error('IO', `cannot archive ${runDir}: ${archived} already exists`, { hint: `Move ${archived} away, then run \`e3 deprovision -r ${name}\` again` });
  }
  await rename(runDir, archived);
  return { mode: 'run', run: name, deleted, archivedTo: archived };
}

/** Deletes every resource the run's ledger (or an E³ run file) says may exist, and moves their files into the run dir. */
async function deleteRunResources(home: string, runDir: string, run: string, registry: ProviderRegistry, ctx: ProviderContext): Promise<DeletedResource[]> {
  const paths = runDirPaths(runDir);
  const entries = await readLedger(paths.ledger);
  const outstanding = entries.length ? outstandingResources(entries) : await e3RunFileStacks(runDir);
  const byProvider = new Map<string, LedgerResource[]>();
  for (const o of outstanding) byProvider.set(o.provider, [...(byProvider.get(o.provider) ?? []), o.resource]);
  const deleted: DeletedResource[] = [];
  for (const [name, resources] of byProvider) {
    const provider = providerByName(registry, name);
    if (!provider) {
      throw new E3Error('PROVISION', `${paths.ledger}: resources of provider "${name}" remain (${resources.map((r) => r.name).join(', ')}) but no such provider is available`, {
        hint: name === 'local' ? `Run \`e3 orchestrate\`'s deprovision for local runs, or stop the local target by hand` : `Delete them by hand, then run \`e3 deprovision -r ${run}\` again`,
      });
    }
    deleted.push(...(await provider.deprovision(resources, ctx)));
  }
  failIfLeft(deleted, `e3 deprovision -r ${run}`);
  // Files of every resource the run created, deleted now or by an earlier deprovision.
  const all = entries.length ? entries.filter((e: LedgerEntry) => e.action === 'create').map((e) => e.resource) : outstanding.map((o) => o.resource);
  for (const r of all) for (const file of filesOf(home, r)) await moveInto(file, paths.instancesDir);
  return deleted;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function failIfLeft(deleted: DeletedResource[], again: string): void {
  const left = deleted.filter((d) => !d.ok);
  if (left.length) {
    throw new E3Error('PROVISION', `${left.length} resource(s) could not be deleted:\n  ${left.map((d) => `${d.resource.type} ${d.resource.name}: ${d.error}`).join('\n  ')}`, {
      hint: `Fix the cause (see the CloudFormation console), then run \`${again}\` again`,
      details: { left: left.map((d) => d.resource) },
    });
  }
}

/** Local files a resource left: its recorded `file`, and for stacks the instance file and pem of that name. */
function filesOf(home: string, r: LedgerResource): string[] {
  if (r.type === 'stack') {
    const json = homeFilePath(home, 'instance', r.name);
    return [json, join(dirname(json), instanceKeyFileName(r.name))];
  }
  if (r.file) return [join(home, r.file)];
  return [];
}

async function moveInto(file: string, dir: string): Promise<void> {
  if (!(await exists(file))) return;
  await mkdir(dir, { recursive: true });
  await rename(file, join(dir, basename(file)));
}

/** An E³ run (no ledger): the CloudFormation stacks its run file names, with their networks. */
async function e3RunFileStacks(runDir: string): Promise<OutstandingResource[]> {
  const rf = await readRunFile(runDir);
  const out = new Map<string, OutstandingResource>();
  for (const t of rf.threads) {
    for (const part of ['worker', 'instance'] as const) {
      const s = t[part].stack as (Record<string, unknown> & { Name: string; StackId?: string; RunConfig?: { network?: string } }) | undefined;
      if (!s?.StackId || !t[part].template || !isAwsTemplate(t[part].template!)) continue;
      out.set(s.Name, { provider: 'aws', resource: { type: 'stack', name: s.Name, id: s.StackId, template: t[part].template } });
      out.set(`key:${s.Name}`, { provider: 'aws', resource: { type: 'key-pair', name: s.Name } });
      const net = s.RunConfig?.network;
      if (net) out.set(net, { provider: 'aws', resource: { type: 'stack', name: net, template: 'PublicNetwork' } });
    }
  }
  return [...out.values()];
}

const tagMap = (tags: Array<{ Key?: string; Value?: string }> | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));

async function listStacks(clients: AwsClients): Promise<Stack[]> {
  const out: Stack[] = [];
  let token: string | undefined;
  do {
    const res = await clients.cloudformation.send(new DescribeStacksCommand({ NextToken: token }));
    out.push(...(res.Stacks ?? []));
    token = res.NextToken;
  } while (token);
  return out.filter((s) => s.StackStatus !== 'DELETE_COMPLETE');
}

async function taggedResources(clients: AwsClients, region: string, match: (tags: Record<string, string>) => boolean): Promise<Array<OutstandingResource & { run?: string }>> {
  const out: Array<OutstandingResource & { run?: string }> = [];
  for (const s of await listStacks(clients)) {
    const tags = tagMap(s.Tags);
    if (!('e3' in tags) || !match(tags)) continue;
    out.push({ provider: 'aws', run: tags['e3:run'], resource: { type: 'stack', name: s.StackName!, id: s.StackId, region, template: tags['e3:template'] } });
  }
  const keys = await clients.ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'tag-key', Values: ['e3'] }] }));
  for (const k of keys.KeyPairs ?? []) {
    const tags = tagMap(k.Tags);
    if (!match(tags)) continue;
    out.push({ provider: 'aws', run: tags['e3:run'], resource: { type: 'key-pair', name: k.KeyName!, region } });
  }
  return out;
}

async function stackResources(clients: AwsClients, name: string, region: string): Promise<Array<OutstandingResource & { run?: string }>> {
  let stack: Stack | undefined;
  try {
    stack = (await clients.cloudformation.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0];
  } catch (err) {
    if (!/does not exist/.test((err as Error).message ?? '')) throw err;
  }
  const tags = tagMap(stack?.Tags);
  const run = tags['e3:run'];
  const out: Array<OutstandingResource & { run?: string }> = [];
  if (stack && stack.StackStatus !== 'DELETE_COMPLETE') {
    out.push({ provider: 'aws', run, resource: { type: 'stack', name, id: stack.StackId, region, template: tags['e3:template'] ?? (name.startsWith('stack-network-') ? 'PublicNetwork' : undefined) } });
  }
  if (name.startsWith('stack-') && !name.startsWith('stack-network-')) out.push({ provider: 'aws', run, resource: { type: 'key-pair', name, region } });
  return out;
}
