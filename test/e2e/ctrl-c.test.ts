import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { nodePaths, readPhaseStatus, readSamples, readStages, runDirPaths, stageAttemptDirName, type SampleRow } from '@e3/model';
import { expectExit, loopbackRunTree, makeTmpDir, repoRoot, runE3, startLoopbackServer, writeTree, type LoopbackServer } from '@e3/test-utils';

/** `/slow` answers after 1 s, so that work is in flight when the Ctrl-C comes; anything else at once. */
let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer((req, res) => {
    if (req.url?.startsWith('/slow')) setTimeout(() => res.end('slow'), 1000);
    else res.end('{"state":"RUNNING"}');
  });
});
afterAll(() => server.close());

/** `pnpm e3 run …` from the repository root, in its own process group, as a terminal starts it. */
function pnpmE3Run(args: string[]) {
  const child = spawn('pnpm', ['--silent', 'e3', 'run', ...args], { cwd: repoRoot, detached: true, env: { ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0' } });
  let stderr = '';
  child.stdout.on('data', (d) => (stderr += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { pid: child.pid!, exited, stderr: () => stderr };
}

/** Waits until stage 0 runs, then returns the agent's pid (also its process group). */
async function agentWhenRunning(runDir: string, run: string, stderr: () => string): Promise<number> {
  for (let i = 0; i < 600 && (await readStages(runDir, 0).catch(() => undefined))?.stages[0]?.status !== 'running'; i++) await sleep(100);
  const pidFile = nodePaths(join(tmpdir(), 'e3'), run).pidFile(0, 0);
  if (!existsSync(pidFile)) throw new Error(`stage 0 of ${run} never ran; output:\n${stderr().slice(-3000)}`);
  return Number((await readFile(pidFile, 'utf8')).trim());
}

/** True while any process of the group lives. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function rowsOf(file: string): Promise<SampleRow[]> {
  const rows: SampleRow[] = [];
  for await (const r of readSamples(file)) rows.push(r);
  return rows;
}

describe('Ctrl-C through `pnpm e3 run`, as a terminal sends it (SIGINT to the whole process group)', () => {
  it('10 times in 10: the run phase ends aborted and no agent process is alive 5 s after the signal', async () => {
    const home = await makeTmpDir('e3-ctrl-c-');
    const failures: string[] = [];
    for (let i = 0; i < 10; i++) {
      const run = `ctrlc${i}-20261205T000000Z`;
      await writeTree(home, loopbackRunTree(run, { url: server.url, duration: 4000, stages: [2] }));
      const runDir = join(home, 'runs', run);
      const e3 = pnpmE3Run(['-r', run, '--home', home]);
      const agent = await agentWhenRunning(runDir, run, e3.stderr);
      await sleep(500);
      const sent = Date.now();
      process.kill(-e3.pid, 'SIGINT');
      await e3.exited;
      await sleep(Math.max(0, sent + 5000 - Date.now()));
      const phase = await readPhaseStatus(runDir, 'run');
      const problems = [
        ...(phase?.status === 'aborted' ? [] : [`phases/run.json is ${phase?.status}`]),
        ...(groupAlive(agent) ? [`agent ${agent} still alive`] : []),
        ...(e3.stderr().includes('[E3_INTERRUPTED]') ? [] : ['no E3_INTERRUPTED on stderr']),
      ];
      if (problems.length) {
        failures.push(`attempt ${i + 1}: ${problems.join(', ')}; output ends:\n${e3.stderr().trimEnd().split('\n').slice(-20).join('\n')}`);
        if (groupAlive(agent)) process.kill(-agent, 'SIGKILL');
      }
    }
    expect(failures).toEqual([]);
  }, 600_000);

  it('after Ctrl-C and --resume both attempts keep their samples, and work in flight at the signal is no error', async () => {
    const home = await makeTmpDir('e3-ctrl-c-resume-');
    const run = 'ctrlcresume-20261205T000000Z';
    await writeTree(home, {
      ...loopbackRunTree(run, { url: server.url, duration: 4000, stages: [2], workload: 'slow' }),
      'workloads/slow.json': [{ script: 'scripts/slow.mjs', description: 'Slow', weight: 1 }],
      // Each pass has a git (a real git running a 1 s shell alias) and an HTTP request in flight for 1 s.
      'workloads/scripts/slow.mjs': [
        "export const script = { name: 'test.Slow',",
        "  async run(ctx) { await Promise.all([ctx.git(['-c', 'alias.slow=!sleep 1', 'slow'], { op: 'git slow' }), ctx.http.get('/slow', { accept: 'none' })]); } };",
        '',
      ].join('\n'),
    });
    const runDir = join(home, 'runs', run);
    const first = pnpmE3Run(['-r', run, '--home', home]);
    await agentWhenRunning(runDir, run, first.stderr);
    await sleep(1500);
    process.kill(-first.pid, 'SIGINT');
    await first.exited;
    expect(await readPhaseStatus(runDir, 'run')).toMatchObject({ status: 'aborted' });

    const resumed = await runE3(repoRoot, ['run', '-r', run, '--home', home, '--resume'], { timeoutMs: 180_000 });
    expectExit(resumed, 0);
    expect((await readStages(runDir, 0))!.stages.map((s) => s.status)).toEqual(['succeeded']);

    const stage = runDirPaths(runDir).stageDir(0, 0, 0);
    const kept = join(stage, '..', stageAttemptDirName(0, 1));
    expect((await readdir(join(stage, '..'))).sort()).toEqual(expect.arrayContaining(['stage-000', stageAttemptDirName(0, 1)]));
    const interrupted = await rowsOf(join(kept, 'samples.csv'));
    const again = await rowsOf(join(stage, 'samples.csv'));
    // Both operations were under way at the signal and got the grace period to finish.
    expect(interrupted.filter((r) => r.op === 'git slow').length).toBeGreaterThan(0);
    expect(interrupted.filter((r) => r.op === 'GET /slow').length).toBeGreaterThan(0);
    expect(interrupted.filter((r) => !r.ok).map((r) => `${r.op}: ${r.error}`)).toEqual([]);
    expect(again.filter((r) => r.op === 'git slow' && r.ok).length).toBeGreaterThan(0);

    expectExit(await runE3(repoRoot, ['gather', '-r', run, '--home', home], { timeoutMs: 180_000 }), 0);
    expectExit(await runE3(repoRoot, ['analyze', '-r', run, '--home', home], { timeoutMs: 180_000 }), 0);
    const summary = JSON.parse(await readFile(join(runDir, 'analysis/summary.json'), 'utf8')) as { warnings: string[]; threads: Array<{ stages: Array<{ samples: number }> }> };
    expect(summary.warnings.some((w) => w.includes(stageAttemptDirName(0, 1)))).toBe(true);
    // The stage's numbers are the new attempt's alone.
    expect(summary.threads[0]!.stages[0]!.samples).toBe(again.length);
  }, 300_000);
});
