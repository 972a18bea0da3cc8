import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';

import {
  E3Error,
  HOME_DIRS,
  assertAllValid,
  durationMs,
  homeFilePath,
  isE3Error,
  isSafeName,
  loadFile,
  readRunFile,
  requireHomeFile,
  resolveHome,
  runDirPaths,
  runName,
  threadName,
  validateWithReferences,
  withPhase,
  writeRunFile,
  type Duration,
  type Experiment,
  type Instance,
  type RunFile,
} from '@e3/model';

import { awsFailure, type AwsClients } from './aws/clients.js';
import type { AwsProviderOptions } from './aws/provider.js';
import { defaultOwner, defaultRandomHex, memo, updateRunFile } from './context.js';
import { openLedger, readLedger } from './ledger.js';
import { defaultProviders, providerFor } from './registry.js';
import { PARTS, type Clock, type LedgerResource, type Part, type Provider, type ProviderContext, type ProviderRegistry, type ResolvedThread, type ThreadCheck } from './types.js';
import { systemClock } from './wait.js';

export interface ProvisionOptions {
  /** Experiment name in e3-home/experiments (without .json), or a path to an experiment file. */
  experiment: string;
  /** Run name; `<experiment>-<UTC yyyymmddThhmmssZ>` when absent. */
  run?: string;
  home?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Owner tag; `E3_OWNER`, else the OS user. */
  owner?: string;
  /** How long created resources live before `e3 deprovision --expired` may delete them; default "24h". */
  ttl?: Duration;
  /** aws provider settings (region, template folder/URL, existing network, public). */
  aws?: Omit<AwsProviderOptions, 'clients' | 'env'>;
  /** AWS SDK clients (tests inject mocked ones); missing ones are made on first use. */
  clients?: Partial<AwsClients>;
  /** Providers merged over the built-in ones, keyed by template name (e.g. `{ local: myLocalProvider }`). */
  providers?: ProviderRegistry;
  /** Checks run on every resolved thread before provision succeeds (e.g. SSH reachability, `/status`). */
  checks?: ThreadCheck[];
  clock?: Clock;
  randomHex?: (bytes: number) => string;
  log?: (message: string) => void;
  signal?: AbortSignal;
}

export interface ProvisionResult {
  run: string;
  runDir: string;
  threads: Array<{ index: number; name: string; instance: string; worker: string; providers: Record<Part, string> }>;
  /** Resources created, as the ledger recorded them. */
  created: Array<{ provider: string; resource: LedgerResource }>;
}

interface Plan {
  provider: Provider;
  parts: Part[];
}

/** Finds the experiment file: a path (absolute, or containing a slash or .json) or a name in e3-home. */
function experimentFile(home: string, experiment: string, cwd: string): string {
  if (isAbsolute(experiment) || experiment.includes('/') || experiment.endsWith('.json')) return resolve(cwd, experiment);
  return requireHomeFile(home, 'experiment', experiment);
}

/**
 * Provisions every thread of an experiment: creates `runs/<run>/` with the run file (each thread's
 * `instance.stack`/`worker.stack` = a copy of the instance file), `ledger.ndjson` and
 * `phases/provision.json`. Every check that creates nothing (files, templates, snapshots) runs for all
 * threads before anything is created. On failure the phase is `failed` and the error's hint names
 * `e3 deprovision -r <run>`, which deletes whatever the ledger says may exist.
 *
 * Throws E3_FILE_NOT_FOUND / E3_INVALID_FILE (experiment, instance, snapshot files), E3_USAGE (run
 * exists), E3_ENVIRONMENT (no region), E3_PROVISION (AWS), E3_INTERRUPTED.
 */
export async function provision(options: ProvisionOptions): Promise<ProvisionResult> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const home = resolveHome({ home: options.home, cwd, env });
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => undefined);
  const expFile = experimentFile(home, options.experiment, cwd);
  const checked = await validateWithReferences('experiment', expFile, { home });
  assertAllValid(checked, `e3 provision -e ${options.experiment}`);
  const experiment = checked[0]!.value as Experiment;
  const expName = expFile.replace(/^.*[\\/]/, '').replace(/\.json$/, '');
  const run = options.run ?? runName(expName, new Date(clock.now()));
  if (!isSafeName(run)) {
    throw new E3Error('USAGE', `--run ${JSON.stringify(run)} is not a valid run name`, { hint: 'Use letters, digits, ".", "_" and "-" only' });
  }
  const registry: ProviderRegistry = {
    ...defaultProviders({ aws: { ...options.aws, clients: options.clients, env } }),
    ...options.providers,
  };

  const plans: Plan[][] = experiment.threads.map((thread, index) => {
    const groups = new Map<Provider, Part[]>();
    for (const part of PARTS) {
      const p = providerFor(registry, thread[part], `/threads/${index}/${part}`, expFile);
      groups.set(p, [...(groups.get(p) ?? []), part]);
    }
    return [...groups].map(([provider, parts]) => ({ provider, parts }));
  });

  const runDir = join(home, HOME_DIRS.run, run);
  await mkdir(dirname(runDir), { recursive: true });
  try {
    await mkdir(runDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new E3Error('USAGE', `run ${run} already exists: ${runDir}`, { hint: 'Pass another --run name, or leave --run out for a fresh time-stamped one' });
    }
    throw new E3Error('IO', `cannot create ${runDir}: ${(err as Error).message}`, { cause: err });
  }

  const startedAt = new Date(clock.now()).toISOString();
  const ttlMs = durationMs(options.ttl ?? '24h');
  const paths = runDirPaths(runDir);
  const ctx: ProviderContext = {
    home,
    runDir,
    run,
    owner: options.owner ?? defaultOwner(env),
    expiresAt: new Date(clock.now() + ttlMs).toISOString(),
    ledger: openLedger(paths.ledger, { run, now: () => clock.now() }),
    clock,
    randomHex: options.randomHex ?? defaultRandomHex,
    once: memo(),
    allowCidrs: experiment.allowCidrs,
    log,
    signal: options.signal,
  };
  const initial: RunFile = { ...experiment, run_name: run, experiment: expName, createdAt: startedAt };
  delete (initial as { $schema?: string }).$schema;
  await writeRunFile(runDir, initial);

  const resolved: Array<Partial<Record<Part, Instance>> & { providers: Partial<Record<Part, string>> }> = experiment.threads.map(() => ({ providers: {} }));
  const work = async (): Promise<ProvisionResult> => {
    try {
      for (const [index, groups] of plans.entries()) {
        for (const g of groups) await g.provider.preflight?.({ index, thread: experiment.threads[index]!, parts: g.parts }, ctx);
      }
      const settled = await Promise.allSettled(
        plans.flatMap((groups, index) =>
          groups.map(async (g) => {
            const thread = experiment.threads[index]!;
            const made = await g.provider.provision({ index, thread, parts: g.parts }, ctx);
            for (const part of g.parts) {
              const inst = made[part];
              if (!inst?.Name) throw new Error(`provider ${g.provider.name} returned no ${part} with a Name for thread ${index}`);
              resolved[index]![part] = inst;
              resolved[index]!.providers[part] = g.provider.name;
            }
            await updateRunFile(
              runDir,
              (rf) => {
                for (const part of g.parts) rf.threads[index]![part] = { ...rf.threads[index]![part], stack: { ...made[part]!, Name: made[part]!.Name! } };
              },
              clock,
            );
          }),
        ),
      );
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      const threads: ResolvedThread[] = experiment.threads.map((thread, index) => ({
        index,
        thread,
        instance: resolved[index]!.instance!,
        worker: resolved[index]!.worker!,
        providers: resolved[index]!.providers as Record<Part, string>,
      }));
      for (const t of threads) for (const check of options.checks ?? []) await check(t, ctx);
      if (options.checks?.length) await refreshFromInstanceFiles(runDir, home, clock);
      const created = (await readLedger(paths.ledger))
        .filter((e) => e.action === 'create' && e.stage === 'result' && e.ok)
        .map((e) => ({ provider: e.provider, resource: e.resource }));
      return {
        run,
        runDir,
        threads: threads.map((t) => ({ index: t.index, name: threadName(t.thread, t.index), instance: t.instance.Name ?? '', worker: t.worker.Name ?? '', providers: t.providers })),
        created,
      };
    } catch (err) {
      if ((await readLedger(paths.ledger).catch(() => [{}])).length === 0) {
        // Nothing was created: leave no run behind, so the same command can simply be run again.
        await rm(runDir, { recursive: true, force: true });
        throw awsFailure(err, `checking run ${run}`, 'Fix the cause, then run `e3 provision` again') ?? err;
      }
      throw asProvisionError(err, run) ?? err;
    }
  };
  // A bug may have left resources behind: its hint names deprovision too.
  return withPhase(runDir, 'provision', work, { now: () => clock.now(), signal: options.signal, bugHint: `Run \`e3 deprovision -r ${run}\` to delete whatever was created` });
}

/** Checks may have changed instance files (e.g. pinned host keys): copy them into the run file again. */
async function refreshFromInstanceFiles(runDir: string, home: string, clock: Clock): Promise<void> {
  const rf = await readRunFile(runDir);
  const fresh = new Map<string, Instance>();
  for (const t of rf.threads) {
    for (const part of PARTS) {
      const name = t[part].stack?.Name;
      const file = name ? homeFilePath(home, 'instance', name) : undefined;
      if (!name || !file || fresh.has(name) || !existsSync(file)) continue;
      fresh.set(name, { ...(await loadFile<Instance>('instance', file)), Name: name });
    }
  }
  await updateRunFile(
    runDir,
    (run) => {
      for (const t of run.threads) for (const part of PARTS) if (t[part].stack && fresh.has(t[part].stack!.Name)) t[part] = { ...t[part], stack: fresh.get(t[part].stack!.Name)! as never };
    },
    clock,
  );
}

/** AWS SDK errors become E3_PROVISION with the deprovision hint; E3Errors keep their code; bugs stay bugs. */
function asProvisionError(err: unknown, run: string): E3Error | undefined {
  const hint = `Run \`e3 deprovision -r ${run}\` to delete whatever was created, fix the cause, then provision again`;
  if (isE3Error(err)) {
    if (err.code === 'E3_PROVISION' && !err.hint) return new E3Error('PROVISION', err.message, { cause: err, hint });
    if (err.code === 'E3_INTERRUPTED' || err.hint?.includes('e3 deprovision -r')) return err;
    // Something was created: whatever the cause, the way back names deprovision.
    return new E3Error(err.code, err.message, { cause: err, hint: err.hint ? `${err.hint.replace(/\.?$/, '')}; then run \`e3 deprovision -r ${run}\` to delete whatever was created` : hint, ...(err.details ? { details: err.details } : {}) });
  }
  return awsFailure(err, `provisioning run ${run}`, hint);
}
