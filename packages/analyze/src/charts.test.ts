import { describe, expect, it } from '@jest/globals';

import type { SampleRow } from '@e3/model';
import { makeTmpDir } from '@e3/test-utils';

import { generateRun } from '../test/helpers/generate-run.js';
import { computeAnalysis } from './analyze.js';
import { PALETTE, withFit, type ChartSpec } from './charts.js';

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);
const STAGE_MS = 10_000;

/** Stage 0 runs "zeta" then "alpha"; stage 1 "mid" then "zeta": "zeta" is first seen in one and second in the other. */
const STAGE_TESTS = [['zeta', 'alpha'], ['mid', 'zeta']];

function rows(stage: number): SampleRow[] {
  const start = T0 + stage * STAGE_MS;
  return STAGE_TESTS[stage]!.flatMap((test, ti) =>
    Array.from({ length: 20 }, (_, i): SampleRow => ({
      start: start + 100 + i * 400, duration: 50 + ti * 10, test, op: test, kind: 'transaction', client: ti, iteration: i, ok: true, status: 0, bytes: 0,
    })),
  );
}

const colourOf = (spec: ChartSpec, label: string) => {
  const ds = spec.config.data.datasets.find((d) => String(d.label).startsWith(label));
  // Bars are filled with the colour (white borders separate them); points and lines are outlined with it.
  return ds?.type === 'bar' || spec.config.type === 'bar' ? ds?.backgroundColor : ds?.borderColor;
};

describe('chart specs', () => {
  it('give a test one colour in every chart, fixed by its place in the run\'s sorted tests', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({
      dir, startAt: T0, gapMs: 0, collectd: false, tests: [],
      threads: [{ name: 't', workers: 1, stages: [{ clients: 2, durationMs: STAGE_MS }, { clients: 2, durationMs: STAGE_MS }] }],
      rows: (_t, s, w) => (w === 0 ? rows(s) : []),
    });
    const charts = (await computeAnalysis(g.runDir)).charts;
    // Sorted: alpha, mid, zeta.
    const expected: Record<string, string> = { alpha: PALETTE[0]!, mid: PALETTE[1]!, zeta: PALETTE[2]! };
    const stageCharts = charts.filter((c) => c.group === 'gantt' || c.group === 'times');
    expect(stageCharts.map((c) => `${c.group} ${c.stage}`).sort()).toEqual(['gantt 0', 'gantt 1', 'times 0', 'times 1']);
    for (const c of stageCharts) {
      for (const test of STAGE_TESTS[c.stage!]!) expect({ chart: c.file, test, colour: colourOf(c, test) }).toEqual({ chart: c.file, test, colour: expected[test] });
    }
    const breakdown = charts.find((c) => c.group === 'breakdown')!;
    for (const test of Object.keys(expected)) expect(colourOf(breakdown, test)).toBe(expected[test]);
  });
});

describe('withFit: measured points joined, a faint trend from 4 points', () => {
  const curve = (n: number): Array<[number, number]> => Array.from({ length: n }, (_, i) => [(i + 1) * 10, 100 - 80 * Math.exp(-0.05 * (i + 1) * 10)]);

  it('draws 3 points joined by a line and no trend', () => {
    const ds = withFit('a', curve(3), PALETTE[0]!);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ type: 'line', label: 'a', showLine: true, borderColor: PALETTE[0] });
    expect((ds[0]!.data as unknown[]).length).toBe(3);
  });

  it('adds from 4 points a trend behind the points, faint, thin, dashed, labelled plainly', () => {
    const ds = withFit('a p95', curve(4).reverse(), PALETTE[1]!, { dashed: true });
    expect(ds).toHaveLength(2);
    const [points, trend] = ds as [Record<string, unknown>, Record<string, unknown>];
    expect((points.data as Array<{ x: number }>).map((p) => p.x)).toEqual([10, 20, 30, 40]);
    expect(trend.label).toBe('a p95 trend');
    // Chart.js draws higher `order` first: the trend is under the points.
    expect(trend.order as number).toBeGreaterThan(points.order as number);
    expect(trend.borderWidth as number).toBeLessThan(points.borderWidth as number);
    expect(trend.borderDash).not.toEqual([]);
    const a = parseInt(String(trend.borderColor).slice(7, 9), 16) / 255;
    expect(String(trend.borderColor).slice(0, 7)).toBe(PALETTE[1]);
    expect(a).toBeLessThan(0.5);
  });
});
