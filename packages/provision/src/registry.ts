import { E3Error } from '@e3/model';

import { awsProvider, type AwsProviderOptions } from './aws/provider.js';
import { AWS_TEMPLATES } from './aws/templates.js';
import { byoProvider } from './byo/provider.js';
import type { InstanceSpec, Provider, ProviderRegistry, WorkerSpec } from './types.js';

/** Registry key for parts given as `"stack": {"Name": …}`. */
export const BYO_KEY = 'byo';

/** The built-in providers: every AWS template → aws, and `byo`. `local` is not built in: inject it. */
export function defaultProviders(options: { aws?: AwsProviderOptions } = {}): ProviderRegistry {
  const aws = awsProvider(options.aws);
  const registry: ProviderRegistry = { [BYO_KEY]: byoProvider() };
  for (const t of AWS_TEMPLATES) registry[t] = aws;
  return registry;
}

/**
 * The provider for one thread part: `byo` when the part has `stack.Name`, otherwise the one registered
 * under its `template`. Throws E3_INVALID_FILE naming the field when none fits.
 */
export function providerFor(registry: ProviderRegistry, spec: InstanceSpec | WorkerSpec, where: string, experimentFile: string): Provider {
  if (spec.stack?.Name) return registry[BYO_KEY]!;
  const template = spec.template;
  const known = Object.keys(registry).filter((k) => k !== BYO_KEY);
  if (!template) {
    throw new E3Error('INVALID_FILE', `${experimentFile}: ${where}: needs "template" or "stack": {"Name": …}`, {
      hint: `Edit ${experimentFile}: set ${where}.template to one of ${known.join(', ')}`,
    });
  }
  const provider = registry[template];
  if (!provider) {
    throw new E3Error('INVALID_FILE', `${experimentFile}: ${where}.template: no provider for "${template}" (known: ${known.join(', ')})`, {
      hint:
        template === 'local'
          ? 'The local provider comes with `e3 orchestrate`/`e3 demo`; use `e3 demo`, or a "stack": {"Name": …} instance file'
          : `Edit ${experimentFile}: ${where}.template must be one of ${known.join(', ')}`,
    });
  }
  return provider;
}

/** The provider whose `name` is `name` (the ledger records names, not templates). */
export function providerByName(registry: ProviderRegistry, name: string): Provider | undefined {
  return Object.values(registry).find((p) => p.name === name);
}
