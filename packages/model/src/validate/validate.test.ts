import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { e3OriginalHome, makeTree } from '@e3/test-utils';

import { homeRuleContext } from '../home/home.js';
import { validateHome, validatePaths } from './paths.js';
import { loadFile, validateText } from './validate.js';

const workload = (weights: number[]) =>
  weights.map((weight, i) => ({ script: 'bitbucket.scm.GitCloneOverSsh', description: `Job${i}`, weight }));

const experiment = (stages: unknown[], extra: Record<string, unknown> = {}) => ({
  duration: 60000,
  workload: 'w',
  ...extra,
  threads: [{ name: 't', instance: { template: 'local', snapshot: 's' }, worker: { template: 'local' }, stages }],
});

describe('validation of E³ files', () => {
  it('accepts every original E³ file unchanged, with no errors', async () => {
    const results = await validateHome(e3OriginalHome);
    expect(results.map((r) => r.kind).sort()).toEqual(
      ['experiment', 'experiment', 'experiment', 'experiment', 'instance', 'instance', 'keys', 'snapshot', 'workload', 'workload', 'workload'].sort(),
    );
    expect(results.flatMap((r) => r.errors)).toEqual([]);
  });

  it('accepts the bring-your-own form and instance files without RunConfig', () => {
    const byo = experiment([{ clients: 10 }]);
    byo.threads[0]!.instance = { stack: { Name: 'localhost' } } as never;
    byo.threads[0]!.worker = { stack: { Name: 'localhost' } } as never;
    expect(validateText('experiment', JSON.stringify(byo), 'byo.json', homeRuleContext(e3OriginalHome)).errors).toEqual([
      'byo.json: /workload: workload "w" not found in e3-home/workloads (known: build-load, developer-using-pull-requests, mixed, pull-request)',
    ]);
    expect(validateText('instance', '{"ClusterNodes": ["user@localhost"]}', 'i.json').errors).toEqual([]);
  });
});

describe('a broken experiment', () => {
  it('reports every problem with its file and JSON path', async () => {
    const text = JSON.stringify(experiment([{ clients: 5 }, { duration: 1000 }, { clients: 2, workload: 'mixd' }]), null, 2).replace(
      '"clients": 5',
      '"clients": 5,\n "clients": 6',
    );
    const home = await makeTree({
      'experiments/bad.json': text,
      'workloads/w.json': workload([0.5, 0.4]),
      'workloads/mixed.json': workload([1]),
      'snapshots/s.json': { name: 's', projects: [], users: [] },
    });
    const results = await validatePaths([join(home, 'experiments/bad.json'), join(home, 'workloads/w.json')], { home });
    const f = join(home, 'experiments/bad.json');
    expect(results[0]!.errors).toEqual([
      `${f}: /threads/0/stages/0: key "clients" appears 2 times in one stage (line 17); JSON keeps only the last, so this is one stage, not 2. Write one stage per level: "stages": [{"clients": <level 1>}, {"clients": <level 2>}]`,
      `${f}: /threads/0/stages/1: a stage needs "clients" (closed model) or "rate" (open model)`,
      `${f}: /threads/0/stages/2/workload: workload "mixd" not found in e3-home/workloads (did you mean "mixed"?)`,
    ]);
    expect(results[1]!.errors).toEqual([`${join(home, 'workloads/w.json')}: /: job weights sum to 0.9, expected 1 (within 0.000001)`]);
  });

  it('reports schema problems at their paths, all at once, with the rule problems of the same file', () => {
    const r = validateText('experiment', JSON.stringify({ duration: '5 minutes', threads: [{ name: 1, stages: [{ clients: -1 }] }] }), 'x.json');
    expect(r.errors).toEqual([
      'x.json: /duration: must be a duration: milliseconds, or a string such as "30s" or "5m"; got "5 minutes"',
      "x.json: /threads/0: missing required field \"instance\"",
      "x.json: /threads/0: missing required field \"worker\"",
      'x.json: /threads/0/name: must be string; got 1',
      'x.json: /threads/0/stages/0/clients: must be >= 1; got -1',
      'x.json: /threads/0/stages/0/workload: no workload: set it on the stage or at the top level',
    ]);
  });

  it('falls back to the top-level duration and workload, and needs one of them', () => {
    const e = experiment([{ clients: 1 }]);
    delete (e as Record<string, unknown>).duration;
    expect(validateText('experiment', JSON.stringify(e), 'x.json').errors).toEqual([
      'x.json: /threads/0/stages/0/duration: no duration: set it on the stage or at the top level',
    ]);
    e.threads[0]!.stages = [{ clients: 1, duration: '30s' }];
    expect(validateText('experiment', JSON.stringify(e), 'x.json').errors).toEqual([]);
  });

  it('warns when the smallest stage leaves a weighted job without a client', async () => {
    const home = await makeTree({
      'workloads/w.json': workload([0.9, 0.05, 0.05]),
      'snapshots/s.json': { name: 's', projects: [], users: [] },
    });
    const r = validateText('experiment', JSON.stringify(experiment([{ clients: 2 }, { clients: 40 }])), 'x.json', homeRuleContext(home));
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual(['x.json: /threads/0/stages/0/clients: 2 clients leave 2 job(s) of workload "w" without a client (Job1, Job2)']);
  });
});

describe('think time', () => {
  it('is accepted at the top level, on a thread, on a stage and on a workload job, fixed or as a range', () => {
    const e = experiment([{ clients: 1, thinkTime: 0 }, { clients: 2, thinkTime: { min: '0.5s', max: 1500 } }], { thinkTime: '1s' });
    (e.threads[0] as Record<string, unknown>).thinkTime = '250ms';
    expect(validateText('experiment', JSON.stringify(e), 'x.json').errors).toEqual([]);
    const jobs = [{ script: 's', description: 'A', weight: 1, thinkTime: { min: '1s', max: '2s' } }];
    expect(validateText('workload', JSON.stringify(jobs), 'w.json').errors).toEqual([]);
  });

  it('reports a malformed value, a range that ends before it starts and one on an open-model stage, with file and field', () => {
    const stages = [{ clients: 1, thinkTime: { min: '2s', max: '1s' } }, { rate: 5, thinkTime: '1s' }];
    expect(validateText('experiment', JSON.stringify(experiment(stages, { thinkTime: '1 sec' })), 'x.json').errors).toEqual([
      'x.json: /thinkTime: must be a think time: milliseconds, a string such as "1s", or {"min": "0.5s", "max": "1.5s"}; got "1 sec"',
    ]);
    expect(validateText('experiment', JSON.stringify(experiment(stages, { thinkTime: '1s' })), 'x.json').errors).toEqual([
      'x.json: /threads/0/stages/0/thinkTime: min (2000 ms) is more than max (1000 ms): expected {"min": <shorter>, "max": <longer>}',
      'x.json: /threads/0/stages/1/thinkTime: think time paces the closed model ("clients"); an open-model stage ("rate") starts passes at its arrival rate: remove one of them',
    ]);
    const jobs = [{ script: 's', description: 'A', weight: 1, thinkTime: -5 }];
    expect(validateText('workload', JSON.stringify({ jobs }), 'w.json').errors).toEqual([
      'w.json: /jobs/0/thinkTime: must be a think time: milliseconds, a string such as "1s", or {"min": "0.5s", "max": "1.5s"}; got -5',
    ]);
  });

  it('makes loading the file fail with E3_INVALID_FILE naming the file and the field', async () => {
    const home = await makeTree({ 'experiments/e.json': experiment([{ clients: 1, thinkTime: 'soon' }]) });
    const file = join(home, 'experiments/e.json');
    await expect(loadFile('experiment', file)).rejects.toMatchObject({
      code: 'E3_INVALID_FILE',
      message: expect.stringContaining(`${file}: /threads/0/stages/0/thinkTime: must be a think time`),
    });
  });
});

describe('workload forms', () => {
  it("accepts e3's object form with $schema and reports errors inside its jobs precisely", () => {
    const jobs = [{ script: 's', description: 'A', weight: 0.7 }, { script: 's', description: 'B', weight: '0.3' }];
    const r = validateText('workload', JSON.stringify({ $schema: '../../schemas/workload.schema.json', jobs }), 'w.json');
    expect(r.errors).toEqual(['w.json: /jobs/1/weight: must be number; got "0.3"']);
    jobs[1]!.weight = 0.2;
    expect(validateText('workload', JSON.stringify({ jobs }), 'w.json').errors).toEqual([
      'w.json: /jobs: job weights sum to 0.9, expected 1 (within 0.000001)',
    ]);
  });
});
