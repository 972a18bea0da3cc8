import { describe, expect, it } from '@jest/globals';

import { prng, type SampleRow } from '@e3/model';

import { addSample, finishSeries, newSeriesAcc } from './series.js';

const T = Date.UTC(2026, 10, 25, 10, 0, 0);

/** Nearest rank by its definition: the smallest value v with at least p % of the values ≤ v. */
function byDefinition(values: number[], p: number): number {
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  return distinct.find((v) => values.filter((x) => x <= v).length * 100 >= p * values.length)!;
}

describe('per-second series from samples', () => {
  it('keeps every duration of a second across many chunks and finds its nearest-rank percentiles', () => {
    const rand = prng(3);
    // 150 000 durations in one second (more than two full 64 Ki chunks), 3 decimals like samples.csv.
    const values = Array.from({ length: 150_000 }, () => Math.round(rand() * 5_000_000) / 1000);
    const acc = newSeriesAcc();
    const row = (duration: number, ok: boolean): SampleRow => ({ start: T + 500 - duration, duration, test: 'browse', op: 'GET /', kind: 'request', client: 0, iteration: 0, ok, status: ok ? 200 : 500, bytes: 0 });
    values.forEach((d, i) => addSample(acc, row(d, i % 10 !== 0)));
    const s = finishSeries(acc);
    expect(s.overall).toHaveLength(1);
    const point = s.overall[0]!;
    expect(point).toEqual(s.tests.browse![0]);
    expect(point.t).toBe(T + 1000);
    expect(point.completions).toBe(150_000);
    expect(point.errors).toBe(15_000);
    const sorted = [...values].sort((a, b) => a - b);
    expect(point.max).toBe(sorted[sorted.length - 1]);
    // The definition on a sorted copy: the first index i with (i + 1) · 100 ≥ p · n.
    for (const p of [50, 95, 99] as const) expect(point[`p${p}`]).toBe(sorted.find((_, i) => (i + 1) * 100 >= p * sorted.length));
  });

  it('matches the definition on small seconds with ties', () => {
    const rand = prng(11);
    for (let n = 1; n <= 40; n++) {
      const values = Array.from({ length: n }, () => Math.floor(rand() * 6));
      const acc = newSeriesAcc();
      for (const d of values) addSample(acc, { start: T + 100, duration: d, test: 't', op: 't', kind: 'transaction', client: 0, iteration: 0, ok: true, status: 0, bytes: 0 });
      const [point] = finishSeries(acc).overall;
      for (const p of [50, 95, 99] as const) expect(point![`p${p}`]).toBe(byDefinition(values, p));
    }
  });
});
