import { durationMs, E3Error } from '@e3/model';
import { COMMAND_HELP, defineCommand, type CommandDef } from '@e3/model/cli';

import { deprovision, type DeprovisionOptions } from './deprovision.js';
import { formatPlan, planProvision } from './plan.js';
import { provision, type ProvisionOptions } from './provision.js';

/** What a composing CLI may add to the commands: extra providers (e.g. `local`), checks, clients. */
export type CommandExtras = Pick<ProvisionOptions, 'providers' | 'checks' | 'clients' | 'clock'>;

export interface ProvisionArgs {
  experiment: string;
  run?: string;
  owner?: string;
  ttl?: string;
  region?: string;
  'template-dir'?: string;
  'template-url'?: string;
  network?: string;
  internal?: boolean;
  'allow-cidr'?: string[];
  plan?: boolean;
}

const awsOptions = {
  region: { type: 'string', description: 'AWS region (default: $AWS_REGION, then $AWS_DEFAULT_REGION)' },
  'template-dir': { type: 'string', description: 'Folder of <Template>.template files (default: e3-home/templates, then e3\'s own)' },
  'template-url': { type: 'string', description: 'Base URL of templates not found locally; CloudFormation reads <url>/<Template>.template' },
} as const;

function ttlArg(ttl: string | undefined): string | number | undefined {
  if (ttl === undefined) return undefined;
  const value = /^[0-9]+$/.test(ttl) ? Number(ttl) : ttl;
  try {
    durationMs(value as never);
    if (typeof value === 'string' && !/^[0-9]+(\.[0-9]+)?(ms|s|m|h)$/.test(value)) throw new Error();
  } catch {
    throw new E3Error('USAGE', `--ttl ${JSON.stringify(ttl)} is not a duration`, { hint: 'Use e.g. --ttl 8h, --ttl 90m' });
  }
  return value;
}

/** `e3 provision -e <experiment> [--run <name>]`, with `extras` passed to every provision call. */
export function provisionCommandWith(extras: CommandExtras = {}): CommandDef {
  return defineCommand<ProvisionArgs>({
    name: 'provision',
    description: COMMAND_HELP.provision,
    options: {
      experiment: { type: 'string', alias: 'e', description: 'Experiment name in e3-home/experiments, or a path to one', required: true },
      run: { type: 'string', description: 'Run name (default: <experiment>-<UTC yyyymmddThhmmssZ>)' },
      owner: { type: 'string', description: 'Owner tag of created resources (default: $E3_OWNER, then the OS user)' },
      ttl: { type: 'string', description: 'Expiry of created resources, e.g. 8h; `e3 deprovision --expired` deletes them after it', default: '24h' },
      ...awsOptions,
      network: { type: 'string', description: 'Existing network instance file (VPC, Subnet1, Subnet2) instead of a new PublicNetwork stack' },
      internal: { type: 'boolean', description: 'No public addresses for Bitbucket nodes (E³ --internal)', default: false },
      plan: { type: 'boolean', description: 'Print every stack, template, parameters, resources, snapshot, allowed CIDRs and an estimated hourly cost; create nothing', default: false },
      'allow-cidr': { type: 'array', description: "IPv4 CIDR allowed to reach the machines besides this machine's address (repeatable; 0.0.0.0/0 opens them to the world)" },
    },
    examples: [
      ['e3 provision -e mixed-test', 'provision the machines of experiments/mixed-test.json'],
      ['e3 provision -e cluster-scaling-ssh --plan', 'show the stacks, parameters and estimated cost of E³\'s quick start; create nothing'],
      ['e3 provision -e byo-test --run byo-1', 'check the instance files of a bring-your-own experiment, into runs/byo-1'],
    ],
    async run(args, ctx) {
      const aws = { region: args.region, templateDir: args['template-dir'], templateUrl: args['template-url'], network: args.network, public: !args.internal, allowCidrs: (args['allow-cidr'] ?? []).filter((c): c is string => typeof c === 'string') };
      if (args.plan) {
        const plan = await planProvision({ experiment: args.experiment, home: args.home, cwd: ctx.cwd, env: ctx.env, owner: args.owner, aws, clients: extras.clients });
        return { text: formatPlan(plan), data: plan };
      }
      const result = await provision({
        experiment: args.experiment,
        run: args.run,
        home: args.home,
        cwd: ctx.cwd,
        env: ctx.env,
        owner: args.owner,
        ttl: ttlArg(args.ttl),
        aws,
        log: ctx.log,
        signal: ctx.signal,
        ...extras,
      });
      const lines = [`provisioned run ${result.run} (${result.runDir})`];
      for (const t of result.threads) lines.push(`  thread ${t.index + 1} ${t.name}: instance ${t.instance} (${t.providers.instance}), workers ${t.worker} (${t.providers.worker})`);
      lines.push('', `next: e3 run -r ${result.run}`, `when done: e3 deprovision -r ${result.run}`);
      return { text: lines.join('\n'), data: result };
    },
  });
}

/** `e3 provision` with the built-in providers (aws, byo). */
export const provisionCommand: CommandDef = provisionCommandWith();

export interface DeprovisionArgs {
  run?: string;
  stack?: string;
  all?: boolean;
  owner?: string;
  expired?: boolean;
  region?: string;
}

/** `e3 deprovision -r <run> | --stack <name> | --all --owner <owner> | --expired`, with `extras` passed to every call. */
export function deprovisionCommandWith(extras: Pick<DeprovisionOptions, 'providers' | 'clients' | 'cleanWorkers'> = {}): CommandDef {
  return defineCommand<DeprovisionArgs>({
    name: 'deprovision',
    description: COMMAND_HELP.deprovision,
    options: {
      run: { type: 'string', alias: 'r', description: 'Run (a name in e3-home/runs, or the path of a run folder) whose resources to delete; the run then moves to e3-home/archive' },
      stack: { type: 'string', alias: 's', description: 'Delete one stack (and its key pair) by name' },
      all: { type: 'boolean', description: 'Delete every e3-tagged stack and key pair of --owner', default: false },
      owner: { type: 'string', description: 'Owner for --all' },
      expired: { type: 'boolean', description: 'Delete every e3-tagged stack and key pair past its expiry', default: false },
      region: awsOptions.region,
    },
    examples: [
      ['e3 deprovision -r mixed-test-20260101T120000Z', 'delete what the run created and archive it'],
      ['e3 deprovision --expired', 'delete every e3 resource past its expiry'],
    ],
    async run(args, ctx) {
      const result = await deprovision({
        run: args.run,
        stack: args.stack,
        all: args.all || undefined,
        owner: args.owner,
        expired: args.expired || undefined,
        home: args.home,
        cwd: ctx.cwd,
        env: ctx.env,
        aws: { region: args.region },
        log: ctx.log,
        signal: ctx.signal,
        ...extras,
      });
      const lines: string[] = [];
      if (result.alreadyArchived) lines.push(`run ${result.run} is already deprovisioned (${result.archivedTo})`);
      for (const d of result.deleted) lines.push(`deleted ${d.resource.type} ${d.resource.name}`);
      if (result.deleted.length === 0 && !result.alreadyArchived) lines.push('nothing to delete');
      if (result.archivedTo && !result.alreadyArchived) lines.push(`archived to ${result.archivedTo}`);
      return { text: lines.join('\n'), data: result };
    },
  });
}

/** `e3 deprovision` with the built-in providers (aws, byo). */
export const deprovisionCommand: CommandDef = deprovisionCommandWith();
