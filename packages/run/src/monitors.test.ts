import { describe, expect, it } from '@jest/globals';

import { samplerLifetimeMs } from './monitors.js';
import type { ThreadPlan } from './plan.js';

const thread = (durations: number[]) => ({ stages: durations.map((durationMs, index) => ({ index, durationMs, workload: 'w' })) }) as unknown as ThreadPlan;

describe('samplerLifetimeMs', () => {
  it('outlasts the longest thread: its load time, 15 min per stage, then 30 min', () => {
    // Thread 1: 60 s + 120 s of load and 2 × 15 min; thread 2: 600 s and 1 × 15 min. The first is longer.
    expect(samplerLifetimeMs([thread([60_000, 120_000]), thread([600_000])])).toBe(180_000 + 30 * 60_000 + 30 * 60_000);
    expect(samplerLifetimeMs([])).toBe(30 * 60_000);
  });
});
