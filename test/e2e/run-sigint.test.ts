import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { nodePaths, readPhaseStatus, readStages } from '@e3/model';
import { expectExit, loopbackRunTree, makeTmpDir, repoRoot, startLoopbackServer, writeTree, type LoopbackServer } from '@e3/test-utils';

/** While `hang` is set, requests get no answer: agents stopping then wait out their grace period. */
let hang = false;
let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer((_req, res) => {
    if (!hang) res.end('{"state":"RUNNING"}');
  });
});
afterAll(() => server.close());

/** `e3 run …` as a child process whose signals the test controls. */
function e3Run(args: string[]) {
  const child = spawn(process.execPath, ['--import', pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href, '--conditions=source', join(repoRoot, 'packages/cli/src/bin.ts'), 'run', ...args], {
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, exited, stderr: () => stderr };
}

describe('Ctrl-C during e3 run', () => {
  it('stops every agent within 5 s, exits 130 with the phase aborted, and --resume finishes the run', async () => {
    const home = await makeTmpDir();
    const run = 'sigint-20261125T000000Z';
    await writeTree(home, loopbackRunTree(run, { url: server.url, duration: 6000, stages: [3, 3] }));
    const runDir = join(home, 'runs', run);
    const first = e3Run(['-r', run, '--home', home]);
    for (let i = 0; i < 300 && (await readStages(runDir, 0).catch(() => undefined))?.stages[0]?.status !== 'running'; i++) await sleep(100);
    await sleep(1000);
    const pid = Number((await readFile(nodePaths(join(tmpdir(), 'e3'), run).pidFile(0, 0), 'utf8')).trim());
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    const sent = Date.now();
    first.child.kill('SIGINT');
    expectExit({ code: await first.exited, stderr: first.stderr() }, 130);
    expect(Date.now() - sent).toBeLessThan(5000);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(first.stderr()).toContain('[E3_INTERRUPTED]');
    expect(await readPhaseStatus(runDir, 'run')).toMatchObject({ status: 'aborted' });
    expect((await readStages(runDir, 0))!.stages.map((s) => s.status)).toEqual(['aborted', 'pending']);

    const resumed = e3Run(['-r', run, '--home', home, '--resume']);
    expectExit({ code: await resumed.exited, stderr: resumed.stderr() }, 0);
    expect((await readStages(runDir, 0))!.stages.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
  }, 120_000);

  it('a second Ctrl-C quits at once and still leaves the run phase aborted, not running', async () => {
    const home = await makeTmpDir();
    const run = 'sigint2-20261125T000000Z';
    await writeTree(home, loopbackRunTree(run, { url: server.url, duration: 20000, stages: [2] }));
    const runDir = join(home, 'runs', run);
    const first = e3Run(['-r', run, '--home', home]);
    for (let i = 0; i < 300 && (await readStages(runDir, 0).catch(() => undefined))?.stages[0]?.status !== 'running'; i++) await sleep(100);
    expect(await readPhaseStatus(runDir, 'run')).toMatchObject({ status: 'running' });
    const paths = nodePaths(join(tmpdir(), 'e3'), run);
    const agent = Number((await readFile(paths.pidFile(0, 0), 'utf8')).trim());
    // The built-in sampler e3 starts on this machine unless a collectd already writes its CSV here.
    const sampler = await readFile(paths.monitorPidFile('localhost'), 'utf8').then((t) => Number(t.trim()), () => undefined);
    if (sampler === undefined) expect(execFileSync('sh', ['-c', 'pidof collectd || true'], { encoding: 'utf8' }).trim()).not.toBe('');
    else expect(existsSync(`/proc/${sampler}`)).toBe(true);
    // Requests in flight now hang, so the clean stop the first Ctrl-C starts takes the agents' 5 s grace.
    hang = true;
    await sleep(300);
    first.child.kill('SIGINT');
    // Later than 1 s: a second signal sooner is taken for a wrapper's relay of the first.
    await sleep(1500);
    first.child.kill('SIGINT');
    expectExit({ code: await first.exited, stderr: first.stderr() }, 130);
    // The forced quit wrote it (a clean stop says only "interrupted").
    expect(await readPhaseStatus(runDir, 'run')).toMatchObject({ status: 'aborted', error: { code: 'E3_INTERRUPTED', message: expect.stringContaining('forced') } });
    // The forced quit killed the agent's and the sampler's process groups before it exited.
    for (let i = 0; i < 50 && (existsSync(`/proc/${agent}`) || existsSync(`/proc/${sampler}`)); i++) await sleep(100);
    expect(existsSync(`/proc/${agent}`)).toBe(false);
    expect(existsSync(`/proc/${sampler}`)).toBe(false);
    hang = false;
  }, 120_000);
});
