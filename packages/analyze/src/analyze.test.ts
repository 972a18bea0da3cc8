import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { ANALYSIS_SUMMARY_FILE, renderError, type E3Error, type AnalysisSummary, type SampleRow, loadFile, readPhaseStatus, runDirPaths, writeGatherManifest, writePhaseStatus } from '@e3/model';
import { runCli } from '@e3/model/cli';
import { makeTmpDir, writeTree } from '@e3/test-utils';

import { generateRun } from '../test/helpers/generate-run.js';
import { analyze, analyzeCommand, formatAnalyzeResult, glance } from './analyze.js';

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);

/** 100 requests of op "a" with durations 1..100 ms (every 20th fails) and one cut, 50 transactions of 10 ms; split over 2 workers. */
function rows(worker: number): SampleRow[] {
  const out: SampleRow[] = [];
  for (let i = 1; i <= 100; i++) {
    if (i % 2 !== worker) continue;
    const ok = i % 20 !== 0;
    out.push({ start: T0 + i * 50, duration: i, test: 'T', op: 'a', kind: 'request', client: i % 4, iteration: i, ok, status: ok ? 200 : 500, bytes: 10, ...(ok ? {} : { error: `http 500 on /repo/${1000 + i}` }) });
  }
  for (let i = 0; i < 50; i++) {
    if (i % 2 !== worker) continue;
    out.push({ start: T0 + i * 100, duration: 10, test: 'T', op: 'T', kind: 'transaction', client: i % 4, iteration: i, ok: true, status: 0, bytes: 0 });
  }
  // Cut at the stage end: neither a success nor a failure, and no latency.
  if (worker === 0) out.push({ start: T0 + 9_000, duration: 99_999, test: 'T', op: 'a', kind: 'request', client: 0, iteration: 101, ok: false, status: 0, bytes: 0, error: 'cut' });
  // A request-only test with two ops: 10 × 4 ms on "x", 30 × 8 ms on "y".
  for (let i = 0; i < 40; i++) {
    if (i % 2 !== worker) continue;
    out.push({ start: T0 + i * 200, duration: i < 10 ? 4 : 8, test: 'R', op: i < 10 ? 'x' : 'y', kind: 'request', client: 4, iteration: i, ok: true, status: 200, bytes: 1 });
  }
  return out;
}

async function smallRun(thresholds?: object[]) {
  const dir = await makeTmpDir();
  return generateRun({
    dir,
    startAt: T0,
    collectd: false,
    tests: [],
    threads: [{ name: 'only', workers: 2, stages: [{ clients: 5, durationMs: 10_000 }] }],
    rows: (_t, _s, w) => rows(w),
    ...(thresholds ? { thresholds: thresholds as never } : {}),
  });
}

describe('glance', () => {
  const st = (index: number, load: number, tps: number) => ({ index, load, tps, status: 'succeeded' });
  it('finds the peak and the first stage that stopped scaling', () => {
    expect(glance([st(0, 10, 100), st(1, 20, 190), st(2, 40, 250), st(3, 80, 240)], () => 0)).toEqual({
      peak: { stage: 2, load: 40, tps: 250 },
      breaksAt: { stage: 2, load: 40, reason: "throughput per unit of load fell to 63 % of stage 000's" },
    });
    expect(glance([st(0, 10, 100), st(1, 20, 190), st(2, 40, 150)], () => 0).breaksAt).toEqual({ stage: 2, load: 40, reason: 'throughput fell from 190.00 to 150.00 TPS' });
    expect(glance([st(0, 10, 100), st(1, 20, 200)], (s) => (s === 1 ? 0.2 : 0)).breaksAt).toEqual({ stage: 1, load: 20, reason: '20.00 % of samples failed' });
    expect(glance([st(0, 10, 100), st(1, 20, 200)], () => 0)).toEqual({ peak: { stage: 1, load: 20, tps: 200 } });
  });
});

describe('analyze', () => {
  it('computes counts, TPS and percentiles that equal the hand-computed ones', async () => {
    const g = await smallRun();
    const r = await analyze({ run: g.runDir, charts: false, report: false });
    const s = await loadFile<AnalysisSummary>('analysis-summary', join(g.runDir, 'analysis', ANALYSIS_SUMMARY_FILE));
    const a = s.rows.find((x) => x.test === 'T' && x.op === 'a')!;
    expect(a).toMatchObject({ kind: 'request', count: 100, errors: 5, errorRate: 0.05, tps: 10, mean: 50.5, min: 1, max: 100, bytes: 1000 });
    // Nearest-rank percentiles of 1..100 are 50, 90, 95, 99; HDR keeps 3 significant digits.
    for (const [p, v] of [['p50', 50], ['p90', 90], ['p95', 95], ['p99', 99]] as const) expect(Math.abs(a[p] - v) / v).toBeLessThan(1e-3);
    expect(s.rows.find((x) => x.test === 'T' && x.kind === 'transaction')).toMatchObject({ count: 50, tps: 5, mean: 10 });
    const merged = s.rows.find((x) => x.test === 'R' && x.op === '*')!;
    expect(merged).toMatchObject({ kind: 'request', count: 40, tps: 4, mean: 7, min: 4, max: 8 });
    // Thread TPS: T by its transactions (5/s) + R by its requests (4/s); requests of T are not added.
    expect(s.threads[0]!.stages[0]).toMatchObject({ tps: 9, samples: 191, load: 5, windowMs: 10_000, status: 'succeeded' });
    expect(s.errors[0]).toMatchObject({ test: 'T', op: 'a', count: 5, error: 'http 500 on /repo/#' });
    expect(s.errors[0]!.examples).toHaveLength(3);
    expect(r.exitCode).toBe(0);
    expect(s.verdict).toMatchObject({ passed: true, thresholds: 0 });
    expect(await readPhaseStatus(g.runDir, 'analyze')).toMatchObject({ phase: 'analyze', status: 'succeeded' });
  });

  it('exits 5 naming the violated threshold, and 0 when thresholds hold', async () => {
    const failing = await smallRun([{ test: 'T', op: 'a', p95: 50 }, { test: 'T', errorRate: 0.01 }]);
    const out: string[] = [];
    const stdout = { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream;
    const code = await runCli({ scriptName: 'e3-analyze', version: '0', single: true, commands: [analyzeCommand], argv: ['-r', failing.runDir], stdout, stderr: stdout });
    expect(code).toBe(5);
    const text = out.join('');
    expect(text).toContain('verdict: FAILED (1 of 2 checks)');
    expect(text).toMatch(/FAILED: only stage 000 T \/ a \(request\): p95 95(\.\d+)? ms exceeds 50 ms/);

    const passing = await smallRun([{ test: 'T', op: 'a', p95: 200, errorRate: 0.1 }, { minTps: 4 }]);
    const code2 = await runCli({ scriptName: 'e3-analyze', version: '0', single: true, commands: [analyzeCommand], argv: ['-r', passing.runDir, '--json'], stdout: { write: () => true } as never });
    expect(code2).toBe(0);
    const summary = JSON.parse(await readFile(join(passing.runDir, 'analysis', ANALYSIS_SUMMARY_FILE), 'utf8')) as AnalysisSummary;
    expect(summary.verdict.passed).toBe(true);
    expect(summary.verdict.checks.map((c) => c.metric)).toEqual(['p95', 'errorRate', 'minTps', 'minTps']);
  });

  it('fails a threshold that matches no samples', async () => {
    const g = await smallRun([{ test: 'nope', p95: 1 }]);
    const r = await analyze({ run: g.runDir, charts: false, report: false });
    expect(r.exitCode).toBe(5);
    expect(r.summary.verdict.failed).toEqual(['FAILED: threshold #1 (test "nope") matched no samples']);
  });

  it('analyses a partial run and says which stages are missing or degraded', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({
      dir,
      collectd: false,
      tests: [{ test: 'T', ops: [{ op: 'a', medianMs: 100 }] }],
      threads: [{ name: 'p', workers: 1, stages: [{ clients: 2, durationMs: 2000 }, { clients: 4, durationMs: 2000, status: 'degraded' }, { clients: 8, durationMs: 2000, missing: true }] }],
    });
    await writePhaseStatus(g.runDir, { phase: 'run', status: 'aborted', startedAt: new Date(T0).toISOString(), version: '0' });
    const r = await analyze({ run: g.runDir, charts: false, report: false });
    expect(r.summary.warnings).toEqual(['phases/run.json says aborted: this analysis covers what had arrived by now']);
    const stages = r.summary.threads[0]!.stages;
    expect(stages.map((s) => s.status)).toEqual(['succeeded', 'degraded', 'missing']);
    expect(stages[2]).toMatchObject({ load: null, tps: null, samples: 0 });
    expect(stages[1]!.notes[0]).toBe('status degraded');
    expect(r.summary.complete).toBe(false);
  });

  it('prints where the files are, each stage and the verdict', async () => {
    const g = await smallRun([{ test: 'T', op: 'a', p95: 50 }]);
    const r = await analyze({ run: g.runDir, charts: false });
    expect(formatAnalyzeResult(r).replaceAll(g.runDir, '<run>')).toMatchInlineSnapshot(`
"gen-20261125T100000Z: 191 samples
  only (thread-001): peak 9.00 TPS at load 5; did not break
    stage 000  load 5  succeeded   9.00 TPS  errors 0.00 %
verdict: FAILED (1 of 1 checks)
  FAILED: only stage 000 T / a (request): p95 95.039 ms exceeds 50 ms
report: <run>/analysis/report.html
summary: <run>/analysis/summary.json"
`);
  });

  it('prints the same TPS and p95 strings in the CLI text and report.html, rounded half away from zero', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({
      dir, seed: 5, collectd: false, tests: [{ test: 'clone', ops: [{ op: 'git clone', medianMs: 37.7 }] }],
      threads: [{ name: 't', workers: 1, stages: [{ clients: 3, durationMs: 7000 }, { clients: 5, durationMs: 7000 }] }],
      thresholds: [{ test: 'clone', p95: 1 }],
    });
    const r = await analyze({ run: g.runDir, charts: false });
    const text = formatAnalyzeResult(r);
    const html = await readFile(r.reportFile!, 'utf8');
    for (const st of r.summary.threads[0]!.stages) {
      const cli = new RegExp(`stage ${st.key} .*? (\\S+) TPS`).exec(text)![1]!;
      // By hand: completions in the 7 s window / 7, never a decimal ending in 5, so Math.round is exact here.
      const inWindow = st.completed! - st.drainCount!;
      expect(cli).toBe((Math.round((inWindow * 100) / 7) / 100).toFixed(2));
      expect(html).toContain(`t · stage ${st.key} · load ${st.load} · ${cli} TPS`);
      expect(html).toContain(`<td>${cli}</td>`);
      const p95 = new RegExp(`t stage ${st.key} clone \\(transaction\\): p95 (\\S+) ms exceeds`).exec(text)![1]!;
      expect(p95).toMatch(/^\d+\.\d{3}$/);
      const section = html.split(`<details><summary>t · stage ${st.key} `)[1]!.split('</details>')[0]!;
      const row = /<td class="l">clone<\/td><td class="l">clone<\/td><td class="l">transaction<\/td>(.*?)<\/tr>/.exec(section)![1]!;
      const cells = [...row.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]);
      // count, errors, error rate, cut, in drain, TPS, mean, p50, p90, p95.
      expect(cells[9]).toBe(p95);
    }
  });

  it('keeps every percentile between the row\'s min and max (HDR\'s bucket tops lie above the largest value)', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({
      dir, seed: 3, collectd: false, tests: [{ test: 'clone', ops: [{ op: 'git clone', medianMs: 120 }] }, { test: 'browse', ops: [{ op: 'GET /a', medianMs: 30 }], transactions: false }],
      threads: [{ name: 'a', stages: [3, 6, 9].map((c) => ({ clients: c, durationMs: 4000 })) }],
    });
    const r = await analyze({ run: g.runDir, charts: false, report: false });
    for (const row of r.summary.rows) {
      const chain = [row.min, row.p50, row.p90, row.p95, row.p99, row.max];
      expect({ row: `${row.stage} ${row.test} ${row.op}`, chain }).toEqual({ row: `${row.stage} ${row.test} ${row.op}`, chain: [...chain].sort((x, y) => x - y) });
    }
  });

  it('skips a row cut off by an abort at the end of a samples file', async () => {
    const g = await smallRun();
    await appendFile(join(g.runDir, 'thread-001/worker-node-001/stage-000/samples.csv'), `${T0 + 9000},12,T,a,req`);
    const r = await analyze({ run: g.runDir, charts: false, report: false });
    expect(r.summary.samples).toBe(191);
  });

  it('reports a run that does not exist with a hint', async () => {
    const home = await makeTmpDir();
    const err = await analyze({ run: 'nope-20260101T000000Z', home, cwd: home }).catch((e: unknown) => e as E3Error);
    expect(err).toMatchObject({ code: 'E3_RUN_NOT_FOUND' });
    expect(renderError(err, { json: false }).text.replaceAll(home, '<home>')).toMatchInlineSnapshot(`
"[E3_RUN_NOT_FOUND] run "nope-20260101T000000Z" not found: no run folder (holding nope-20260101T000000Z.json) in <home>/runs, <home>/archive or <home>/nope-20260101T000000Z

Run \`e3 list runs\` to see the runs in e3-home, or pass the path of a run folder"
`);
  });
});

describe('vital signs in the analysis', () => {
  it('names every node without metrics with its reason, and flags the stage whose worker agent was overloaded', async () => {
    const g = await smallRun();
    const paths = runDirPaths(g.runDir);
    await writeTree(join(paths.workerNodeDir(0, 0), 'collectd-csv/localhost'), {
      'load/load-2026-11-25': `epoch,shortterm,midterm,longterm\n${T0 / 1000},1,2,3\n${T0 / 1000 + 5},2,2,3\n`,
    });
    await writeGatherManifest(g.runDir, {
      nodes: [
        { thread: 0, role: 'worker', index: 0, node: 'host-a', dir: 'thread-001/worker-node-001', files: {} },
        { thread: 0, role: 'worker', index: 1, node: 'host-b', dir: 'thread-001/worker-node-002', files: {}, error: { code: 'E3_NODE_UNREACHABLE', message: 'host-b: connection refused' } },
        { thread: 0, role: 'cluster', index: 0, node: 'bitbucket-1', dir: 'thread-001/cluster-node-001', files: {} },
      ],
    });
    // Worker 2's agent measured a 350 ms event-loop delay in its median second.
    const health = { hostCpuPercent: 60, processCpuPercent: 70, eventLoopDelayMs: 350, maxEventLoopDelayMs: 400, maxActive: 3 };
    await writeFile(paths.stageSummaryFile(0, 1, 0), JSON.stringify({ samples: rows(1).length, health }));
    await writeFile(paths.stageSummaryFile(0, 0, 0), JSON.stringify({ samples: rows(0).length, health: { ...health, eventLoopDelayMs: 100, processCpuPercent: 85 } }));

    const r = await analyze({ run: g.runDir, charts: false });
    expect(r.summary.metrics!.nodes.map((n) => [n.node, n.charts.map((c) => c.id)])).toEqual([['worker-node-001', ['load']]]);
    expect(r.summary.metrics!.missing).toEqual([
      { thread: 0, node: 'cluster-node-001', reason: 'no collectd CSV or RRD files in the stage windows (node bitbucket-1)' },
      { thread: 0, node: 'worker-node-002', reason: 'gather failed on host-b: [E3_NODE_UNREACHABLE] host-b: connection refused' },
    ]);
    expect(r.summary.generatorBound!.map((b) => [b.stage, b.worker, b.cpuPercent, b.eventLoopDelayMs])).toEqual([[0, 1, 70, 350]]);
    const report = await readFile(r.reportFile!, 'utf8');
    expect(report).toContain('worker-node-002: gather failed on host-b');
    expect(report).toContain('cluster-node-001: no collectd CSV or RRD files');
    expect(report).toContain('only stage 000: worker 2 was generator-bound (event-loop delay 350 ms &gt; 100 ms)');
    expect(report).toContain('<tr class="bad"><td class="l">only</td><td>000</td><td>2</td><td>60</td><td>70</td><td>350</td><td>400</td><td>3</td>');
    expect(report).toContain('<tr class=""><td class="l">only</td><td>000</td><td>1</td><td>60</td><td>85</td><td>100</td>');
  });
});
