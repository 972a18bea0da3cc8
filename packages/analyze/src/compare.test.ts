import { describe, expect, it } from '@jest/globals';

import { makeTmpDir } from '@e3/test-utils';

import { generateRun, type GenerateRunOptions } from '../test/helpers/generate-run.js';
import { compare, formatCompare } from './compare.js';

const tests: GenerateRunOptions['tests'] = [
  { test: 'clone', ops: [{ op: 'git clone', medianMs: 120, sigma: 0.4, errorRate: 0.01 }] },
  { test: 'browse', ops: [{ op: 'GET /projects', medianMs: 40 }, { op: 'GET /repos', medianMs: 60 }], transactions: false },
];
const stages = [{ clients: 4, durationMs: 8000 }, { clients: 8, durationMs: 8000 }];

async function pair(factor?: Record<string, number>) {
  const dir = await makeTmpDir();
  const a = await generateRun({ dir, run: 'base-20261125T100000Z', seed: 11, collectd: false, tests, threads: [{ name: 't', stages }] });
  const b = await generateRun({ dir, run: 'new-20261126T100000Z', seed: 12, collectd: false, tests, threads: [{ name: 't', stages, ...(factor ? { latencyFactor: factor } : {}) }] });
  return { a, b };
}

describe('compare', () => {
  it('flags exactly the op that became 30 % slower', async () => {
    const { a, b } = await pair({ 'GET /repos': 1.3 });
    const r = await compare({ baseline: a.runDir, runs: [b.runDir] });
    const flagged = r.comparisons.flatMap((c) => c.rows.filter((x) => x.flag).map((x) => `${x.stage} ${x.op} ${x.flag}`));
    expect(flagged).toEqual(['0 GET /repos slower', '1 GET /repos slower']);
    const row = r.comparisons[0]!.rows.find((x) => x.op === 'GET /repos')!;
    expect(row.median.low).toBeGreaterThan(0.15);
    expect(row.median.high).toBeLessThan(0.45);
    expect(r.regressions).toBe(2);
    expect(formatCompare(r)).toContain('2 flagged (2 regressions)');
    expect(r.htmlFile).toMatch(/new-20261126T100000Z\/analysis\/compare\.html$/);
  });

  it('flags nothing for two runs drawn from the same distribution', async () => {
    const { a, b } = await pair();
    const r = await compare({ baseline: a.runDir, runs: [b.runDir], write: false });
    expect(r.comparisons[0]!.rows.length).toBeGreaterThan(6);
    expect(r.comparisons.flatMap((c) => c.rows.filter((x) => x.flag))).toEqual([]);
    expect(r.flagged).toBe(0);
  });

  it('compares the threads of one run with its first thread', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({ dir, seed: 5, collectd: false, tests, threads: [{ name: 'one', stages }, { name: 'two', stages, latencyFactor: { 'git clone': 1.5 } }] });
    const r = await compare({ baseline: g.runDir, write: false });
    expect(r.comparisons).toHaveLength(1);
    expect(r.comparisons[0]!.subject.thread).toBe('two');
    expect(new Set(r.comparisons[0]!.rows.filter((x) => x.flag).map((x) => x.test))).toEqual(new Set(['clone']));
  });

  it('rejects one thread and no run to compare', async () => {
    const { a } = await pair();
    await expect(compare({ baseline: a.runDir })).rejects.toMatchObject({ code: 'E3_USAGE' });
  });
});
