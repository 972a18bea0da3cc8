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
import { runDirPaths, type Tick } from '@e3/model';
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

describe('time series from the agents\' ticks', () => {
  it('writes timeseries.csv per thread, second and test, summing workers and weighting their percentiles by count', async () => {
    const { g, r } = await run();
    const csv = (await readFile(join(r.analysisDir, 'timeseries.csv'), 'utf8')).trimEnd().split('\n');
    expect(csv[0]).toBe('thread,stage,test,time,epoch_ms,completions,errors,p50_ms,p95_ms,p99_ms,max_ms,active,arrivals');
    const rows = csv.slice(1).map((l) => l.split(','));
    const overall = rows.filter((x) => x[0] === 'a' && x[2] === '*');
    expect(overall).toHaveLength(2 * STAGE_S);
    // Second 3 of stage 1, by hand: worker 0 passes 5 (p50 10), worker 1 passes 6 (p50 20), browse 1 request per worker (p50 5).
    const start1 = g.windows[0]![1]![0];
    const row = overall.find((x) => Number(x[4]) === start1 + 4000)!;
    const n = 5 + 6 + 2;
    expect(row.slice(1, 3)).toEqual(['1', '*']);
    expect(Number(row[5])).toBe(n);
    expect(Number(row[6])).toBe(2);
    expect(Number(row[7])).toBeCloseTo((5 * 10 + 6 * 20 + 2 * 5) / n, 3);
    expect(Number(row[8])).toBeCloseTo((5 * 20 + 6 * 40 + 2 * 5) / n, 3);
    expect(Number(row[9])).toBeCloseTo((5 * 30 + 6 * 60 + 2 * 5) / n, 3);
    expect(Number(row[10])).toBe(80);
    expect(Number(row[11])).toBe(3 + 4);
    const clone = rows.find((x) => x[0] === 'a' && x[2] === 'clone' && Number(x[4]) === start1 + 4000)!;
    expect([clone[5], clone[6]]).toEqual(['11', '2']);
    // Thread b's workers recorded no ticks: no rows, no chart.
    expect(rows.filter((x) => x[0] === 'b')).toEqual([]);
    expect(r.summary.charts.filter((c) => c.startsWith('timeseries-'))).toEqual(['timeseries-thread-001-rates.png', 'timeseries-thread-001-latency.png']);
  }, 120_000);

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
