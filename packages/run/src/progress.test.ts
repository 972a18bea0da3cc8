import { describe, expect, it } from '@jest/globals';
import type { TickMessage } from '@e3/model';
import * as hdr from 'hdr-histogram-js';

import { combineTicks, createProgressView, createTpsWindow, formatProgress, type ThreadProgress } from './progress.js';

/** A worker's tick for one second whose requests took `ms` (one entry per sample), with their histogram as the agent sends it. */
function tick(ms: number[]): TickMessage {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  for (const v of ms) h.recordValue(v * 1000);
  const sorted = [...ms].sort((a, b) => a - b);
  const ownP95 = sorted[Math.ceil(0.95 * sorted.length) - 1]!;
  return {
    type: 'tick', t: 1000, second: 0, active: 0,
    ops: [
      { test: 'T', op: 'GET /x', kind: 'request', count: ms.length, errors: 0, p50: 0, p95: ownP95, max: sorted.at(-1)!, histogram: hdr.encodeIntoCompressedBase64(h) },
      { test: 'T', op: 'T', kind: 'transaction', count: ms.length, errors: 0, p50: 0, p95: ownP95, max: sorted.at(-1)! },
    ],
  };
}

const times = (n: number, ms: number) => Array.from({ length: n }, () => ms);

describe('combineTicks', () => {
  it("takes p95 from the workers' merged histograms, not the largest per-worker p95", () => {
    // Worker a: 90 requests of 10 ms and 10 of 500 ms (its own p95: 500 ms). Worker b: 100 of 20 ms.
    // All 200 sorted: 1–90 are 10 ms, 91–190 are 20 ms, 191–200 are 500 ms; the 95th percentile is the
    // 190th value, 20 ms.
    const a = tick([...times(90, 10), ...times(10, 500)]);
    const b = tick(times(100, 20));
    expect(a.ops[0]!.p95).toBe(500);
    const c = combineTicks([a, b]);
    expect(c.p95).toBeGreaterThanOrEqual(20);
    expect(c.p95).toBeLessThan(20.05);
    expect(c.tps).toBe(200);
  });

  it('uses the p95 of a tick op without a histogram (an older agent) as a lower bound', () => {
    const a = tick(times(100, 20));
    const old = tick(times(10, 300));
    delete old.ops[0]!.histogram;
    expect(combineTicks([a, old]).p95).toBe(300);
    expect(combineTicks([a]).p95).toBeLessThan(20.05);
  });
});

describe('formatProgress', () => {
  const p: ThreadProgress = {
    thread: 0, name: 'open', stage: 1, stages: 3, load: '40/s', phase: 'load', elapsedMs: 12_000, durationMs: 30_000,
    tps: 38.5, errorRate: 0, p95: 120.4, workersLost: 0,
  };
  it('shows the dropped share for the open model, and nothing of it for the closed model', () => {
    expect(formatProgress({ ...p, dropRate: 0.125 })).toMatch(/TPS 38\.5 {2}err 0\.0% {2}p95 120 ms {2}drop 12\.5%$/);
    expect(formatProgress(p)).not.toMatch(/drop/);
  });
});

describe('the end estimate and the log timestamps', () => {
  const p: ThreadProgress = {
    thread: 0, name: 't', stage: 1, stages: 3, load: '8 clients', phase: 'load', elapsedMs: 12_000, durationMs: 30_000,
    tps: 1, errorRate: 0, p95: 1, workersLost: 0, laterLoadMs: 60_000,
  };
  it('ends ≥ now + the stage rest + the later stages: 18 s + 60 s after now', () => {
    const now = new Date(2026, 11, 5, 14, 0, 0).getTime();
    expect(formatProgress(p, now)).toMatch(/ {2}ends ≥ 14:01:18$/);
    // The last stage: only its rest; an overrun stage adds nothing negative.
    expect(formatProgress({ ...p, laterLoadMs: 0 }, now)).toMatch(/ends ≥ 14:00:18$/);
    expect(formatProgress({ ...p, laterLoadMs: 0, elapsedMs: 40_000 }, now)).toMatch(/ends ≥ 14:00:00$/);
    expect(formatProgress({ ...p, phase: 'reset' }, now)).not.toMatch(/ends/);
  });

  it('stamps each plain (non-TTY) line with the time it was written, and not the TTY lines', () => {
    const plain: string[] = [];
    createProgressView({ write: (t) => plain.push(t), tty: false }).update(p, true);
    expect(plain.join('')).toMatch(/^\[\d\d:\d\d:\d\d\] thread-001 t /);
    const tty: string[] = [];
    createProgressView({ write: (t) => tty.push(t), tty: true }).update(p, true);
    expect(tty.join('').startsWith('\x1b[2Kthread-001 t ')).toBe(true);
  });
});

describe('createTpsWindow', () => {
  const tx = (second: number, count: number) => ({ second, ops: [{ test: 'T', op: 'T', kind: 'transaction' as const, count, errors: 0, p50: 0, p95: 0, max: 0 }, { test: 'T', op: 'GET /', kind: 'request' as const, count: 99, errors: 0, p50: 0, p95: 0, max: 0 }] });
  it('averages the transactions of the last 5 seconds every live worker has reported, each tick once', () => {
    const w = createTpsWindow();
    expect(w.tps([0, 1])).toBe(0);
    // Worker 0: 10 tx in each of seconds 0–6. Worker 1: 20 tx in seconds 0–5; its second 6 has not arrived.
    for (let s = 0; s <= 6; s++) w.add(0, tx(s, 10));
    for (let s = 0; s <= 5; s++) w.add(1, tx(s, 20));
    w.add(1, tx(5, 20)); // the same tick again: not counted twice
    // Window: seconds 1–5 (the last second both reported is 5): (10 + 20) × 5 / 5 = 30 TPS.
    expect(w.tps([0, 1])).toBe(30);
    // Worker 1 lost: worker 0 alone decides, seconds 2–6: 5 × 10 + 4 × 20 (seconds 2–5 of worker 1) = 130 / 5 = 26.
    expect(w.tps([0])).toBe(26);
    // Early in a stage the window is what there is: seconds 0–1 of a fresh window, (4 + 6) / 2.
    const early = createTpsWindow();
    early.add(0, tx(0, 4));
    early.add(0, tx(1, 6));
    expect(early.tps([0])).toBe(5);
  });
});

describe('plain progress lines', () => {
  it('writes a thread again only when its line changed', () => {
    const out: string[] = [];
    const view = createProgressView({ write: (t) => out.push(t), tty: false });
    const base: ThreadProgress = { thread: 0, name: 't', stage: 0, stages: 2, load: '1 clients', phase: 'reset', elapsedMs: 0, durationMs: 10_000, tps: 0, errorRate: 0, p95: 0, workersLost: 0 };
    view.update(base, true);
    view.update(base, true);
    view.update({ ...base, thread: 1, name: 'u' }, true);
    view.update({ ...base, phase: 'starting' }, true);
    const lines = out.join('').trimEnd().split('\n').map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, ''));
    expect(lines.map((l) => l.replace(/\s+/g, ' '))).toEqual(['thread-001 t stage 000 (1/2) 1 clients reset', 'thread-002 u stage 000 (1/2) 1 clients reset', 'thread-001 t stage 000 (1/2) 1 clients starting']);
  });
});
