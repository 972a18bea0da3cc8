import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { analyze } from '@e3/analyze';
import { gather } from '@e3/gather';
import { E3_VERSION, E3Error, validateValue, type Phase } from '@e3/model';
import { deprovision, provision } from '@e3/provision';
import { runExperiment } from '@e3/run';
import { makeTree } from '@e3/test-utils';

/**
 * The phase-status contract: whichever of the five phases fails, and however, `phases/<phase>.json`
 * validates against PhaseStatus, says `failed`, carries E3_VERSION and no pid, and its error code follows
 * one convention: the E3Error's code, or E3_BUG for anything else.
 */
async function statusOf(runDir: string, phase: Phase): Promise<Record<string, unknown>> {
  const file = join(runDir, 'phases', `${phase}.json`);
  const value = JSON.parse(await readFile(file, 'utf8'));
  expect(validateValue('phase', value, file).errors).toEqual([]);
  expect(value).toMatchObject({ phase, status: 'failed', version: E3_VERSION });
  expect(value.pid).toBeUndefined();
  expect(value.error.code).toMatch(/^E3_[A-Z_]+$/);
  return value;
}

const run = 'fail-20261125T000000Z';
const exp = { duration: '2s', workload: 'status', threads: [{ name: 't', instance: { stack: { Name: 'sut' } }, worker: { stack: { Name: 'w' } }, stages: [{ clients: 1 }] }] };
const homeTree = {
  'workloads/status.json': [{ script: 'bitbucket.web.Status', description: 'Status', weight: 1 }],
  'experiments/fail.json': exp,
  'instances/sut.json': { ClusterNodes: ['localhost'], URL: 'http://127.0.0.1:9', reset: 'none' },
  'instances/w.json': { ClusterNodes: ['localhost'] },
};
/** A hand-written run dir (no provision status) of the experiment above. */
const runDirTree = (extra: Record<string, unknown> = {}) => ({
  ...homeTree,
  [`runs/${run}/${run}.json`]: {
    run_name: run, ...exp,
    threads: [{ ...exp.threads[0], instance: { stack: { Name: 'sut', ClusterNodes: ['localhost'], URL: 'http://127.0.0.1:9', reset: 'none' } }, worker: { stack: { Name: 'w', ClusterNodes: ['localhost'] } } }],
  },
  ...extra,
});

describe('every phase that fails writes the same status fields', () => {
  it('provision: a failure before anything was created leaves no run folder (one that created something: provision.test.ts)', async () => {
    const home = await makeTree(homeTree);
    const coded = new E3Error('ENVIRONMENT', 'sut is not reachable', { hint: 'start it' });
    await expect(provision({ experiment: 'fail', run: 'p1', home, checks: [() => Promise.reject(coded)] })).rejects.toBe(coded);
    await expect(readFile(join(home, 'runs/p1/phases/provision.json'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('run: a missing agent bundle', async () => {
    const home = await makeTree(runDirTree());
    await expect(runExperiment({ run, home, agentBundle: join(home, 'no-such-agent.cjs') })).rejects.toMatchObject({ code: 'E3_ENVIRONMENT' });
    expect((await statusOf(join(home, 'runs', run), 'run')).error).toMatchObject({ code: 'E3_ENVIRONMENT', hint: 'Build it with `pnpm build`' });
  });

  it('gather: a run file whose thread names no workers', async () => {
    const home = await makeTree(runDirTree({ [`runs/${run}/phases/run.json`]: { formatVersion: 1, phase: 'run', status: 'succeeded', startedAt: '2026-11-25T00:00:00.000Z', finishedAt: '2026-11-25T00:01:00.000Z', version: E3_VERSION } }));
    const rf = JSON.parse(await readFile(join(home, 'runs', run, `${run}.json`), 'utf8'));
    delete rf.threads[0].worker.stack;
    await writeFile(join(home, 'runs', run, `${run}.json`), JSON.stringify(rf));
    await expect(gather({ run, home })).rejects.toMatchObject({ code: 'E3_PHASE_NOT_READY' });
    expect((await statusOf(join(home, 'runs', run), 'gather')).error).toMatchObject({ code: 'E3_PHASE_NOT_READY', message: expect.stringContaining('/threads/0/worker/stack: missing') });
  });

  it('analyze: a run that wrote no stages.json', async () => {
    const home = await makeTree(runDirTree());
    await expect(analyze({ run, home, charts: false })).rejects.toMatchObject({ code: 'E3_PHASE_NOT_READY' });
    expect((await statusOf(join(home, 'runs', run), 'analyze')).error).toMatchObject({ code: 'E3_PHASE_NOT_READY', hint: expect.stringContaining(`e3 run -r ${run}`) });
  });

  it('deprovision: a ledger naming a provider e3 does not have', async () => {
    const entry = { ts: '2026-11-25T00:00:00.000Z', id: '1', stage: 'intent', action: 'create', provider: 'nosuch', resource: { type: 'thing', name: 'x' }, run };
    const home = await makeTree(runDirTree({ [`runs/${run}/ledger.ndjson`]: JSON.stringify(entry) + '\n' }));
    await expect(deprovision({ run, home })).rejects.toMatchObject({ code: 'E3_PROVISION' });
    expect((await statusOf(join(home, 'runs', run), 'deprovision')).error).toMatchObject({ code: 'E3_PROVISION' });
  });
});
