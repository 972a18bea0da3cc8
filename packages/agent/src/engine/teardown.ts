import { join } from 'node:path';

import { createGitRunner } from '../git/runner.js';
import { createHttpClient } from '../http/client.js';
import { classify } from '../script/failures.js';
import type { Script, ScriptContext } from '../script/api.js';
import type { StageRun, Vu } from './context.js';

const TEARDOWN_TIMEOUT_MS = 60_000;

/** Runs one script's teardown for one virtual user, unrecorded, within 60 s; a failure is logged, never thrown. */
async function teardown(run: StageRun, vu: Vu, script: Script): Promise<void> {
  const tdCtl = new AbortController();
  const finished = new AbortController();
  void run.clock.sleep(TEARDOWN_TIMEOUT_MS, finished.signal).then((timedOut) => timedOut && tdCtl.abort());
  const quietGit = createGitRunner({ homesDir: join(run.workDir, 'homes'), sink: () => undefined, signal: tdCtl.signal, homeCache: run.homeCache });
  const quietHttp = createHttpClient({ baseUrl: run.data.baseUrl, sink: () => undefined, signal: tdCtl.signal });
  const ctx = {
    ...vu.ctx,
    git: (args, o) => quietGit(args, { ...o, unrecorded: true }),
    http: quietHttp,
    signal: tdCtl.signal,
    state: vu.state,
    sleep: (ms) => run.clock.sleep(ms).then(() => undefined),
  } as ScriptContext;
  try {
    await script.teardown!(ctx);
  } catch (err) {
    run.log('warn', `teardown of ${script.name} for client ${vu.client} failed: ${classify(err).errorText}`);
  } finally {
    finished.abort();
    await quietHttp.close();
  }
}

/**
 * Unrecorded housekeeping after the stage (e.g. deleting pushed branches): for every virtual user with
 * state, the teardown of each script it ran, one after another.
 */
export async function runTeardowns(run: StageRun): Promise<void> {
  for (const vu of run.vus) {
    if (Object.keys(vu.state).length === 0) continue;
    for (const script of new Set([...vu.ran].map((j) => run.scripts[j]!))) if (script.teardown) await teardown(run, vu, script);
  }
}
