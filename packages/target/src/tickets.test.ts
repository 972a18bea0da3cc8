import { describe, expect, it } from '@jest/globals';

import { createTickets } from './tickets.js';

describe('createTickets', () => {
  it('grants up to max at once and queues the rest in order', async () => {
    const t = createTickets({ max: 2, timeoutMs: 1000 });
    const a = await t.acquire();
    const b = await t.acquire();
    const order: string[] = [];
    const c = t.acquire().then((r) => (order.push('c'), r));
    const d = t.acquire().then((r) => (order.push('d'), r));
    expect(t.stats()).toMatchObject({ used: 2, queued: 2, total: 2 });
    a();
    a();
    (await c)();
    b();
    (await d)();
    expect(order).toEqual(['c', 'd']);
    expect(t.stats()).toMatchObject({ used: 0, queued: 0, maxQueued: 2 });
  });

  it('rejects a queued request with E3_TARGET after the timeout', async () => {
    const t = createTickets({ max: 1, timeoutMs: 20 });
    const release = await t.acquire();
    await expect(t.acquire()).rejects.toMatchObject({ code: 'E3_TARGET', message: expect.stringContaining('the target is busy') });
    expect(t.stats()).toMatchObject({ queued: 0, rejected: 1 });
    release();
  });

  it('acquireAll waits for running operations', async () => {
    const t = createTickets({ max: 3, timeoutMs: 1000 });
    const r = await t.acquire();
    let all = false;
    const p = t.acquireAll().then((rel) => ((all = true), rel));
    await new Promise((res) => setTimeout(res, 10));
    expect(all).toBe(false);
    r();
    (await p)();
    expect(all).toBe(true);
  });

  it('holds the ticket for the added latency, so one ticket serialises the operations', async () => {
    const t = createTickets({ max: 1, timeoutMs: 5000, latencyMs: 50 });
    const started = performance.now();
    const [a, b] = [t.acquire(), t.acquire()];
    expect(t.stats()).toMatchObject({ used: 1, queued: 1 });
    (await a)();
    (await b)();
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });
});
