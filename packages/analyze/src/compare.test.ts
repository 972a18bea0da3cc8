import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { describe, expect, it } from '@jest/globals';

import { EXIT } from '@e3/model';
import { runCli } from '@e3/model/cli';
import { makeTmpDir } from '@e3/test-utils';

import { generateRun, type GenerateRunOptions } from '../test/helpers/generate-run.js';
import { compare, compareCommand, formatCompare, parseTestTolerances, readToleranceFile } from './compare.js';

/** A run shaped like the demo's: two threads of three stages, a mixed workload of four tests. */
const demoTests: GenerateRunOptions['tests'] = [
  { test: 'browse', ops: [{ op: 'GET /projects', medianMs: 30, sigma: 0.3 }, { op: 'GET /repos', medianMs: 45, sigma: 0.3 }, { op: 'GET /commits', medianMs: 60, sigma: 0.4 }] },
  { test: 'clone', ops: [{ op: 'git clone', medianMs: 150, sigma: 0.3, errorRate: 0.01 }] },
  { test: 'push', ops: [{ op: 'git clone', medianMs: 150, sigma: 0.3 }, { op: 'git push', medianMs: 200, sigma: 0.3 }] },
  { test: 'pull request', ops: [{ op: 'POST /pull-requests', medianMs: 80, sigma: 0.3 }, { op: 'GET /pull-requests', medianMs: 40, sigma: 0.3 }] },
];
const demoStages = [{ clients: 4, durationMs: 6000 }, { clients: 8, durationMs: 6000 }, { clients: 12, durationMs: 6000 }];
const demoThreads = [{ name: '1 git op', stages: demoStages }, { name: '8 git ops', stages: demoStages }];

const small: GenerateRunOptions['tests'] = [
  { test: 'clone', ops: [{ op: 'git clone', medianMs: 120, sigma: 0.3 }] },
  { test: 'browse', ops: [{ op: 'GET /projects', medianMs: 40, sigma: 0.3 }, { op: 'GET /repos', medianMs: 60, sigma: 0.3 }], transactions: false },
];
const smallStages = [{ clients: 4, durationMs: 6000 }, { clients: 8, durationMs: 6000 }];

async function cli(argv: string[], cwd: string): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runCli({ scriptName: 'e3-compare', version: '0', single: true, commands: [compareCommand], argv, stdout, stderr, cwd });
  return { code, out: out + err };
}

describe('compare on run folders', () => {
  it('the demo-sized run against itself flags nothing in fewer than 40 lines, and writes a labelled report', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({ dir, run: 'demo-20261125T100000Z', seed: 3, collectd: false, tests: demoTests, threads: demoThreads });
    const r = await compare({ baseline: g.runDir, runs: [g.runDir] });
    const text = formatCompare(r);
    expect(r.regressions).toBe(0);
    expect(r.comparisons[0]!.evidence).toBe('samples');
    expect(r.comparisons[0]!.findings.filter((f) => f.verdict === 'within tolerance').length).toBeGreaterThan(100);
    expect(text).toContain('only sample-level evidence');
    expect(text).toContain('no regression beyond tolerance');
    expect(text.split('\n').length).toBeLessThan(40);
    const html = await readFile(r.htmlFile!, 'utf8');
    expect(html).toContain('change of contender vs baseline (%');
    expect(html).toContain('metric · thread / stage / test / op');
    expect(JSON.parse(await readFile(r.jsonFile!, 'utf8')).regressions).toBe(0);
  }, 120_000);

  it('old form: flags the op that became 30 % slower, from samples of one run a side', async () => {
    const dir = await makeTmpDir();
    const a = await generateRun({ dir, run: 'base-20261125T100000Z', seed: 11, collectd: false, tests: small, threads: [{ name: 't', stages: smallStages }] });
    const b = await generateRun({ dir, run: 'new-20261126T100000Z', seed: 12, collectd: false, tests: small, threads: [{ name: 't', stages: smallStages, latencyFactor: { 'GET /repos': 1.3 } }] });
    const r = await compare({ baseline: a.runDir, runs: [b.runDir], write: false });
    const flagged = r.comparisons[0]!.findings.filter((f) => f.verdict === 'regression');
    expect(flagged.length).toBeGreaterThan(0);
    expect(flagged.filter((f) => f.op !== 'GET /repos' && !(f.test === 'browse' && f.op === '*'))).toEqual([]);
    expect(flagged.map((f) => `${f.metric} ${f.label}`)).toContain('p50 t / stage 001 / browse / GET /repos');
    expect(formatCompare(r).split('\n')[2]).toMatch(/^Metric +Thread\/Stage\/Test +Baseline +Contender +Diff +Diff % +Verdict/);
  }, 120_000);

  it('one sample per op: insufficient data, never "+0.0 %"', async () => {
    const dir = await makeTmpDir();
    const one = (run: string, ms: number) =>
      generateRun({
        dir, run, seed: 1, collectd: false, tests: small, threads: [{ name: 't', stages: [{ clients: 1, durationMs: 1000 }] }],
        rows: () => ['git clone', 'GET /projects', 'GET /repos'].map((op, i) => ({ start: 1_790_000_000_000 + i, duration: ms, test: op === 'git clone' ? 'clone' : 'browse', op, kind: 'request', client: 0, iteration: 0, ok: true, status: 200, bytes: 1 })),
      });
    const a = await one('a-20261125T100000Z', 18743.1);
    const b = await one('b-20261125T100000Z', 3031.3);
    const r = await compare({ baseline: a.runDir, runs: [b.runDir], write: false });
    const text = formatCompare(r);
    expect(text).toContain('insufficient data');
    expect(text).not.toContain('+0.0 %');
    expect(r.comparisons[0]!.findings.filter((f) => f.metric === 'p50').every((f) => f.verdict === 'insufficient data')).toBe(true);
  });

  it('replicates from run folders (no summary.json yet, one archived): evidence from runs, per-test tolerance', async () => {
    const home = await makeTmpDir();
    await mkdir(join(home, 'runs'), { recursive: true });
    await writeFile(join(home, 'e3.json'), '{}');
    const runs = join(home, 'runs');
    const gen = (run: string, seed: number, factor?: number) =>
      generateRun({ dir: runs, run, seed, collectd: false, tests: small, threads: [{ name: 't', stages: smallStages, ...(factor ? { latencyFactor: { 'git clone': factor } } : {}) }] });
    const A = [await gen('a1-20261125T100000Z', 21), await gen('a2-20261125T100000Z', 22), await gen('a3-20261125T100000Z', 23)];
    const B = [await gen('b1-20261125T100000Z', 31, 1.3), await gen('b2-20261125T100000Z', 32, 1.3), await gen('b3-20261125T100000Z', 33, 1.3)];
    await mkdir(join(home, 'archive'));
    await rename(A[0]!.runDir, join(home, 'archive', A[0]!.run));
    const r = await compare({ baseline: A.map((x) => x.run), contender: B.map((x) => x.runDir), home, cwd: home, write: false });
    const c = r.comparisons[0]!;
    expect(c.evidence).toBe('runs');
    expect(c.baseline).toEqual(A.map((x) => x.run));
    expect(c.findings.filter((f) => f.verdict === 'regression').map((f) => f.test)).toContain('clone');
    expect(c.findings.filter((f) => f.verdict === 'regression' && f.test !== 'clone')).toEqual([]);
    const tolerant = await compare({ baseline: A.map((x) => x.run), contender: B.map((x) => x.runDir), home, cwd: home, write: false, tests: parseTestTolerances(['clone=0.5']) });
    expect(tolerant.regressions).toBe(0);
  }, 120_000);

  it('compares the threads of one run with its first thread', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({ dir, seed: 5, collectd: false, tests: small, threads: [{ name: 'one', stages: smallStages }, { name: 'two', stages: smallStages, latencyFactor: { 'git clone': 1.5 } }] });
    const r = await compare({ baseline: g.runDir, write: false });
    expect(r.comparisons).toHaveLength(1);
    expect(r.comparisons[0]!.threads).toEqual({ baseline: 'one', contender: 'two' });
    expect(new Set(r.comparisons[0]!.findings.filter((f) => f.verdict === 'regression').map((f) => f.test))).toEqual(new Set(['clone']));
  }, 120_000);

  it('--fail-on-regression exits 6 when a regression is flagged and 0 otherwise; --json prints the result', async () => {
    const dir = await makeTmpDir();
    const a = await generateRun({ dir, run: 'base-20261125T100000Z', seed: 11, collectd: false, tests: small, threads: [{ name: 't', stages: smallStages }] });
    const b = await generateRun({ dir, run: 'new-20261126T100000Z', seed: 12, collectd: false, tests: small, threads: [{ name: 't', stages: smallStages, latencyFactor: { 'GET /repos': 1.3 } }] });
    expect(EXIT.regression).toBe(6);
    const bad = await cli([a.runDir, b.runDir, '--fail-on-regression', '--out', dir], dir);
    expect(bad.code).toBe(6);
    expect(bad.out).toMatch(/\d+ regressions? flagged/);
    const same = await cli(['--baseline', a.runDir, '--contender', a.runDir, '--fail-on-regression', '--out', dir], dir);
    expect(same.code).toBe(0);
    expect(same.out).toContain('no regression beyond tolerance');
    const plain = await cli([a.runDir, b.runDir, '--out', dir], dir);
    expect(plain.code).toBe(0);
    const json = await cli([a.runDir, b.runDir, '--out', dir, '--json'], dir);
    expect(JSON.parse(json.out).regressions).toBeGreaterThan(0);
  }, 120_000);

  it('rejects a bad tolerance file naming the field, and one thread with nothing to compare', async () => {
    const dir = await makeTmpDir();
    const file = join(dir, 'tolerances.json');
    await writeFile(file, JSON.stringify({ tests: { clone: { latency: 2 } } }));
    await expect(readToleranceFile(file)).rejects.toMatchObject({ code: 'E3_INVALID_FILE', message: expect.stringContaining('tests.clone.latency') });
    await writeFile(file, JSON.stringify({ noiseFloor: 0.1, tests: { clone: 0.2, push: { errorRate: 0.05 } } }));
    expect(await readToleranceFile(file)).toEqual({ noiseFloor: 0.1, tests: { clone: { latency: 0.2, throughput: 0.2 }, push: { errorRate: 0.05 } } });
    expect(() => parseTestTolerances(['clone'])).toThrow(/--test-tolerance clone/);
    const g = await generateRun({ dir, seed: 5, collectd: false, tests: small, threads: [{ name: 'one', stages: smallStages }] });
    await expect(compare({ baseline: g.runDir })).rejects.toMatchObject({ code: 'E3_USAGE' });
  });
});
