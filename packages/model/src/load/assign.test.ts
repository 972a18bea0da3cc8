import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { assignJobs, clientOffsets, jobCounts, splitClients } from './assign.js';

const mixed = [0.4, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05];

describe('splitClients', () => {
  it('gives the remainder to the first workers', () => {
    expect(splitClients(10, 3)).toEqual([4, 3, 3]);
    expect(clientOffsets([4, 3, 3])).toEqual([0, 4, 7]);
  });
  it('always sums to the total and differs by at most one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 64 }), (t, w) => {
        const s = splitClients(t, w);
        expect(s.reduce((a, b) => a + b, 0)).toBe(t);
        expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('jobCounts', () => {
  it('follows largest remainder for 20 clients of the mixed workload', () => {
    expect(jobCounts(mixed, 20)).toEqual([8, 2, 2, 2, 1, 1, 1, 1, 1, 1]);
  });
  it('gives every weighted job one client for 10 clients of the mixed workload', () => {
    expect(jobCounts(mixed, 10)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });
  it('sums to the clients and never starves a weighted job when clients ≥ jobs', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.001, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 500 }), (w, c) => {
        const counts = jobCounts(w, c);
        expect(counts.reduce((a, b) => a + b, 0)).toBe(c);
        if (c >= w.length) expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
      }),
    );
  });
});

describe('assignJobs', () => {
  it('deals clients so each job gets its count', () => {
    const jobs = assignJobs(mixed, 20);
    const counts = mixed.map((_, j) => jobs.filter((x) => x === j).length);
    expect(counts).toEqual(jobCounts(mixed, 20));
  });
  it("reproduces E³'s band rule: (c + 0.5) / total against cumulative weights", () => {
    expect(assignJobs(mixed, 20, 'bands')).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 9]);
    // 10 clients: E³ (same doubles, same subtraction order) starves three jobs of weight 0.05.
    expect(assignJobs(mixed, 10, 'bands')).toEqual([0, 0, 0, 0, 1, 2, 3, 4, 6, 8]);
  });
});
