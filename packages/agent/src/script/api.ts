import type { TestData, User } from '../data/provider.js';
import type { GitApi } from '../git/runner.js';
import type { HttpApi } from '../http/client.js';

/**
 * What a script pass gets. One context per virtual user (client); `iteration` and `user` change between
 * passes. Every `http` call and every `git` call is one `request` sample; the pass is one `transaction`.
 */
export interface ScriptContext {
  /** HTTP client of this virtual user: own keep-alive connections and cookie jar, base URL of the instance. */
  readonly http: HttpApi;
  /** Runs the real git binary as `user` (per-user HOME and SSH key, credential helpers off). */
  readonly git: GitApi;
  /** Test data: the snapshot's repos (by weight), users, clone URLs. */
  readonly data: TestData;
  /** Fails the pass with error class `check` unless `condition` holds. */
  check(condition: unknown, message: string): asserts condition;
  /** Waits `ms` (not timed). Rejects when the stage ends, so the pass is recorded as cut. */
  sleep(ms: number): Promise<void>;
  /** Writes to agent.log (never pass secrets). */
  log(message: string): void;
  /** This client's HTTP user (fixed per client, or drawn per iteration with `userPerIteration`). */
  httpUser(): User;
  /** This client's SSH user (same rule). */
  sshUser(): User;
  /** The global client number. */
  readonly client: number;
  /** The client's iteration (0-based). */
  readonly iteration: number;
  /** The workload job's description (the samples' `test`). */
  readonly test: string;
  /** A scratch folder for this client (kept across iterations, removed at the end of the stage). */
  readonly workDir: string;
  /** A folder shared by every client of this worker (the repository cache lives here). */
  readonly sharedDir: string;
  /** State kept across the passes of this client (and handed to `teardown`). */
  readonly state: Record<string, unknown>;
  /** The job's `options` from the workload file. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Aborted when the stage's grace period ends. */
  readonly signal: AbortSignal;
  /** Uniform random number in [0, 1). */
  random(): number;
}

/** A workload script. `run` is one pass (one transaction); `teardown` runs once per client after the stage, unrecorded. */
export interface Script {
  /** Dotted name, e.g. `bitbucket.scm.GitCloneOverSsh`; the transaction op is its last segment. */
  readonly name: string;
  readonly run: (ctx: ScriptContext) => Promise<void>;
  readonly teardown?: (ctx: ScriptContext) => Promise<void>;
}

/**
 * Declares a script (library or user). Identity at run time; it exists for the types.
 *
 * ```ts
 * import { defineScript } from '@e3/agent';
 * export const script = defineScript({
 *   name: 'my.ListProjects',
 *   async run(ctx) {
 *     const res = await ctx.http.get('/rest/api/1.0/projects', { accept: 'json' });
 *     ctx.check(res.json().size >= 0, 'a project page');
 *   },
 * });
 * ```
 */
export function defineScript(script: Script): Script {
  return script;
}
