import { describe, expect, it } from '@jest/globals';
import type { TickMessage } from '@e3/model';

import { combineTicks, formatProgress, type ThreadProgress } from './progress.js';

const tick = (health?: TickMessage['health']): TickMessage => ({ type: 'tick', t: 1000, second: 0, active: 1, ops: [], ...(health ? { health } : {}) });
const line = (extra: Partial<ThreadProgress>) =>
  formatProgress({ thread: 0, name: 'a', stage: 0, stages: 1, load: '1 clients', phase: 'load', elapsedMs: 1000, durationMs: 3000, tps: 0, errorRate: 0, p95: 0, workersLost: 0, ...extra });

describe('the generator-bound warning of the live progress line', () => {
  it('warns with the highest figures when a worker passed 85 % agent CPU or 100 ms loop delay in the last second', () => {
    const c = combineTicks([tick({ hostCpuPercent: 50, processCpuPercent: 40, eventLoopDelayMs: 412 }), tick({ hostCpuPercent: 99, processCpuPercent: 97, eventLoopDelayMs: 20 })]);
    expect(c.generatorBound).toBe('agent CPU 97 %, loop delay 412 ms');
    expect(line(c)).toContain('WARNING generator-bound (agent CPU 97 %, loop delay 412 ms)');
  });

  it('stays quiet at the limits and for ticks without health', () => {
    const c = combineTicks([tick({ hostCpuPercent: 100, processCpuPercent: 85, eventLoopDelayMs: 100 }), tick()]);
    expect(c.generatorBound).toBeUndefined();
    expect(line(c)).not.toContain('WARNING');
  });
});
