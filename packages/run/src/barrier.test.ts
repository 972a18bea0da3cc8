import { describe, expect, it } from '@jest/globals';

import { createBarrier } from './barrier.js';

/** Lets every settled promise run its callbacks. */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** Arrives at `stage` and records when the barrier lets this party through. */
function arrive(barrier: ReturnType<typeof createBarrier>, stage: number, passed: string[], who: string) {
  return barrier.arrive(stage).then(() => passed.push(who));
}

describe('the stage barrier', () => {
  it('holds every thread at a stage until the last one arrives', async () => {
    const barrier = createBarrier(3);
    const passed: string[] = [];
    void arrive(barrier, 0, passed, 'a');
    void arrive(barrier, 0, passed, 'b');
    await settle();
    expect(passed).toEqual([]);
    await arrive(barrier, 0, passed, 'c');
    await settle();
    expect(passed.sort()).toEqual(['a', 'b', 'c']);
  });

  it('counts each stage apart: arriving at stage 1 does not open stage 0', async () => {
    const barrier = createBarrier(2);
    const passed: string[] = [];
    void arrive(barrier, 0, passed, 'a0');
    void arrive(barrier, 1, passed, 'b1');
    await settle();
    expect(passed).toEqual([]);
    void arrive(barrier, 0, passed, 'b0');
    await settle();
    expect(passed.sort()).toEqual(['a0', 'b0']);
    void arrive(barrier, 1, passed, 'a1');
    await settle();
    expect(passed.sort()).toEqual(['a0', 'a1', 'b0', 'b1']);
  });

  it('stops waiting for a thread that left (it ended or failed), also at later stages', async () => {
    const barrier = createBarrier(3);
    const passed: string[] = [];
    void arrive(barrier, 0, passed, 'a');
    void arrive(barrier, 0, passed, 'b');
    await settle();
    barrier.leave();
    await settle();
    expect(passed.sort()).toEqual(['a', 'b']);
    void arrive(barrier, 1, passed, 'a1');
    await settle();
    expect(passed).not.toContain('a1');
    barrier.leave();
    await settle();
    expect(passed).toContain('a1');
  });

  it('lets a single thread through at once', async () => {
    const barrier = createBarrier(1);
    const passed: string[] = [];
    await arrive(barrier, 0, passed, 'a');
    expect(passed).toEqual(['a']);
  });
});
