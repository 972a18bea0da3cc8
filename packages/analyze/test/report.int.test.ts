/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { describe, expect, it } from '@jest/globals';
import puppeteer, { type Page } from 'puppeteer-core';

import { analyze, compare, sortScript } from '@e3/analyze';
import { ANALYSIS_SCREENSHOT_FILE } from '@e3/model';
import { makeTmpDir } from '@e3/test-utils';

import { generateRun } from './helpers/generate-run.js';
import { pngContent } from './helpers/png.js';

/** Debian's chromium; E3_CHROMIUM overrides. No browser is downloaded. */
const CHROMIUM = process.env.E3_CHROMIUM ?? '/usr/bin/chromium';

interface PageReport {
  errors: string[];
  requests: string[];
  charts: number;
  drawn: number;
  verdict: string;
}

async function withPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set E3_CHROMIUM)`);
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
  try {
    return await fn(await browser.newPage());
  } finally {
    await browser.close();
  }
}

/** The texts of column `header` of the first sortable table, in the order shown. */
function column(page: Page, header: string): Promise<string[]> {
  return page.evaluate((h) => {
    const table = document.querySelector('table.sortable') as HTMLTableElement;
    const col = Array.from(table.tHead!.rows[0]!.cells).findIndex((th) => th.textContent!.replace(/[▲▼]/g, '').trim() === h);
    return Array.from(table.tBodies[0]!.rows).map((r) => r.cells[col]!.textContent!.trim());
  }, header);
}

async function openInChromium(file: string, screenshot?: string): Promise<PageReport> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set E3_CHROMIUM)`);
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1440, height: 1000 });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') errors.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${(e as Error).message}`));
    page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()}`));
    page.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(file).href;
    await page.goto(url, { waitUntil: 'load' });
    const counts = await page.evaluate(() => {
      const w = window as unknown as { e3DrawAll?: () => number; Chart: { getChart(c: HTMLCanvasElement): unknown } };
      const charts = w.e3DrawAll ? w.e3DrawAll() : document.querySelectorAll('canvas[data-chart]').length;
      const canvases = Array.from(document.querySelectorAll('canvas[data-chart]')) as HTMLCanvasElement[];
      return { charts, drawn: canvases.filter((c) => w.Chart.getChart(c) !== undefined && c.width > 0).length, verdict: document.querySelector('.verdict')?.textContent ?? '' };
    });
    await new Promise((r) => setTimeout(r, 300));
    if (screenshot) await page.screenshot({ path: screenshot as `${string}.png` });
    return { errors, requests: requests.filter((r) => r !== url), ...counts };
  } finally {
    await browser.close();
  }
}

describe('report.html in headless Chromium', () => {
  it('renders from disk with every chart, no console error and no network request; saves a screenshot', async () => {
    const dir = await makeTmpDir();
    const stages = [{ clients: 3, durationMs: 5000 }, { clients: 6, durationMs: 5000 }, { clients: 9, durationMs: 5000, status: 'degraded' as const }];
    const g = await generateRun({
      dir, seed: 4,
      tests: [
        { test: 'clone <ssh>', ops: [{ op: 'git clone', medianMs: 120, errorRate: 0.03, errorMessage: 'git 128: fatal: <script>alert(1)</script>' }] },
        { test: 'browse', ops: [{ op: 'GET /projects', medianMs: 30 }, { op: 'GET /repos', medianMs: 50 }], transactions: false },
      ],
      threads: [{ name: 'a', stages }, { name: 'b', stages, latencyFactor: { 'git clone': 1.4 } }],
      thresholds: [{ test: 'clone <ssh>', p95: 150 }],
    });
    const r = await analyze({ run: g.runDir });
    expect(r.exitCode).toBe(5);
    const html = await readFile(r.reportFile!, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img(?![^>]*src="[\w.-]+\.png")[^>]*src=/);
    expect(html).not.toContain('<script>alert(1)</script>');

    const shot = join(r.analysisDir, ANALYSIS_SCREENSHOT_FILE);
    const page = await openInChromium(r.reportFile!, shot);
    expect(page.errors).toEqual([]);
    expect(page.requests).toEqual([]);
    expect(page.charts).toBe(r.charts.length);
    expect(page.drawn).toBe(page.charts);
    expect(page.verdict).toContain('FAILED');
    const png = await pngContent(shot);
    expect(png.width).toBe(1440);
    expect(png.inked).toBeGreaterThan(0.05);
  }, 120_000);

  it('renders the compare page the same way', async () => {
    const dir = await makeTmpDir();
    const tests = [{ test: 'clone', ops: [{ op: 'git clone', medianMs: 100 }] }];
    const stages = [{ clients: 4, durationMs: 4000 }];
    const a = await generateRun({ dir, run: 'a-20261125T100000Z', seed: 1, collectd: false, tests, threads: [{ name: 't', stages }] });
    const b = await generateRun({ dir, run: 'b-20261125T110000Z', seed: 2, collectd: false, tests, threads: [{ name: 't', stages, latencyFactor: { 'git clone': 1.3 } }] });
    const r = await compare({ baseline: a.runDir, runs: [b.runDir] });
    const page = await openInChromium(r.htmlFile!, join(dir, 'compare.png'));
    expect(page.errors).toEqual([]);
    expect(page.requests).toEqual([]);
    expect(page.verdict).toContain('regressions');
    expect(page.charts).toBe(1);
    expect(page.drawn).toBe(page.charts);
  }, 120_000);

  it('sorts a detail table by the header clicked or pressed (numbers as numbers), and reverses on a second click', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({
      dir, seed: 11, collectd: false,
      tests: [
        { test: 'clone', ops: [{ op: 'git clone', medianMs: 120 }] },
        { test: 'browse', ops: [{ op: 'GET /a', medianMs: 9 }, { op: 'GET /b', medianMs: 30 }, { op: 'GET /c', medianMs: 1500 }], transactions: false },
      ],
      threads: [{ name: 't', stages: [{ clients: 6, durationMs: 7000 }] }],
    });
    const r = await analyze({ run: g.runDir, charts: false });
    const num = (xs: string[]) => xs.map(Number);
    await withPage(async (page) => {
      await page.goto(pathToFileURL(r.reportFile!).href, { waitUntil: 'load' });
      await page.evaluate(() => document.querySelectorAll('details').forEach((d) => d.setAttribute('open', '')));
      const before = num(await column(page, 'p95'));
      expect(before.length).toBeGreaterThan(4);
      const ascending = [...before].sort((a, b) => a - b);
      // The shown order is not already sorted, so sorting has something to do (1500 ms ≥ 1 000: numbers, not text).
      expect(before).not.toEqual(ascending);
      // Keyboard: the header is a button that takes focus and Enter.
      await page.focus('table.sortable th:nth-child(13) button');
      await page.keyboard.press('Enter');
      expect(num(await column(page, 'p95'))).toEqual(ascending);
      await page.click('table.sortable th:nth-child(13) button');
      expect(num(await column(page, 'p95'))).toEqual([...ascending].reverse());
      await page.click('table.sortable th:nth-child(9) button');
      const tps = num(await column(page, 'TPS'));
      expect(tps).toEqual([...tps].sort((a, b) => a - b));
    });
  }, 120_000);

  it('puts "–" last in either direction and compares text as text', async () => {
    const cells = [['b', '10'], ['a', '–'], ['c', '9.5'], ['d', '1,200.00'], ['e', ''], ['f', '0.50 %']];
    const html = `<table class="sortable"><thead><tr><th><button class="sort">name</button></th><th><button class="sort">v</button></th></tr></thead><tbody>${cells
      .map(([n, v]) => `<tr><td>${n}</td><td>${v}</td></tr>`)
      .join('')}</tbody></table><script>${sortScript()}</script>`;
    await withPage(async (page) => {
      await page.setContent(`<!doctype html><meta charset="utf-8">${html}`);
      await page.click('th:nth-child(2) button');
      expect(await column(page, 'name')).toEqual(['f', 'c', 'b', 'd', 'a', 'e']);
      await page.click('th:nth-child(2) button');
      expect(await column(page, 'name')).toEqual(['d', 'b', 'c', 'f', 'a', 'e']);
      await page.click('th:nth-child(1) button');
      expect(await column(page, 'name')).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
      expect(await page.evaluate(() => document.querySelector('th:nth-child(1)')!.getAttribute('aria-sort'))).toBe('ascending');
    });
  }, 120_000);
});
