/**
 * `@e3/provision`: create and destroy the machines of an experiment.
 * Reads e3-home `experiments/`, `instances/`, `snapshots/`, `templates/`; writes `instances/<stack>.json`
 * and `.pem` (AWS), `runs/<run>/<run>.json`, `runs/<run>/ledger.ndjson`, `runs/<run>/phases/provision.json`
 * and `phases/deprovision.json`, and moves deprovisioned runs to `archive/<run>`.
 */

/** Provision an experiment into a new run dir; see ProvisionOptions. Throws E3_PROVISION, E3_INVALID_FILE, E3_FILE_NOT_FOUND, E3_ENVIRONMENT. */
export { provision, type ProvisionOptions, type ProvisionResult } from './provision.js';
/** Delete a run's resources (from its ledger) and archive it, or stacks by name/owner/expiry. Throws E3_PROVISION, E3_RUN_NOT_FOUND, E3_USAGE. */
export { deprovision, type DeprovisionOptions, type DeprovisionResult } from './deprovision.js';
/**
 * The `e3 provision` and `e3 deprovision` command definitions (for `@e3/cli`); the `…With(extras)` forms
 * add providers (e.g. `local`), checks or clients to every call the command makes.
 */
export {
  deprovisionCommand,
  deprovisionCommandWith,
  provisionCommand,
  provisionCommandWith,
  type CommandExtras,
  type DeprovisionArgs,
  type ProvisionArgs,
} from './commands.js';
/** The provider contract: implement it (e.g. `local`) and pass it in `providers: { local: myProvider }`. */
export type {
  Clock,
  DeletedResource,
  LedgerResource,
  Part,
  Provider,
  ProviderContext,
  ProviderName,
  ProviderRegistry,
  ProvisionRequest,
  ProvisionedParts,
  ResolvedThread,
  ThreadCheck,
} from './types.js';
/** Built-in providers and lookup: `defaultProviders()` maps the AWS templates to aws and `byo` to byo. */
export { BYO_KEY, defaultProviders, providerByName, providerFor } from './registry.js';
/** The aws provider and its settings; `AwsClients` is what `clients` injects. */
export { awsProvider, e3Tags, stackName, type AwsProviderOptions } from './aws/provider.js';
export type { AwsClients } from './aws/clients.js';
/** E³'s template names, stack prefixes and parameter defaults. */
export { AWS_TEMPLATES, STACK_PREFIX, stackParameters, type AwsTemplate } from './aws/templates.js';
/** The byo provider and the instance-file checks it makes (no network). */
export { byoProvider, instanceKeyPath, loadByoInstance } from './byo/provider.js';
/** The ledger: fsynced intent/result lines, and what may still exist according to it. */
export { memoryLedger, openLedger, outstandingResources, readLedger, type Ledger, type OutstandingResource } from './ledger.js';
/** Polling with backoff on an injectable clock. */
export { poll, systemClock, type PollOptions } from './wait.js';
/** Run-file update under the run-file lock. */
export { updateRunFile } from './context.js';
export { HOURLY_USD, VCPUS, formatPlan, planProvision, type PlanOptions, type PlannedStack, type ProvisionPlan } from './plan.js';
export type { QuotaCheck } from './aws/quotas.js';
