import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { E3Error, homeFilePath, parseJson, writeJsonAtomic } from '@e3/model';

import type { ProviderContext } from '../types.js';
import type { AwsRuntime } from './runtime.js';
import { createStack } from './stack.js';
import type { NetworkValues } from './templates.js';

/** The network of a run: the instance file named by `--network`, else one PublicNetwork stack per run (memoized). */
export function runNetwork(aws: AwsRuntime, ctx: ProviderContext): Promise<{ name: string; values: NetworkValues }> {
  return ctx.once('aws:network', () => (aws.options.network ? readNetworkFile(ctx.home, aws.options.network) : createNetwork(aws, ctx)));
}

/** An existing network instance file (E³ and e3 network files have no ClusterNodes, so they are not read as instance files). */
async function readNetworkFile(home: string, network: string): Promise<{ name: string; values: NetworkValues }> {
  const file = homeFilePath(home, 'instance', network);
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
  return { name: network, values: { vpc: inst.VPC, subnet1: inst.Subnet1, subnet2: inst.Subnet2 } };
}

/** Creates the run's PublicNetwork stack and writes its instance file. */
async function createNetwork(aws: AwsRuntime, ctx: ProviderContext): Promise<{ name: string; values: NetworkValues }> {
  const made = await createStack(aws, ctx, 'PublicNetwork', {});
  const out = made.outputs;
  if (!out.VPC || !out.Subnet1 || !out.Subnet2) {
    throw new E3Error('PROVISION', `network stack ${made.name} has no VPC/Subnet1/Subnet2 outputs`, {
      hint: `Check the PublicNetwork template's Outputs, then \`e3 deprovision -r ${ctx.run}\``,
    });
  }
  const instance = { ...out, Name: made.name, StackId: made.stackId, RunConfig: { owner: ctx.owner, run: ctx.run, expiresAt: ctx.expiresAt } };
  await writeJsonAtomic(homeFilePath(ctx.home, 'instance', made.name), instance, { mode: 0o600 });
  return { name: made.name, values: { vpc: out.VPC, subnet1: out.Subnet1, subnet2: out.Subnet2 } };
}
