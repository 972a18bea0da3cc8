import type { RunFile, StackMachines } from '@e3/model';
import type { StackConnector } from '@e3/remote';

import type { StageBarrier } from './barrier.js';
import type { RunInputs } from './inputs.js';
import type { ThreadProgress } from './progress.js';

/** The agent bundle on this machine and the sha256 of its bytes. */
export interface AgentBundle {
  path: string;
  hash: string;
}

/** Time as the stage driver sees it (tests pass a fake one). */
export interface RunClock {
  /** Epoch ms. */
  now(): number;
  /** Calls `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}

export const systemClock: RunClock = {
  now: () => Date.now(),
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    return () => clearInterval(timer);
  },
};

/** What one stage needs beyond its workers: the options that change how it ends and where it reports. */
export interface StageContext {
  signal?: AbortSignal;
  log(message: string): void;
  failFast: boolean;
  /** How long in-flight operations may finish after the stage ends (ms; the agent's default when absent). */
  graceMs?: number;
  assignment: NonNullable<RunFile['assignment']>;
  clock: RunClock;
}

/** Everything the threads of one run share. */
export interface RunContext extends StageContext {
  run: string;
  runDir: string;
  runFile: RunFile;
  connector: StackConnector;
  bundle: AgentBundle;
  inputs: RunInputs;
  resume: boolean;
  healthTimeoutMs?: number;
  barrier?: StageBarrier;
  onProgress?(progress: ThreadProgress): void;
  /** The e3 data folder on a worker node. */
  dataDir(workers: StackMachines, node: string): string;
}
