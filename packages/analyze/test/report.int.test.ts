/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { describe, expect, it } from '@jest/globals';
import puppeteer from 'puppeteer-core';

import { analyze, compare } from '@e3/analyze';
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
});
