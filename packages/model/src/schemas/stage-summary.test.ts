import { describe, expect, it } from '@jest/globals';

import { stageCounts, type OpSummary } from './stage-summary.js';

const op = (kind: OpSummary['kind'], count: number, cut: number, errors = 0): OpSummary => ({
  test: 'T', op: kind === 'transaction' ? 'T' : 'GET /', kind, count, errors,
  errorsByClass: { http: errors, git: 0, exception: 0, timeout: 0, check: 0, cut },
  bytes: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0, histogram: '',
});

describe('stageCounts', () => {
  it('counts transaction rows that ended (failed ones included) and those cut; requests are not passes', () => {
    // Two tests: 10 passes (2 cut, 1 failed) and 5 passes (1 cut); 100 requests (3 cut) do not count.
    expect(stageCounts([op('transaction', 10, 2, 1), op('request', 100, 3), { ...op('transaction', 5, 1), test: 'U' }])).toEqual({ completed: 12, cut: 3 });
    expect(stageCounts([])).toEqual({ completed: 0, cut: 0 });
  });
});
