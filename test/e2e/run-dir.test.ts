import { cp, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readPhaseStatus, writePhaseStatus, type Phase } from '@e3/model';
import { expectExit, loopbackRunTree, makeTmpDir, repoRoot, runE3, startLoopbackServer, writeTree, type LoopbackServer } from '@e3/test-utils';

let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer();
});
afterAll(() => server.close());

/** A run dir written by hand (the E³ README's bring-your-own way): a run file, no phase status at all. */
async function handWritten(home: string, run: string): Promise<string> {
  await writeTree(home, loopbackRunTree(run, { url: server.url, duration: 1500, stages: [1] }));
  return join(home, 'runs', run);
}

const e3 = (home: string, args: string[]) => runE3(repoRoot, [...args, '--home', home], { cwd: home, timeoutMs: 180_000 });

/** Runs `args` and checks it exited `code` having written `phase`'s status into `runDir` (a new startedAt). */
async function writesInto(home: string, runDir: string, phase: Phase, args: string[], code = 0): Promise<void> {
  const before = await readPhaseStatus(runDir, phase);
  await new Promise((r) => setTimeout(r, 5));
  expectExit(await e3(home, args), code);
  const after = await readPhaseStatus(runDir, phase);
  expect(after?.status).toBe('succeeded');
  expect(after!.startedAt).not.toBe(before?.startedAt);
}

describe('one way into the run directory', () => {
  it('refuses a run whose provision failed with E3_PHASE_NOT_READY and a hint; --force runs it; a hand-written run dir runs', async () => {
    const home = await makeTmpDir();
    const run = 'byo-20261125T000000Z';
    const runDir = await handWritten(home, run);
    await writePhaseStatus(runDir, {
      phase: 'provision', status: 'failed', startedAt: '2026-11-25T00:00:00.000Z', finishedAt: '2026-11-25T00:00:01.000Z', version: '0.1.0',
      error: { code: 'E3_PROVISION', message: 'stack rolled back' },
    });
    const refused = await e3(home, ['run', '-r', run]);
    expectExit(refused, 2);
    expect(refused.stderr).toContain('[E3_PHASE_NOT_READY]');
    expect(refused.stderr).toContain('[E3_PROVISION] stack rolled back');
    expect(refused.stderr).toContain(`e3 deprovision -r ${run}`);
    expect(refused.stderr).toContain(`--force to \`e3 run -r ${run}\``);
    expect(await readPhaseStatus(runDir, 'run')).toBeUndefined();

    await writesInto(home, runDir, 'run', ['run', '-r', run, '--force']);

    const other = 'byo-20261125T000001Z';
    const otherDir = await handWritten(home, other);
    await writesInto(home, otherDir, 'run', ['run', '-r', other]);
  }, 400_000);

  it('resolves -r <name>, -r <relative path>, -r <absolute path> and an archived name to the same run, for run, gather and analyze', async () => {
    const home = await makeTmpDir();
    const run = 'where-20261125T000000Z';
    const runDir = await handWritten(home, run);
    await writesInto(home, runDir, 'run', ['run', '-r', run]);
    await writesInto(home, runDir, 'gather', ['gather', '-r', `runs/${run}`]);
    await writesInto(home, runDir, 'analyze', ['analyze', '-r', runDir]);
    await writesInto(home, runDir, 'run', ['run', '-r', `./runs/${run}`, '--resume']);

    // Deprovisioned: the run moved to archive/, and its name still finds it.
    const archived = join(home, 'archive', run);
    await mkdir(join(home, 'archive'));
    await rename(runDir, archived);
    await writesInto(home, archived, 'gather', ['gather', '-r', run]);
    await writesInto(home, archived, 'analyze', ['analyze', '-r', run]);
    await writesInto(home, archived, 'run', ['run', '-r', run, '--resume']);

    // A run folder outside e3-home, by its path.
    const elsewhere = join(await makeTmpDir(), run);
    await cp(archived, elsewhere, { recursive: true });
    await writesInto(home, elsewhere, 'analyze', ['analyze', '-r', elsewhere]);

    const wrong = await e3(home, ['analyze', '-r', 'where-20261125T000001Z']);
    expectExit(wrong, 2);
    expect(wrong.stderr).toContain(`[E3_RUN_NOT_FOUND]`);
    expect(wrong.stderr).toContain(`did you mean "${run}"`);
  }, 600_000);
});
