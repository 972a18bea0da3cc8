import { describe, expect, it } from '@jest/globals';
import { E3Error, type AgentMessage, type ControllerMessage, type StageRecord, type StageSummary } from '@e3/model';

import type { StageWorker } from './agents.js';
import type { RunClock, StageContext } from './context.js';
import type { StagePlan } from './plan.js';
import { driveStage } from './stage.js';

/** An agent that records what it is sent and answers `done` when told to (or is lost). */
function fakeWorker(index: number, clients: number) {
  const sent: ControllerMessage[] = [];
  const listeners: Array<(m: AgentMessage) => void> = [];
  let finish!: (summary?: Partial<StageSummary>) => void;
  let lose!: (err: Error) => void;
  const done = new Promise<Partial<StageSummary> | undefined>((resolve, reject) => {
    finish = resolve;
    lose = reject;
  });
  const worker: StageWorker = {
    index, node: `w${index}`, clients, clientOffset: index * clients, status: 'running',
    channel: {
      send: (m) => {
        sent.push(m);
        // An agent ends its stage (and sends done) when it is told to stop.
        if (m.type === 'stop') finish();
      },
      onMessage: (l) => listeners.push(l),
      waitFor: (async () => ({ type: 'done', summary: await done })) as never,
    },
  };
  return { worker, sent, finish: (summary?: Partial<StageSummary>) => finish(summary), lose: (why: string) => lose(new E3Error('AGENT', `agent on w${index} exited before sending "done": ${why}`)), emit: (m: AgentMessage) => listeners.forEach((l) => l(m)) };
}

/** A clock that only moves when the test says so; the ticker runs when the test calls `tick`. */
function fakeClock(start = 1_000_000): RunClock & { tick(): void; advance(ms: number): void } {
  let t = start;
  let fns: Array<() => void> = [];
  return {
    now: () => t,
    every(_ms, fn) {
      fns.push(fn);
      return () => (fns = fns.filter((f) => f !== fn));
    },
    tick: () => fns.forEach((f) => f()),
    advance: (ms) => (t += ms),
  };
}

const stage: StagePlan = { index: 0, clients: 4, durationMs: 10_000, workload: 'w' };
const record = (): StageRecord => ({ index: 0, key: 'stage-000', workload: 'w', duration: 10_000, clients: 4, workers: [], status: 'running' });

function context(over: Partial<StageContext> = {}) {
  const logs: string[] = [];
  const clock = fakeClock();
  const ctx: StageContext = { log: (m) => logs.push(m), failFast: false, assignment: 'weighted', clock, ...over };
  return { ctx, logs, clock };
}

const settle = () => new Promise<void>((r) => setImmediate(r));
const stops = (sent: ControllerMessage[]) => sent.filter((m) => m.type === 'stop');

describe('driveStage', () => {
  it('starts every worker with its share of the clients and the start time', async () => {
    const { ctx } = context();
    const a = fakeWorker(0, 2);
    const b = fakeWorker(1, 2);
    const r = record();
    const driving = driveStage(ctx, 't', stage, [a.worker, b.worker], r, 1_000_100, () => undefined);
    a.finish();
    b.finish();
    await driving;
    expect(a.sent[0]).toMatchObject({ type: 'start', clients: 2, clientOffset: 0, totalClients: 4, startAt: 1_000_100, durationMs: 10_000 });
    expect(b.sent[0]).toMatchObject({ type: 'start', clients: 2, clientOffset: 2, totalClients: 4 });
    expect(r.status).toBe('succeeded');
    expect(r.workers.map((w) => w.status)).toEqual(['succeeded', 'succeeded']);
  });

  it("records the load window from the agents' own start, and the drain until the last done", async () => {
    const { ctx, clock } = context();
    const a = fakeWorker(0, 2);
    const b = fakeWorker(1, 2);
    const r = record();
    const driving = driveStage(ctx, 't', stage, [a.worker, b.worker], r, 1_000_100, () => undefined);
    clock.advance(14_000);
    a.finish({ start: 1_000_140 });
    b.finish({ start: 1_000_120 });
    await driving;
    expect(r).toMatchObject({ loadStart: 1_000_120, loadEnd: 1_010_120, drainEnd: 1_014_000, end: 1_014_000 });
    expect(r.scheduled).toBeUndefined();
  });

  it('sums the open-model arrivals of the workers into the stage record', async () => {
    const { ctx, clock } = context();
    const a = fakeWorker(0, 0);
    const b = fakeWorker(1, 0);
    const r = record();
    const driving = driveStage(ctx, 't', { ...stage, clients: undefined, rate: 10 }, [a.worker, b.worker], r, 1_000_000, () => undefined);
    clock.advance(12_000);
    const arrivals = (scheduled: number, started: number, late: number, dropped: number) => ({ rate: 5, scheduled, started, late, dropped, lateThresholdMs: 10 });
    a.finish({ start: 1_000_000, arrivals: arrivals(50, 40, 7, 10) });
    b.finish({ start: 1_000_000, arrivals: arrivals(50, 49, 1, 1) });
    await driving;
    expect(r).toMatchObject({ scheduled: 100, started: 89, late: 8, dropped: 11 });
  });

  it('ends the load window when the controller stops the agents, and at the barrier when no agent reported', async () => {
    const ctl = new AbortController();
    const { ctx, clock } = context({ signal: ctl.signal });
    const a = fakeWorker(0, 4);
    const r = record();
    const driving = driveStage(ctx, 't', stage, [a.worker], r, 1_000_000, () => undefined);
    clock.advance(4000);
    ctl.abort();
    await expect(driving).rejects.toMatchObject({ code: 'E3_INTERRUPTED' });
    expect(r).toMatchObject({ loadStart: 1_000_000, loadEnd: 1_004_000, drainEnd: 1_004_000 });
  });

  it('without --fail-fast, a lost worker makes the stage degraded and the others run to their end', async () => {
    const { ctx, logs, clock } = context();
    const a = fakeWorker(0, 2);
    const b = fakeWorker(1, 2);
    const r = record();
    const driving = driveStage(ctx, 't', stage, [a.worker, b.worker], r, clock.now(), () => undefined);
    clock.advance(3000);
    a.lose('connection reset');
    await settle();
    expect(stops(b.sent)).toEqual([]);
    clock.advance(7000);
    b.finish({ start: 1_000_000 });
    await driving;
    expect(r.status).toBe('degraded');
    expect(r.workers[0]).toMatchObject({ status: 'degraded', lostAt: 1_003_000, error: expect.stringContaining('connection reset') });
    expect(r.workers[1]).toMatchObject({ status: 'succeeded' });
    expect(r.end).toBe(1_010_000);
    // The lost worker reported nothing; the survivor's start opens the window, and its done closes the drain.
    expect(r).toMatchObject({ loadStart: 1_000_000, loadEnd: 1_010_000, drainEnd: 1_010_000 });
    expect(logs.join('\n')).toMatch(/worker w0 lost in stage 000 of thread "t"/);
  });

  it('with --fail-fast, the first lost worker stops every other one and fails the stage', async () => {
    const { ctx, clock } = context({ failFast: true });
    const a = fakeWorker(0, 2);
    const b = fakeWorker(1, 2);
    const r = record();
    const driving = driveStage(ctx, 't', stage, [a.worker, b.worker], r, clock.now(), () => undefined);
    clock.advance(3000);
    a.lose('connection reset');
    // b ends only because it was told to stop: the stage would hang otherwise.
    await driving;
    expect(stops(b.sent)).toEqual([{ type: 'stop', reason: 'fail-fast: w0 lost' }]);
    expect(r.status).toBe('failed');
    expect(r.workers.map((w) => w.status)).toEqual(['degraded', 'succeeded']);
    expect(r.end).toBe(1_003_000);
  });

  it('fails the stage when every worker is lost, even without --fail-fast', async () => {
    const { ctx } = context();
    const a = fakeWorker(0, 4);
    const r = record();
    const driving = driveStage(ctx, 't', stage, [a.worker], r, 1_000_000, () => undefined);
    a.lose('killed');
    await driving;
    expect(r.status).toBe('failed');
  });

  it('on interrupt, stops every worker, marks the stage aborted and throws E3_INTERRUPTED (fail-fast sends nothing more)', async () => {
    const ctl = new AbortController();
    const { ctx } = context({ signal: ctl.signal, failFast: true });
    const a = fakeWorker(0, 2);
    const b = fakeWorker(1, 2);
    const r = record();
    const driving = driveStage(ctx, 't', stage, [a.worker, b.worker], r, 1_000_000, () => undefined);
    ctl.abort();
    await expect(driving).rejects.toMatchObject({ code: 'E3_INTERRUPTED' });
    expect(stops(a.sent)).toEqual([{ type: 'stop', reason: 'interrupted' }]);
    expect(stops(b.sent)).toEqual([{ type: 'stop', reason: 'interrupted' }]);
    expect(r.status).toBe('aborted');
    expect(r.workers.map((w) => w.status)).toEqual(['aborted', 'aborted']);
  });

  it("reports progress each second from the workers' latest ticks, and the workers lost", async () => {
    const { ctx, clock } = context();
    const a = fakeWorker(0, 2);
    const b = fakeWorker(1, 2);
    const progress: Array<[string, Record<string, unknown>]> = [];
    const driving = driveStage(ctx, 't', stage, [a.worker, b.worker], record(), clock.now(), (phase, extra = {}) => progress.push([phase, extra]));
    const tick = { type: 'tick', t: 0, second: 0, active: 2, ops: [{ test: 'T', op: 'Op', kind: 'transaction', count: 10, errors: 1, p95: 9 }] } as unknown as AgentMessage;
    a.emit(tick);
    b.emit(tick);
    clock.advance(1000);
    clock.tick();
    a.lose('gone');
    await settle();
    clock.advance(9500);
    clock.tick();
    b.finish();
    await driving;
    expect(progress[0]![0]).toBe('load');
    expect(progress[0]![1]).toMatchObject({ elapsedMs: 1000, workersLost: 0, tps: 20, errorRate: 0.1 });
    expect(progress[1]![0]).toBe('stopping');
    // TPS counts what ended in its window, second 0: both workers' 10 transactions, though a was lost since.
    expect(progress[1]![1]).toMatchObject({ elapsedMs: 10_000, workersLost: 1, tps: 20 });
    expect(progress[0]![1].dropRate).toBeUndefined();
  });

  it('reports the dropped share of all arrivals so far for the open model', async () => {
    const { ctx, clock } = context();
    const a = fakeWorker(0, 0);
    const b = fakeWorker(1, 0);
    const progress: Array<Record<string, unknown>> = [];
    const driving = driveStage(ctx, 't', { ...stage, clients: undefined, rate: 20 }, [a.worker, b.worker], record(), clock.now(), (_phase, extra = {}) => progress.push(extra));
    const tick = (arrivals: number, dropped: number) => ({ type: 'tick', t: 0, second: 0, active: 0, arrivals, late: 0, dropped, ops: [] }) as unknown as AgentMessage;
    a.emit(tick(10, 0));
    b.emit(tick(10, 2));
    clock.advance(1000);
    clock.tick();
    a.emit(tick(10, 4));
    b.emit(tick(10, 4));
    clock.advance(1000);
    clock.tick();
    a.finish();
    b.finish();
    await driving;
    // 2 of 20 arrivals dropped after the first second; 10 of 40 after the second.
    expect(progress.map((p) => p.dropRate)).toEqual([0.1, 0.25]);
  });
});
