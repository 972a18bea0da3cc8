import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { SAMPLES_HEADER, isE3Error, runDirPaths, type SampleRow, type StageRecord } from '@e3/model';
import { makeTmpDir } from '@e3/test-utils';

import { generateRun, type GenStage } from '../test/helpers/generate-run.js';
import { analyze, computeAnalysis, formatAnalyzeResult } from './analyze.js';
import { compare } from './compare.js';

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);
const LOAD_MS = 10_000;

/**
 * One worker, test T, transactions only. Hand count against a load window [T0, T0 + 10 s] and a 5 s drain:
 * 40 passes end inside the window (every 250 ms from T0, 10 ms each), 6 end in the drain (start at
 * T0 + 9.5 s, 2 s each: they end at T0 + 11.5 s and later), 3 are cut. Window TPS = 40 / 10 s = 4.
 */
function handRows(): SampleRow[] {
  const tx = (start: number, duration: number, i: number, extra: Partial<SampleRow> = {}): SampleRow => ({
    start, duration, test: 'T', op: 'T', kind: 'transaction', client: i % 4, iteration: i, ok: true, status: 0, bytes: 0, ...extra,
  });
  const out: SampleRow[] = [];
  for (let i = 0; i < 40; i++) out.push(tx(T0 + i * 250, 10, i));
  for (let i = 0; i < 6; i++) out.push(tx(T0 + 9_500 + i * 50, 2_000, 40 + i));
  for (let i = 0; i < 3; i++) out.push(tx(T0 + 9_900, 5_000, 50 + i, { ok: false, error: 'cut' }));
  return out;
}

async function handRun(stage: Partial<GenStage> = {}, thresholds?: object[]) {
  const dir = await makeTmpDir();
  return generateRun({
    dir,
    startAt: T0,
    collectd: false,
    tests: [],
    threads: [{ name: 'hand', workers: 1, stages: [{ clients: 4, durationMs: LOAD_MS, drainMs: 5_000, ...stage }] }],
    rows: () => handRows(),
    ...(thresholds ? { thresholds: thresholds as never } : {}),
  });
}

describe('the load window', () => {
  it('divides the completions that ended in the load window by its length and reports the drain beside them', async () => {
    const g = await handRun();
    const r = await analyze({ run: g.runDir, charts: false, report: false });
    const { summary } = r;
    expect(formatAnalyzeResult(r)).toContain('stage 000  load 4  succeeded   4.00 TPS  +6 in drain  cut 3  errors 0.00 %');
    const st = summary.threads[0]!.stages[0]!;
    expect(st).toMatchObject({ tps: 4, windowMs: LOAD_MS, loadWindow: true, drainCount: 6, completed: 46, cut: 3, drainEnd: T0 + 15_000, complete: true });
    expect(summary.rows.find((r) => r.kind === 'transaction')).toMatchObject({ count: 46, cut: 3, drainCount: 6, tps: 4, errors: 0, max: 2_000 });
    expect(summary.complete).toBe(true);
  });

  it('falls back to end − start for a run without loadEnd, and says so', async () => {
    const g = await handRun({ legacyWindow: true });
    const { summary } = await analyze({ run: g.runDir, charts: false, report: false });
    // The old window holds the drain: 46 / 15 s.
    expect(summary.threads[0]!.stages[0]).toMatchObject({ tps: 3.07, windowMs: 15_000, loadWindow: false, drainCount: null, cut: 3 });
    expect(summary.warnings.join('\n')).toContain('stages.json has no loadEnd');
  });

  it('gives compare the load-window throughput too', async () => {
    const a = await handRun();
    const b = await handRun();
    const r = await compare({ baseline: a.runDir, runs: [b.runDir], write: false });
    const tps = r.comparisons[0]!.findings.filter((f) => f.metric === 'tps' && f.stage === 0);
    expect(tps.length).toBeGreaterThan(0);
    for (const f of tps) expect(f.baseline).toBe(4);
  });
});

describe('open-model accounting', () => {
  const open = (record: Partial<StageRecord>) => ({ record: { rate: 5, ...record } });

  it('carries scheduled, started, late and dropped and holds scheduled = completed + cut + dropped', async () => {
    // 46 completed + 3 cut + 3 dropped = 52.
    const g = await handRun(open({ scheduled: 52, started: 49, late: 7, dropped: 3 }), [{ droppedRate: 0.05 }, { cutRate: 0.1 }]);
    const r = await analyze({ run: g.runDir, charts: false, report: false });
    const st = r.summary.threads[0]!.stages[0]!;
    expect(st).toMatchObject({ scheduled: 52, started: 49, late: 7, dropped: 3, completed: 46, cut: 3, notes: [] });
    // dropped 3 / 52 = 5.77 % > 5 %; cut 3 / 49 = 6.12 % ≤ 10 %.
    expect(r.summary.verdict.checks.map((c) => [c.metric, c.actual, c.passed])).toEqual([
      ['droppedRate', 0.0577, false],
      ['cutRate', 0.0612, true],
    ]);
    expect(r.exitCode).toBe(5);
  });

  it('notes a stage whose arrivals do not add up', async () => {
    const g = await handRun(open({ scheduled: 60, started: 49, late: 0, dropped: 3 }));
    const { summary } = await analyze({ run: g.runDir, charts: false, report: false });
    expect(summary.threads[0]!.stages[0]!.notes).toEqual(['open-model accounting does not add up: scheduled 60 ≠ completed 46 + cut 3 + dropped 3 (= 52)']);
    expect(summary.complete).toBe(false);
  });

  it("sums the agents' summary.json arrivals when stages.json has none", async () => {
    const g = await handRun(open({}));
    const paths = runDirPaths(g.runDir);
    await writeFile(paths.stageSummaryFile(0, 0, 0), JSON.stringify({ samples: 49, arrivals: { rate: 5, scheduled: 52, started: 49, late: 1, dropped: 3, lateThresholdMs: 10 } }));
    const { summary } = await analyze({ run: g.runDir, charts: false, report: false });
    expect(summary.threads[0]!.stages[0]).toMatchObject({ scheduled: 52, started: 49, late: 1, dropped: 3, complete: true });
  });
});

describe('samples that cannot be trusted', () => {
  it('marks a stage incomplete when its samples.csv holds fewer rows than the agent wrote', async () => {
    const g = await handRun();
    const paths = runDirPaths(g.runDir);
    const file = paths.samplesFile(0, 0, 0);
    await writeFile(paths.stageSummaryFile(0, 0, 0), JSON.stringify({ samples: 49 }));
    expect((await analyze({ run: g.runDir, charts: false, report: false })).summary.complete).toBe(true);
    // Truncate: the last 10 rows and half of the one before go.
    const lines = (await readFile(file, 'utf8')).split('\n');
    const kept = lines.slice(0, 1 + 38);
    await writeFile(file, `${kept.join('\n')}\n${lines[39]!.slice(0, 10)}`);
    const r = await analyze({ run: g.runDir, charts: true, report: true });
    const st = r.summary.threads[0]!.stages[0]!;
    expect(st.complete).toBe(false);
    expect(st.notes).toEqual(["worker 1: stage-000/samples.csv has 38 rows, its agent's summary.json says it wrote 49: truncated, this stage's numbers are short"]);
    expect(r.summary.complete).toBe(false);
    const html = await readFile(r.reportFile!, 'utf8');
    expect(html).toContain('Partial run: the stages noted here are incomplete or their samples cannot be trusted');
    expect(html).toContain('has 38 rows');
  });

  it('marks a stage incomplete when its samples.csv differs from what gather copied', async () => {
    const g = await handRun();
    const paths = runDirPaths(g.runDir);
    const file = paths.samplesFile(0, 0, 0);
    const bytes = await readFile(file);
    const rel = 'thread-001/worker-node-001/stage-000/samples.csv';
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await writeFile(paths.gatherManifest, JSON.stringify({
      formatVersion: 1,
      nodes: [{ thread: 0, role: 'worker', index: 0, node: 'localhost', dir: 'thread-001/worker-node-001', files: { [rel]: { size: bytes.length, mtimeMs: 0, sha256 } } }],
    }));
    expect((await analyze({ run: g.runDir, charts: false, report: false })).summary.complete).toBe(true);
    // Same size, one digit changed: only the hash tells.
    const text = bytes.toString('utf8');
    const at = text.indexOf(',10,T,') + 2;
    await writeFile(file, text.slice(0, at) + '9' + text.slice(at + 1));
    expect((await stat(file)).size).toBe(bytes.length);
    const { summary } = await analyze({ run: g.runDir, charts: false, report: false });
    expect(summary.threads[0]!.stages[0]!.complete).toBe(false);
    expect(summary.threads[0]!.stages[0]!.notes[0]).toMatch(/^worker 1: stage-000\/samples\.csv differs from what gather copied/);
  });
});

describe('absurd numbers in samples.csv', () => {
  const ROW = (start: string, duration: string) => `${start},${duration},T,T,transaction,0,1,1,0,0,,,`;
  const cases: Array<[string, string, string, RegExp]> = [
    ['Infinity duration', String(T0 + 100), 'Infinity', /:3: duration Infinity is not a duration in ms/],
    ['1e300 duration', String(T0 + 100), '1e300', /:3: duration 1e\+300 is not a duration in ms/],
    ['negative duration', String(T0 + 100), '-5', /:3: duration -5 is not a duration in ms/],
    ['NaN start', 'NaN', '5', /:3: a numeric field is not a number/],
    ['a start past the year 5138', '1e15', '5', /:3: start 1000000000000000 is not an epoch time/],
  ];
  it.each(cases)('%s is E3_SAMPLES_FORMAT naming file and line, in analyze and compare', async (_name, start, duration, message) => {
    const g = await handRun();
    const file = runDirPaths(g.runDir).samplesFile(0, 0, 0);
    await writeFile(file, `${SAMPLES_HEADER}\n${ROW(String(T0), '5')}\n${ROW(start, duration)}\n`);
    const err = await analyze({ run: g.runDir, charts: false, report: false }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E3_SAMPLES_FORMAT' });
    expect((err as Error).message.startsWith(`${file}:3: `)).toBe(true);
    expect((err as Error).message).toMatch(message);
    const other = await handRun();
    const err2 = await compare({ baseline: other.runDir, runs: [g.runDir], write: false }).catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: 'E3_SAMPLES_FORMAT' });
  });

  it('accepts the documented bound itself (a 1e9 ms duration)', async () => {
    const g = await handRun();
    await writeFile(runDirPaths(g.runDir).samplesFile(0, 0, 0), `${SAMPLES_HEADER}\n${ROW(String(T0), '1000000000')}\n`);
    const { summary } = await analyze({ run: g.runDir, charts: false, report: false });
    expect(summary.rows[0]).toMatchObject({ count: 1, max: 1e9, drainCount: 1 });
  });
});

describe('analysis input, fuzzed', () => {
  const RUNS = Number(process.env.E3_FUZZ_RUNS ?? 60);
  const num = fc.oneof(
    fc.constantFrom('Infinity', '-Infinity', 'NaN', '1e300', '-1', '-0.5', '', 'x', '1e9', '1e15', '0x10', ' 5'),
    fc.double({ noNaN: false }).map(String),
    fc.nat(20_000).map(String),
  );
  const field = fc.oneof(fc.string({ maxLength: 6 }).map((s) => s.replace(/[\r\n]/g, '')), fc.constantFrom('transaction', 'request', 'cut', '"a,b"', '1', '0'));
  /** A valid row, then some of its fields replaced by hostile text. */
  const line = fc
    .tuple(fc.nat(20_000), fc.nat(3_000), fc.boolean(), fc.array(fc.tuple(fc.nat(12), fc.oneof(num, field)), { maxLength: 3 }))
    .map(([s, d, ok, edits]) => {
      const f = [String(T0 + s), String(d), 'T', 'T', 'transaction', '0', '1', ok ? '1' : '0', '0', '0', '', '', ok ? '' : 'cut'];
      for (const [i, v] of edits) f[i] = v;
      return f.join(',');
    });

  it(`turns ${RUNS} hostile samples files into a summary or E3_SAMPLES_FORMAT naming file and line, never a crash`, async () => {
    const g = await handRun();
    const file = runDirPaths(g.runDir).samplesFile(0, 0, 0);
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 20 }), async (lines) => {
        await writeFile(file, `${SAMPLES_HEADER}\n${lines.join('\n')}\n`);
        try {
          const { summary } = await computeAnalysis(g.runDir, { workers: 0 });
          const st = summary.threads[0]!.stages[0]!;
          expect(st.samples).toBe(lines.length);
          for (const r of summary.rows) for (const v of [r.mean, r.min, r.max, r.p50, r.p99, r.tps ?? 0]) expect(Number.isFinite(v) && v >= 0).toBe(true);
        } catch (err) {
          if (!isE3Error(err) || err.code !== 'E3_SAMPLES_FORMAT') throw err;
          expect(err.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: `));
          refused++;
        }
      }),
      { numRuns: RUNS },
    );
    expect(refused).toBeGreaterThan(0);
  });
});
