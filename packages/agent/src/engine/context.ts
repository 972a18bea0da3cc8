import type { AssignmentMode } from '@e3/model';

import type { TestData, User } from '../data/provider.js';
import type { Recorder } from '../recorder/recorder.js';
import type { Script, ScriptContext } from '../script/api.js';
import type { StageClock } from './clock.js';
import type { LogFn, RunStageOptions, WorkloadJob } from './stage.js';

/** What the closed model, the open model and the teardown share while one stage runs. */
export interface StageRun {
  options: RunStageOptions;
  clock: StageClock;
  random: () => number;
  jobs: readonly WorkloadJob[];
  scripts: Script[];
  /** A transaction's op: its script's last name part. */
  txOps: string[];
  data: TestData;
  /** Closed model: this worker's clients; open model: the virtual-user pool. */
  clients: number;
  offset: number;
  total: number;
  mode: AssignmentMode;
  workDir: string;
  /** This stage's client folders (removed at the end). */
  clientsDir: string;
  sharedDir: string;
  recorder: Recorder;
  log: LogFn;
  /** Aborts when the stage ends: no new pass starts, think time ends. */
  stop: AbortSignal;
  /** Aborts when the grace period is over: in-flight operations are cut. */
  cut: AbortSignal;
  homeCache: Map<string, Promise<NodeJS.ProcessEnv>>;
  /** Exceptions already logged (each once). */
  reported: Set<string>;
  /** Passes in flight. */
  active: number;
  /** Every virtual user of the stage (their teardowns run at the end). */
  vus: Vu[];
  /** Passes started (open) or clients (closed) per job. */
  counts: number[];
  /** When load started (epoch ms). */
  t0: number;
}

/** One virtual user (a closed-model client, or one of the open model's pool). */
export interface Vu {
  client: number;
  iteration: number;
  job: number;
  intended: number | undefined;
  passBytes: number;
  /** Think time (ctx.sleep) of the current pass, left out of its transaction duration. */
  slept: number;
  /** Jobs this virtual user has run (their teardowns run at the end). */
  ran: Set<number>;
  httpUser: User | undefined;
  sshUser: User | undefined;
  state: Record<string, unknown>;
  ctx: ScriptContext;
  close(): Promise<void>;
}
