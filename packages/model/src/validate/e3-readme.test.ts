import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { e3OriginalHome, makeTree } from '@e3/test-utils';

import { readRunFile } from '../run-dir/io.js';
import { threadName, type Experiment } from '../schemas/experiment.js';
import { validatePaths } from './paths.js';

/** The JSON blocks of the E³ seed README, verbatim, in the order they appear. */
const blocks = [...readFileSync(join(e3OriginalHome, '../../spec/e3-seed-README.md'), 'utf8').matchAll(/```[a-z]*\n(\{.*?)```/gs)].map((m) => m[1]!);
const block = (start: string) => {
  const found = blocks.filter((b) => b.includes(start));
  if (found.length === 0) throw new Error(`no README block with ${start}`);
  return found;
};

const mixed = readFileSync(join(e3OriginalHome, 'workloads/mixed.json'), 'utf8');
const snapshot = readFileSync(join(e3OriginalHome, 'snapshots/e3-small.json'), 'utf8');

/** The worked example's four instance files (the README gives four-node-worker as "identical" to two-node-worker). */
const workedExampleHome = () => {
  const [twoNode] = block('"URL": "http://bitbucket-server-2-node"');
  const [fourNode] = block('"URL": "http://bitbucket-server-4-node"');
  const workers = block('"e3-user@worker-node-4"');
  return {
    'instances/two-node.json': twoNode!,
    'instances/four-node.json': fourNode!,
    'instances/two-node-worker.json': workers[workers.length - 1]!,
    'instances/four-node-worker.json': workers[workers.length - 1]!,
    'workloads/mixed.json': mixed,
    'snapshots/my-snapshot.json': snapshot,
  };
};

describe("the E³ README's files", () => {
  it('the bring-your-own example (threads without "name") validates with the files it names', async () => {
    const [twoNodeServer] = block('"URL": "http://bitbucket-server",');
    const [fourWorkers] = block('"e3-user@worker-node-4"');
    const [experiment] = block('"duration": 10000');
    const home = await makeTree({
      'instances/bitbucket-two-nodes.json': twoNodeServer!,
      'instances/four-node-worker.json': fourWorkers!,
      'experiments/readme.json': experiment!,
      'workloads/mixed.json': mixed,
      'snapshots/my-snapshot.json': snapshot,
    });
    const results = await validatePaths([join(home, 'experiments/readme.json')], { home });
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    const value = results[0]!.value as Experiment;
    expect(value.threads[0]!.name).toBeUndefined();
    expect(threadName(value.threads[0]!, 0)).toBe('bitbucket-two-nodes');
    expect(threadName({ instance: {} }, 11)).toBe('thread-012');
  });

  it('the five-"clients" stage of the worked example gives one error per stage saying how to write five stages', async () => {
    const [experiment] = block('"duration": 300000');
    const home = await makeTree({ 'runs/my-experiment/my-experiment.json': experiment!, ...workedExampleHome() });
    const file = join(home, 'runs/my-experiment/my-experiment.json');
    const [result] = await validatePaths([file], { home });
    expect(result!.kind).toBe('run');
    expect(result!.errors).toHaveLength(2);
    result!.errors.forEach((e, t) => {
      expect(e).toContain(`${file}: /threads/${t}/stages/0: key "clients" appears 5 times in one stage`);
      expect(e).toContain('Write one stage per level: "stages": [{"clients": <level 1>}, {"clients": <level 2>}, {"clients": <level 3>}, …]');
    });
  });

  it('a hand-written run file without run_name (the worked example, written as five stages) reads, named by its folder', async () => {
    const [experiment] = block('"duration": 300000');
    const fixed = experiment!.replace(/\{\s*"clients": 40,\s*"clients": 80,\s*"clients": 120,\s*"clients": 160,\s*"clients": 200\s*\}/g, () =>
      [40, 80, 120, 160, 200].map((c) => `{"clients": ${c}}`).join(', '),
    );
    const home = await makeTree({ 'runs/my-experiment/my-experiment.json': fixed, ...workedExampleHome() });
    const [result] = await validatePaths([join(home, 'runs/my-experiment/my-experiment.json')], { home });
    expect(result!.errors).toEqual([]);
    const run = await readRunFile(join(home, 'runs/my-experiment'));
    expect(run.threads.map((t) => t.stages.map((s) => s.clients))).toEqual([
      [40, 80, 120, 160, 200],
      [40, 80, 120, 160, 200],
    ]);
    expect(run.run_name).toBe('my-experiment');
  });
});
