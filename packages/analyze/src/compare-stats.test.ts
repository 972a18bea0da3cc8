import { describe, expect, it } from '@jest/globals';

import { generateSummary, replicates } from '../test/helpers/generate-summary.js';
import { compareStats, errorRateTest, stageThroughput, incompleteBeta, poissonRatio, tSurvival, type CompareStatsOptions, type RunStats } from './compare-stats.js';

/** The documented defaults: α = 0.01 per one-sided test, 5 % latency and throughput, 1 point of errors. */
const options: CompareStatsOptions = { alpha: 0.01, tolerance: () => ({ latency: 0.05, throughput: 0.05, errorRate: 0.01 }) };

const flagged = (A: RunStats[], B: RunStats[]) => {
  const r = compareStats(A, B, options);
  return [
    ...r.findings.filter((f) => f.verdict === 'regression' || f.verdict === 'improvement').map((f) => `${f.verdict} ${f.metric} ${f.label}`),
    ...r.common.filter((c) => c.verdict !== 'within tolerance').map((c) => `${c.verdict} common ${c.metric}`),
  ];
};

describe('distributions', () => {
  it('match tabulated values', () => {
    // Student t critical values (two-sided 95 %: 2.776 at 4 df, 2.228 at 10 df; one-sided 99 %: 3.747 at 4 df).
    expect(tSurvival(2.776, 4)).toBeCloseTo(0.025, 3);
    expect(tSurvival(2.228, 10)).toBeCloseTo(0.025, 3);
    expect(tSurvival(3.747, 4)).toBeCloseTo(0.01, 3);
    expect(tSurvival(-3.747, 4)).toBeCloseTo(0.99, 3);
    expect(tSurvival(0, 7)).toBeCloseTo(0.5, 10);
    // I_0.5(2, 2) = 0.5 by symmetry; I_x(1, 1) = x.
    expect(incompleteBeta(0.5, 2, 2)).toBeCloseTo(0.5, 10);
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 10);
  });

  it('tests throughput and error rates one-sided beyond the tolerance', () => {
    // 10 000 against 8 000 completions in the same window: −20 %, z of the shifted test ≈ (0.223 − 0.051) / 0.0150 ≈ 11.
    expect(poissonRatio(10, 10_000, 8, 8_000, 0.05).pWorse).toBeLessThan(1e-6);
    expect(poissonRatio(10, 10_000, 9.8, 9_800, 0.05).pWorse).toBeGreaterThan(0.5);
    // 1 % against 3 % of 5 000: +2 points, beyond 1 point.
    expect(errorRateTest(50, 5000, 150, 5000, 0.01).pWorse).toBeLessThan(0.001);
    expect(errorRateTest(50, 5000, 60, 5000, 0.01).pWorse).toBeGreaterThan(0.5);
  });
});

describe('compareStats with replicates (3 runs a side)', () => {
  it('calibration: 200 A/A comparisons with run-to-run variance flag at most α = 1 % of them', () => {
    let withFlags = 0;
    let compared = 0;
    for (let i = 0; i < 200; i++) {
      const A = replicates(3, 100_000 + 1000 * i, {}, 'a');
      const B = replicates(3, 100_500 + 1000 * i, {}, 'b');
      const r = compareStats(A, B, options);
      compared += r.findings.filter((f) => f.verdict !== 'insufficient data').length;
      if (flagged(A, B).length) withFlags++;
    }
    expect(compared).toBeGreaterThan(200 * 40);
    expect(withFlags).toBeLessThanOrEqual(2);
  });

  it('flags a +10 % latency of one op, and nothing else', () => {
    const A = replicates(3, 7_000, {}, 'a');
    const B = replicates(3, 7_500, { latencyFactor: { 'GET /repos': 1.1 } }, 'b');
    const f = flagged(A, B);
    expect(f.length).toBeGreaterThan(0);
    // Only GET /repos, and the browse test level its durations are part of.
    expect(f.filter((x) => !x.includes('GET /repos') && !/ browse$/.test(x))).toEqual([]);
    expect(f).toContain('regression p50 t / stage 000 / browse / GET /repos');
    expect(f).toContain('regression p50 t / stage 001 / browse / GET /repos');
    // The numbers printed: GET /repos has a 60 ms median (generator), the contender 1.1 × that.
    const row = compareStats(A, B, options).findings.find((x) => x.metric === 'p50' && x.label === 't / stage 001 / browse / GET /repos')!;
    expect(row.baseline!).toBeGreaterThan(60 * 0.9);
    expect(row.baseline!).toBeLessThan(60 * 1.1);
    expect(row.judged!).toBeGreaterThan(0.07);
    expect(row.judged!).toBeLessThan(0.13);
  });

  it('flags a −15 % throughput of one stage, and nothing else', () => {
    const A = replicates(3, 8_000, {}, 'a');
    const B = replicates(3, 8_500, { throughputFactor: { 1: 0.85 } }, 'b');
    const r = compareStats(A, B, options);
    const f = r.findings.filter((x) => x.verdict !== 'within tolerance' && x.verdict !== 'insufficient data');
    expect(f.every((x) => x.verdict === 'regression' && (x.metric === 'tps' || x.metric === 'peak tps'))).toBe(true);
    expect(f.every((x) => x.stage === 1 || x.metric === 'peak tps')).toBe(true);
    expect(f.map((x) => x.label)).toContain('t / stage 001');
    // Stage 1 (8 clients × 500 × 4 ops in 600 s ≈ 26.7 TPS) fell by 15 %.
    const stage = r.findings.find((x) => x.metric === 'tps' && x.label === 't / stage 001')!;
    expect(stage.baseline!).toBeGreaterThan(26.7 * 0.93);
    expect(stage.baseline!).toBeLessThan(26.7 * 1.07);
    expect(stage.change!).toBeGreaterThan(-0.2);
    expect(stage.change!).toBeLessThan(-0.1);
    expect(r.common.every((c) => c.verdict === 'within tolerance')).toBe(true);
  });

  it('keeps its power over seeds: +10 % latency and −15 % throughput flagged in ≥ 18 of 20 trials', () => {
    let latency = 0;
    let throughput = 0;
    for (let i = 0; i < 20; i++) {
      const A = replicates(3, 20_000 + 1000 * i, {}, 'a');
      const Bl = replicates(3, 20_300 + 1000 * i, { latencyFactor: { 'GET /repos': 1.1 } }, 'b');
      const Bt = replicates(3, 20_600 + 1000 * i, { throughputFactor: { 1: 0.85 } }, 'b');
      if (flagged(A, Bl).some((x) => x.startsWith('regression p50 t / stage 001 / browse / GET /repos'))) latency++;
      if (flagged(A, Bt).includes('regression tps t / stage 001')) throughput++;
    }
    expect(latency).toBeGreaterThanOrEqual(18);
    expect(throughput).toBeGreaterThanOrEqual(18);
  });
});

describe('compareStats with one run a side', () => {
  it('reports insufficient data for one sample per op, never a change with no spread', () => {
    const one = (seed: number, medianMs: number) => generateSummary({ run: `r${seed}`, seed, exact: true, perClient: 1, clients: [1], latencySigma: 0, ops: [{ test: 'browse', op: 'GET /', medianMs, sigma: 0.1 }] });
    const r = compareStats([one(1, 18743)], [one(2, 3031)], options);
    expect(r.evidence).toBe('samples');
    const latency = r.findings.filter((f) => f.metric === 'p50');
    expect(latency).toHaveLength(1);
    expect(latency[0]!.verdict).toBe('insufficient data');
    expect(latency[0]!.pWorse).toBeNull();
    expect(r.findings.filter((f) => f.metric !== 'break load').every((f) => f.verdict === 'insufficient data')).toBe(true);
  });

  it('judges a run against itself as within tolerance everywhere it has data', () => {
    const a = generateSummary({ run: 'a', seed: 3, exact: true, perClient: 100 });
    const r = compareStats([a], [a], options);
    expect(r.findings.filter((f) => f.verdict === 'regression' || f.verdict === 'improvement')).toEqual([]);
    expect(r.findings.filter((f) => f.verdict === 'within tolerance').length).toBeGreaterThan(30);
  });

  it('finds a +30 % op from the samples of one run a side', () => {
    const a = generateSummary({ run: 'a', seed: 4, exact: true, perClient: 200, latencySigma: 0 });
    const b = generateSummary({ run: 'b', seed: 5, exact: true, perClient: 200, latencySigma: 0, latencyFactor: { 'git push': 1.3 } });
    const f = flagged([a], [b]);
    expect(f).toContain('regression p50 t / stage 000 / push / git push');
    expect(f.filter((x) => !x.includes('git push'))).toEqual([]);
  });
});

describe('stageThroughput', () => {
  it("counts the completions summary.json states (completed − drainCount), not a count recovered from the rounded TPS", () => {
    // 1 000 completions in a 300 s window and 7 in the drain: TPS 3.3333… is stored as 3.33, which would give 999.
    const stage = { index: 0, key: '000', status: 'succeeded', tps: 3.33, windowMs: 300_000, completed: 1007, drainCount: 7 } as unknown as Parameters<typeof stageThroughput>[0];
    expect(stageThroughput(stage)).toEqual({ tps: 3.33, windowMs: 300_000, counted: 1000 });
    const older = { ...stage, completed: undefined, drainCount: undefined } as unknown as Parameters<typeof stageThroughput>[0];
    expect(stageThroughput(older).counted).toBeUndefined();
  });
});
