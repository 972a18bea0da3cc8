import { describe, expect, it } from '@jest/globals';

import { prng } from '@e3/model';

import { weights } from './weights.js';

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

describe('weights', () => {
  it('equal gives 1/n each', () => {
    expect(weights(4, { distribution: 'equal', factor: 1, seed: 42 })).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(weights(0, { distribution: 'equal', factor: 1, seed: 42 })).toEqual([]);
  });

  it('exponential is reproducible from its seed, differs across seeds and sums to 1', () => {
    const a = weights(50, { distribution: 'exponential', factor: 3, seed: 42 });
    expect(weights(50, { distribution: 'exponential', factor: 3, seed: 42 })).toEqual(a);
    expect(weights(50, { distribution: 'exponential', factor: 3, seed: 7 })).not.toEqual(a);
    expect(sum(a)).toBeCloseTo(1, 12);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
  });

  it('a larger factor skews the weights more', () => {
    const spread = (f: number) => {
      const w = weights(2000, { distribution: 'exponential', factor: f, seed: 1 });
      return Math.max(...w) / (sum(w) / w.length);
    };
    expect(spread(8)).toBeGreaterThan(spread(0.1));
  });
});

describe('prng', () => {
  it('stays in [0, 1)', () => {
    const r = prng(3);
    for (let i = 0; i < 1000; i++) {
      const x = r();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});
