import type { Instance, LedgerEntry, Thread } from '@e3/model';

import type { Ledger } from './ledger.js';

/** The two machine sets of an experiment thread. */
export type Part = 'instance' | 'worker';
export const PARTS: readonly Part[] = ['instance', 'worker'];

/** Built-in provider names; injected providers may use any other name. */
export type ProviderName = 'aws' | 'byo' | 'local' | (string & {});

/**
 * A resource as the ledger records it: `type` and `name` identify it (the name is chosen before the
 * create call); `file`, relative to e3-home, is a local file it left that `deprovision -r` moves into the run dir.
 */
export type LedgerResource = LedgerEntry['resource'];

/** Clock and sleep, injected so tests never wait. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** One thread to provision: the parts this provider is responsible for. */
export interface ProvisionRequest {
  /** 0-based thread index in the experiment. */
  index: number;
  thread: Thread;
  /** The parts of `thread` this provider must return (e.g. ['worker'] when the instance is byo). */
  parts: Part[];
}

/** What a provider returns: one instance file value per requested part, each with `Name` (the instance file name). */
export type ProvisionedParts = Partial<Record<Part, Instance>>;

/** Run-wide facts and services handed to providers. */
export interface ProviderContext {
  home: string;
  /** `runs/<run>` */
  runDir: string;
  run: string;
  owner: string;
  /** When tagged resources expire (ISO 8601); `e3 deprovision --expired` deletes them after that. */
  expiresAt: string;
  /** Appends intent/result lines around every create and delete. */
  ledger: Ledger;
  clock: Clock;
  /** Random lower-case hex of `bytes` bytes (stack-name suffixes, generated passwords). */
  randomHex(bytes: number): string;
  /** Run-wide memo: the first caller of `key` runs `fn`, the others share its promise (e.g. one network per run). */
  once<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** The experiment's `allowCidrs`: addresses allowed to reach provisioned machines besides the controller. */
  allowCidrs?: readonly string[];
  /** Progress for people. Never secrets. */
  log(message: string): void;
  signal?: AbortSignal;
}

/** Outcome of deleting one resource. */
export interface DeletedResource {
  provider: string;
  resource: LedgerResource;
  ok: boolean;
  error?: string;
}

/**
 * A provider creates the machines of thread parts and deletes what it created. `provision` must record
 * every create call in `ctx.ledger` (intent before, result after) so that `deprovision` can find what a
 * failed or killed provision left behind. `deprovision` receives only resources the ledger says may
 * still exist, must wait until they are gone, and must be harmless for resources already gone.
 */
export interface Provider {
  name: ProviderName;
  /** Checks that create nothing (files, snapshots, templates). Called for every thread before any provider creates anything. */
  preflight?(request: ProvisionRequest, ctx: ProviderContext): Promise<void>;
  provision(request: ProvisionRequest, ctx: ProviderContext): Promise<ProvisionedParts>;
  deprovision(resources: LedgerResource[], ctx: ProviderContext): Promise<DeletedResource[]>;
}

/** Providers keyed by template name (`BitbucketServer`, `local`, …) plus `byo` for `"stack": {"Name": …}` parts. */
export type ProviderRegistry = Record<string, Provider>;

/** A thread after provisioning: each part's instance file value, and which provider made it. */
export interface ResolvedThread {
  index: number;
  thread: Thread;
  instance: Instance;
  worker: Instance;
  providers: Record<Part, string>;
}

/** An extra check run on each resolved thread before provision succeeds (SSH reachability, `/status`, …). */
export type ThreadCheck = (thread: ResolvedThread, ctx: ProviderContext) => Promise<void>;

/** A thread's `instance` entry. */
export type InstanceSpec = Thread['instance'];
/** A thread's `worker` entry. */
export type WorkerSpec = Thread['worker'];
