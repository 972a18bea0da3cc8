/// <reference lib="dom" />
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from '@jest/globals';
import puppeteer from 'puppeteer-core';

import { analyze } from '@e3/analyze';
import { runDirPaths, type SampleRow, type Tick } from '@e3/model';
import { makeTmpDir } from '@e3/test-utils';

import { generateRun } from './helpers/generate-run.js';

const exec = promisify(execFile);
const CHROMIUM = process.env.E3_CHROMIUM ?? '/usr/bin/chromium';
const STAGE_S = 6;

/** Hand-made ticks of worker `w` (second `sec` of a stage): known counts and percentiles. */
function tick(start: number, sec: number, w: number): Tick {
  return {
    t: start + (sec + 1) * 1000, second: sec, active: 3 + w,
    ops: [
      { test: 'clone', op: 'clone', kind: 'transaction', count: 2 + sec + w, errors: sec % 2, p50: 10 * (w + 1), p95: 20 * (w + 1), p99: 30 * (w + 1), max: 40 * (w + 1) },
      { test: 'clone', op: 'git clone', kind: 'request', count: 50, errors: 7, p50: 1, p95: 1, p99: 1, max: 9999 },
      { test: 'browse', op: 'GET /projects', kind: 'request', count: 1, errors: 0, p50: 5, p95: 5, p99: 5, max: 5 },
    ],
  };
}

/** A generated run (threads a and b, b slower) whose thread a workers recorded the ticks above; returns it analysed. */
async function run() {
  const dir = await makeTmpDir();
  const stages = [{ clients: 4, durationMs: STAGE_S * 1000 }, { clients: 8, durationMs: STAGE_S * 1000 }];
  const g = await generateRun({
    dir, seed: 7, collectd: false,
    tests: [
      { test: 'clone', ops: [{ op: 'git clone', medianMs: 80 }] },
      { test: 'browse', ops: [{ op: 'GET /projects', medianMs: 20 }], transactions: false },
    ],
    threads: [{ name: 'a', stages }, { name: 'b', stages, latencyFactor: { 'git clone': 3, 'GET /projects': 3 } }],
    thresholds: [{ test: 'clone', p95: 1 }],
  });
  const paths = runDirPaths(g.runDir);
  for (const [si, [start]] of g.windows[0]!.entries()) {
    for (const w of [0, 1]) {
      const samples = (await readFile(paths.samplesFile(0, w, si), 'utf8')).trimEnd().split('\n').length - 1;
      const ticks = Array.from({ length: STAGE_S }, (_, sec) => tick(start, sec, w));
      await writeFile(paths.stageSummaryFile(0, w, si), JSON.stringify({ samples, ticks }));
    }
  }
  return { g, r: await analyze({ run: g.runDir }) };
}

const S = Date.UTC(2026, 10, 25, 10, 0, 0);

/**
 * Thread "a", one 6 s stage from S (load window [S, S + 6 s]), two workers, two tests: "clone" records
 * transactions (its "git clone" requests must not count), "browse" records requests only. Second A is
 * (S + 1 s, S + 2 s], second B (S + 2 s, S + 3 s]; a row's end is (intended ?? start) + duration.
 */
function handRows(worker: number): SampleRow[] {
  const row = (test: string, op: string, kind: SampleRow['kind'], start: number, duration: number, extra: Partial<SampleRow> = {}): SampleRow => ({
    start, duration, test, op, kind, client: worker, iteration: 0, ok: true, status: kind === 'request' ? 200 : 0, bytes: 1, ...extra,
  });
  const browse = (start: number, duration: number, extra: Partial<SampleRow> = {}) => row('browse', 'GET /projects', 'request', start, duration, extra);
  const clone = (start: number, duration: number, extra: Partial<SampleRow> = {}) => row('clone', 'clone', 'transaction', start, duration, extra);
  const gitClone = (start: number, duration: number, extra: Partial<SampleRow> = {}) => row('clone', 'git clone', 'request', start, duration, extra);
  const failed = { ok: false, status: 500, error: 'http 500' };
  if (worker === 0) {
    return [
      // Second A: 99 browse requests of 1 ms (one failed), clone passes of 200, 300 and 400 ms and their requests.
      ...Array.from({ length: 99 }, (_, i) => browse(S + 1100 + i * 5, 1, i === 7 ? failed : {})),
      gitClone(S + 1000, 7, failed), gitClone(S + 1010, 7), gitClone(S + 1020, 7, failed),
      clone(S + 1000, 200), clone(S + 1100, 300), clone(S + 1200, 400),
      // Second B: browse 10 and 20 ms; an open-model row that ends in B by its intended start (S + 2.6 s), in C by its start.
      browse(S + 2100, 10), browse(S + 2200, 20), browse(S + 3200, 100, { intended: S + 2500 }),
      // A clone request in B: requests of a test with transactions are not completions.
      gitClone(S + 2100, 5),
    ];
  }
  return [
    // Second A: one browse request of 1000 ms; clone passes of 500 (failed) and 600 ms, and a cut one.
    browse(S + 900, 1000),
    clone(S + 1000, 500, { ok: false, error: 'transaction failed' }), clone(S + 1050, 600),
    clone(S + 1000, 900, { ok: false, error: 'cut' }),
    // Second B: a browse request that ends exactly at its end (S + 3 s).
    browse(S + 2000, 1000),
    // The drain: ends at S + 7.3 s, a second no worker ticked.
    browse(S + 6500, 800),
  ];
}

describe('time series', () => {
  it('computes each second exactly from every worker\'s samples, a killed worker\'s too, and takes active clients from the ticks', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({
      dir, startAt: S, collectd: false,
      tests: [{ test: 'clone', ops: [{ op: 'git clone', medianMs: 1 }] }, { test: 'browse', ops: [{ op: 'GET /projects', medianMs: 1 }], transactions: false }],
      threads: [{ name: 'a', stages: [{ clients: 2, durationMs: 6000, drainMs: 2000 }] }],
      rows: (_t, _s, w) => handRows(w),
    });
    const paths = runDirPaths(g.runDir);
    // Worker 0 ticked each second (its clock 3 ms late), 2 + k operations in flight; worker 1 was killed: no summary.json.
    const ticks: Tick[] = Array.from({ length: 6 }, (_, k) => ({ t: S + (k + 1) * 1000 + 3, second: k, active: 2 + k, ops: [] }));
    await writeFile(paths.stageSummaryFile(0, 0, 0), JSON.stringify({ samples: handRows(0).length, ticks }));
    expect(existsSync(paths.stageSummaryFile(0, 1, 0))).toBe(false);
    const r = await analyze({ run: g.runDir, charts: false, report: false });
    const csv = (await readFile(join(r.analysisDir, 'timeseries.csv'), 'utf8')).trimEnd().split('\n');
    expect(csv[0]).toBe('thread,stage,test,time,epoch_ms,completions,errors,p50_ms,p95_ms,p99_ms,max_ms,active,arrivals');
    const at = (ms: number) => `${new Date(S + ms).toISOString()},${S + ms}`;
    expect(csv.slice(1)).toEqual([
      `a,0,*,${at(1000)},0,0,,,,,2,`,
      // Second A, every test: browse 99 × 1 ms + 1 × 1000 ms, clone 200, 300, 400, 500, 600 (the cut pass and the
      // git clone requests excluded): n = 105, sorted 1 (×99), 200, 300, 400, 500, 600, 1000. Nearest rank:
      // p50 = 53rd = 1, p95 = ⌈99.75⌉ = 100th = 200, p99 = ⌈103.95⌉ = 104th = 600, max 1000; errors: the browse
      // request and the clone pass that failed. (Each worker's per-op p99 weighted by its
      // count, the old method, gives (99·1 + 3·400 + 1·1000 + 2·600) / 105 ≈ 33.3 ms, a duration no pass took.)
      `a,0,*,${at(2000)},105,2,1,200,600,1000,3,`,
      // Second B: browse 10, 20, 100 (ended S + 2.6 s by its intended start) and 1000 (ended at S + 3 s exactly):
      // n = 4, p50 = 2nd = 20, p95 = ⌈3.8⌉ = 4th = 1000, p99 = 4th = 1000.
      `a,0,*,${at(3000)},4,0,20,1000,1000,1000,4,`,
      `a,0,*,${at(4000)},0,0,,,,,5,`,
      `a,0,*,${at(5000)},0,0,,,,,6,`,
      `a,0,*,${at(6000)},0,0,,,,,7,`,
      // The drain pass of 800 ms ended at S + 7.3 s: no tick, active empty.
      `a,0,*,${at(8000)},1,0,800,800,800,800,,`,
      // browse in A: 99 × 1 ms and 1 × 1000 ms, one error: p50 = p95 = p99 = 1 (99th of 100), max 1000.
      `a,0,browse,${at(2000)},100,1,1,1,1,1000,,`,
      `a,0,browse,${at(3000)},4,0,20,1000,1000,1000,,`,
      `a,0,browse,${at(8000)},1,0,800,800,800,800,,`,
      // clone in A: 200, 300, 400, 500 (failed), 600: p50 = ⌈2.5⌉ = 3rd = 400, p95 = ⌈4.75⌉ = 5th = 600, p99 = 600.
      `a,0,clone,${at(2000)},5,1,400,600,600,600,,`,
    ]);
    // The killed worker's samples are in the stage's counts too (the aggregate and the series agree).
    expect(r.summary.rows.find((x) => x.test === 'clone' && x.kind === 'transaction')).toMatchObject({ count: 5, cut: 1, errors: 1 });
  });

  it('report.html at 1280×800: the question, answer and verdict on the first screen, no horizontal scroll, time-series charts drawn, a PDF with the charts', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set E3_CHROMIUM)`);
    const { g, r } = await run();
    expect(r.exitCode).toBe(5);
    // Which thread completed more passes at the top stage, counted from the samples.csv files themselves.
    const passes = async (t: number) => {
      let n = 0;
      for (const w of [0, 1]) n += (await readFile(runDirPaths(g.runDir).samplesFile(t, w, 1), 'utf8')).split('\n').filter((l) => l.includes(',transaction,')).length;
      return n;
    };
    const [pa, pb] = [await passes(0), await passes(1)];
    expect(pa).not.toBe(pb);
    const more = pa > pb ? 'a' : 'b';

    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 800 });
      const errors: string[] = [];
      page.on('console', (m) => (m.type() === 'error' || m.type() === 'warn') && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push((e as Error).message));
      await page.goto(pathToFileURL(r.reportFile!).href, { waitUntil: 'load' });
      const seen = await page.evaluate(() => {
        const box = (sel: string) => document.querySelector(sel)?.getBoundingClientRect();
        const inked = (c: HTMLCanvasElement) => {
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
          return n / (c.width * c.height);
        };
        const ts = Array.from(document.querySelectorAll('#over-time-charts canvas')) as HTMLCanvasElement[];
        const all = Array.from(document.querySelectorAll('canvas[data-chart]')) as HTMLCanvasElement[];
        return {
          scrollWidth: document.documentElement.scrollWidth,
          question: document.querySelector('#answer .question')?.textContent ?? '',
          answer: document.querySelector('#answer .answer')?.textContent ?? '',
          verdict: document.querySelector('#answer .verdict')?.textContent ?? '',
          answerBottom: box('#answer')?.bottom ?? Infinity,
          openDetails: document.querySelectorAll('#summary ~ details[open]').length,
          timeseries: ts.map(inked),
          undrawn: all.filter((c) => !c.dataset.drawn).length,
        };
      });
      expect(errors).toEqual([]);
      expect(seen.scrollWidth).toBeLessThanOrEqual(1280);
      expect(seen.question).toContain('generated run');
      expect(seen.answer).toContain(`"${more}" held the most`);
      expect(seen.verdict).toContain('FAILED');
      expect(seen.answerBottom).toBeLessThanOrEqual(800);
      expect(seen.openDetails).toBe(0);
      expect(seen.undrawn).toBe(0);
      expect(seen.timeseries.length).toBeGreaterThanOrEqual(2);
      for (const ink of seen.timeseries) expect(ink).toBeGreaterThan(0.01);
    } finally {
      await browser.close();
    }

    const pdf = join(r.analysisDir, 'report.pdf');
    await exec(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-pdf-header-footer', `--print-to-pdf=${pdf}`, pathToFileURL(r.reportFile!).href], { timeout: 120_000 });
    const bytes = await readFile(pdf);
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect((await stat(pdf)).size).toBeGreaterThan(100_000);
    // Chromium prints each drawn canvas as an image: at least one per chart.
    expect(bytes.toString('latin1').match(/\/Subtype\s*\/Image/g)?.length ?? 0).toBeGreaterThanOrEqual(r.charts.length);
  }, 240_000);
});
