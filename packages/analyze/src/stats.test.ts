import { describe, expect, it } from '@jest/globals';

import { prng } from '@e3/model';

import { bootstrapRelativeChange, fitExponential, mannWhitney } from './stats.js';

describe('stats', () => {
  it('fits a + b·e^(cx) to points on such a curve', () => {
    const pts: Array<[number, number]> = [0, 10, 20, 40, 80, 120, 160].map((x) => [x, 5 + 2 * Math.exp(0.02 * x)]);
    const fit = fitExponential(pts)!;
    // Jacquelin's method integrates with trapezoids, so parameters are close but not exact on sparse points.
    expect(fit.c).toBeCloseTo(0.02, 2);
    for (const [x, y] of pts) expect(Math.abs(fit.a + fit.b * Math.exp(fit.c * x) - y) / y).toBeLessThan(0.05);
  });

  it('gives no fit for fewer than three distinct loads', () => {
    expect(fitExponential([[1, 2], [1, 3], [2, 4]])).toBeUndefined();
  });

  it('finds a shift with Mann–Whitney and not between equal samples', () => {
    const r = prng(1);
    const a = Array.from({ length: 500 }, () => r());
    const b = Array.from({ length: 500 }, () => r() + 0.2);
    expect(mannWhitney(a, b).p).toBeLessThan(1e-6);
    expect(mannWhitney(a, b).superiority).toBeGreaterThan(0.6);
    expect(mannWhitney(a, a).p).toBeGreaterThan(0.9);
  });

  it('bootstraps a confidence interval around the change of the median', () => {
    const r = prng(2);
    const a = Array.from({ length: 2000 }, () => 100 * Math.exp(0.3 * (r() - 0.5)));
    const b = a.map((x) => x * 1.3);
    const ci = bootstrapRelativeChange(a, b);
    expect(ci.estimate).toBeCloseTo(0.3, 5);
    expect(ci.low).toBeLessThan(0.3);
    expect(ci.high).toBeGreaterThan(0.3);
  });
});
