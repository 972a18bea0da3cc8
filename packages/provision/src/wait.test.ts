import { describe, expect, it } from '@jest/globals';

import { fakeClock } from '../test/support/fake-aws.js';
import { poll, systemClock } from './wait.js';

describe('poll', () => {
  it('backs off from the initial delay by the factor up to the maximum', async () => {
    const clock = fakeClock();
    let n = 0;
    const value = await poll({ what: 'x', clock, timeoutMs: 1e9, initialDelayMs: 1000, maxDelayMs: 4000, factor: 2, probe: async () => (++n === 6 ? 'done' : undefined) });
    expect(value).toBe('done');
    expect(clock.slept).toEqual([1000, 2000, 4000, 4000, 4000]);
  });

  it('times out with E3_PROVISION naming what it waited for, never sleeping past the limit', async () => {
    const clock = fakeClock();
    await expect(poll({ what: 'stack s to be CREATE_COMPLETE', clock, timeoutMs: 2500, initialDelayMs: 1000, hint: 'h', probe: async () => undefined })).rejects.toMatchObject({
      code: 'E3_PROVISION',
      message: 'timed out after 3 s waiting for stack s to be CREATE_COMPLETE',
      hint: 'h',
    });
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBe(2500);
  });

  it('stops a real sleep when the signal aborts', async () => {
    const ac = new AbortController();
    const p = systemClock.sleep(60_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});
