import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { beforeAll, describe, expect, it } from '@jest/globals';

import { analyze } from '@e3/analyze';
import type * as AnalyzeApi from '@e3/analyze';
import { ANALYSIS_SUMMARY_FILE, type AnalysisSummary } from '@e3/model';
import { makeTmpDir, repoRoot } from '@e3/test-utils';

import { generateRun } from './helpers/generate-run.js';

const pkg = join(repoRoot, 'packages/analyze');

/** The compiled package, as `npx @e3/analyze` runs it, built from the current sources. */
beforeAll(() => {
  for (const name of ['model', 'analyze']) execFileSync('npx', ['tsc', '-p', `packages/${name}/tsconfig.build.json`], { cwd: repoRoot, stdio: 'ignore' });
  expect(existsSync(join(pkg, 'dist/aggregate-worker.js'))).toBe(true);
}, 180_000);

const tests = [
  { test: 'clone', ops: [{ op: 'git clone', medianMs: 100, errorRate: 0.02 }] },
  { test: 'browse', ops: [{ op: 'GET /a', medianMs: 20 }, { op: 'GET /b', medianMs: 30 }], transactions: false },
];

describe('compiled @e3/analyze', () => {
  it('aggregates and renders on worker threads with the same numbers as in process', async () => {
    const dir = await makeTmpDir();
    const stages = [{ clients: 4, durationMs: 3000 }, { clients: 8, durationMs: 3000 }];
    const g = await generateRun({ dir, seed: 8, tests, threads: [{ name: 'a', stages }, { name: 'b', stages }] });
    const compiled = (await import(pathToFileURL(join(pkg, 'dist/index.js')).href)) as typeof AnalyzeApi;
    const parallel = await compiled.analyze({ run: g.runDir, workers: 2, report: false });
    const series = readFileSync(join(parallel.analysisDir, 'timeseries.csv'), 'utf8');
    const inProcess = await analyze({ run: g.runDir, workers: 0, report: false });
    // The per-second series (exact percentiles) come back from the worker threads unchanged.
    expect(series.split('\n').length).toBeGreaterThan(10);
    expect(readFileSync(join(inProcess.analysisDir, 'timeseries.csv'), 'utf8')).toBe(series);
    const strip = (s: AnalysisSummary) => ({ ...s, generatedAt: '' });
    expect(strip(parallel.summary)).toEqual(strip(inProcess.summary));
    expect(parallel.charts).toEqual(inProcess.charts);
  });

  it('runs as a bin: exit 5 with a failed threshold, JSON on stdout with --json', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({ dir, seed: 3, collectd: false, tests, threads: [{ name: 'a', stages: [{ clients: 4, durationMs: 2000 }] }], thresholds: [{ test: 'clone', p95: 10 }] });
    const r = spawnSync(process.execPath, [join(pkg, 'bin/e3-analyze.js'), '-r', g.runDir, '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(5);
    const out = JSON.parse(r.stdout) as AnalysisSummary;
    expect(out.verdict.passed).toBe(false);
    expect(JSON.parse(readFileSync(join(g.runDir, 'analysis', ANALYSIS_SUMMARY_FILE), 'utf8'))).toMatchObject({ run: g.run, verdict: { passed: false } });
    const missing = spawnSync(process.execPath, [join(pkg, 'bin/e3-analyze.js'), '-r', join(dir, 'nope')], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('[E3_RUN_NOT_FOUND]');
  });
});
