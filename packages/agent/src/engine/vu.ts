import { join } from 'node:path';

import { createGitRunner, type GitApi } from '../git/runner.js';
import { createHttpClient } from '../http/client.js';
import { isOpFailure, opFailure, redact } from '../recorder/errors.js';
import { classify } from '../script/failures.js';
import type { OpSink } from '../recorder/sink.js';
import type { StageRun, Vu } from './context.js';

const STAGE_ENDED = Symbol.for('e3.agent.stageEnded');

/** A virtual user for global client number `client`, first on job `job`; its operations are recorded as requests. */
export function makeVu(run: StageRun, client: number, job: number): Vu {
  const { jobs, data, options, clock, random } = run;
  const vu = {
    client, iteration: 0, job, intended: undefined, passBytes: 0, slept: 0, ran: new Set<number>(), httpUser: undefined, sshUser: undefined, state: {},
  } as unknown as Vu;
  const sink: OpSink = (r) => {
    const intended = vu.intended;
    vu.intended = undefined;
    vu.passBytes += r.bytes;
    // Every row has every field, in one order: one object shape for the recorder and the formatter.
    run.recorder.record({
      start: r.start, duration: intended === undefined ? r.duration : r.start + r.duration - intended, test: jobs[vu.job]!.description,
      op: r.op, kind: 'request', client, iteration: vu.iteration, ok: r.ok, status: r.status, bytes: r.bytes, ttfb: r.ttfb,
      intended, error: r.error === undefined ? undefined : redact(r.error),
    });
  };
  const http = createHttpClient({ baseUrl: data.baseUrl, sink, signal: run.cut, ...(options.httpTimeoutMs ? { timeoutMs: options.httpTimeoutMs } : {}) });
  const git: GitApi = createGitRunner({ homesDir: join(run.workDir, 'homes'), sink, signal: run.cut, homeCache: run.homeCache, ...(options.gitTimeoutMs ? { timeoutMs: options.gitTimeoutMs } : {}) });
  vu.ctx = {
    http,
    git,
    data,
    check(condition: unknown, message: string): asserts condition {
      if (!condition) throw opFailure('check', message);
    },
    async sleep(ms: number) {
      const from = clock.now();
      const slept = await clock.sleep(ms, run.stop);
      vu.slept += clock.now() - from;
      if (!slept) throw Object.assign(new Error('stage ended'), { [STAGE_ENDED]: true });
    },
    log: (message: string) => run.log('info', `client ${client}: ${message}`),
    httpUser: () => (vu.httpUser ??= data.httpUser(random)),
    sshUser: () => (vu.sshUser ??= data.sshUser(random)),
    client,
    get iteration() {
      return vu.iteration;
    },
    get test() {
      return jobs[vu.job]!.description;
    },
    workDir: join(run.clientsDir, String(client)),
    sharedDir: run.sharedDir,
    state: vu.state,
    get options() {
      return jobs[vu.job]!.options ?? {};
    },
    signal: run.cut,
    random,
  };
  vu.close = () => http.close();
  return vu;
}

/** What a pass's failure is recorded as: `cut` when the stage ended under it, else its class (unexpected exceptions logged once). */
function passError(run: StageRun, vu: Vu, err: unknown): string {
  if (run.cut.aborted || (err as Record<symbol, unknown>)?.[STAGE_ENDED]) return 'cut';
  if (!isOpFailure(err)) {
    const key = `${run.jobs[vu.job]!.description}: ${(err as Error)?.message}`;
    if (!run.reported.has(key)) {
      run.reported.add(key);
      run.log('error', `${key}\n${(err as Error)?.stack ?? ''}`);
    }
  }
  return classify(err).errorText;
}

/**
 * Runs one pass of the virtual user's job and records it as a transaction (its duration from `intended`
 * when given, the open model, without its think time). Returns whether it succeeded. A closed-model pass
 * that the stage end caught in think time returns false unrecorded when no sample at all (of any client)
 * was recorded since it began, else it is recorded as `cut`.
 */
export async function runPass(run: StageRun, vu: Vu, intended?: number): Promise<boolean> {
  const job = run.jobs[vu.job]!;
  if (run.options.userPerIteration || job.options?.userPerIteration === true) {
    vu.httpUser = undefined;
    vu.sshUser = undefined;
  }
  vu.intended = intended;
  vu.passBytes = 0;
  vu.slept = 0;
  vu.ran.add(vu.job);
  const samplesBefore = run.recorder.count;
  run.active++;
  const start = run.clock.now();
  let error: string | undefined;
  try {
    await run.scripts[vu.job]!.run(vu.ctx);
  } catch (err) {
    error = passError(run, vu, err);
  }
  run.active--;
  if (error === 'cut' && intended === undefined && run.recorder.count === samplesBefore && !run.cut.aborted) {
    // An open-model arrival is always recorded, so arrivals add up.
    vu.intended = undefined;
    return false;
  }
  const end = run.clock.now();
  run.recorder.record({
    start, duration: end - (intended ?? start) - vu.slept, test: job.description, op: run.txOps[vu.job]!, kind: 'transaction',
    client: vu.client, iteration: vu.iteration, ok: error === undefined, status: 0, bytes: vu.passBytes, ttfb: undefined, intended, error,
  });
  vu.intended = undefined;
  vu.iteration++;
  return error === undefined;
}
