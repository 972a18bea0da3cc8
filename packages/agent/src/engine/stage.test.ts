import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { beforeEach, describe, expect, it } from '@jest/globals';
import { assignJobs, prng, readSamples, type SampleRow, type Tick } from '@e3/model';
import { makeTmpDir, e3OriginalHome } from '@e3/test-utils';

import { defineScript, type Script, type ScriptContext } from '../script/api.js';
import type { StageClock } from './clock.js';
import { runStage, type RunStageOptions, type WorkloadJob } from './stage.js';

const E3_HOME = e3OriginalHome;
const mixed = JSON.parse(readFileSync(`${E3_HOME}/workloads/mixed.json`, 'utf8')) as WorkloadJob[];
const instance = { URL: 'http://127.0.0.1:9/ctx' };
const snapshot = { projects: [{ name: 'P', repos: [{ name: 'r', weight: 1 }] }], users: [{ username: 'u', password: 'p' }] };

/**
 * A clock whose time moves only when the stage has nothing else to do: then it jumps to the earliest
 * pending sleep and wakes it (one at a time, in the order they were made for equal times).
 */
function fakeClock(start = Date.UTC(2026, 0, 1)): StageClock {
  let t = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fire(): void }>();
  let pumping = false;
  const idle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  const pump = async () => {
    if (pumping) return;
    pumping = true;
    for (await idle(); timers.size > 0; await idle()) {
      let next: [number, { at: number; fire(): void }] | undefined;
      for (const e of timers) if (!next || e[1].at < next[1].at) next = e;
      timers.delete(next![0]);
      t = Math.max(t, next![1].at);
      next![1].fire();
    }
    pumping = false;
  };
  return {
    now: () => t,
    sleep: (ms, signal) =>
      new Promise<boolean>((resolve) => {
        if (signal?.aborted) return resolve(false);
        const id = seq++;
        const onAbort = () => {
          timers.delete(id);
          resolve(false);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        if (!Number.isFinite(ms)) return;
        timers.set(id, { at: t + Math.max(0, ms), fire: () => (signal?.removeEventListener('abort', onAbort), resolve(true)) });
        void pump();
      }),
  };
}

let clock: StageClock;
beforeEach(() => {
  clock = fakeClock();
});

/** Think time of `ms` (ctx.sleep: not measured, ends with the stage). */
const sleepy = (name: string, ms = 5): Script => defineScript({ name, run: (ctx) => ctx.sleep(ms) });
/** Work that takes `ms` on the stage clock (measured; cut when the grace period ends). */
const work = async (ctx: ScriptContext, ms: number) => {
  if (!(await clock.sleep(ms, ctx.signal))) throw new Error('aborted');
};
const busy = (name: string, ms: number): Script => defineScript({ name, run: (ctx) => work(ctx, ms) });

async function stage(over: Partial<RunStageOptions>) {
  const dir = await makeTmpDir();
  const result = await runStage({
    workload: [{ script: 'noop', description: 'Noop', weight: 1 }],
    instance, snapshot, stageDir: join(dir, 'stage-000'), workDir: join(dir, 'work'), durationMs: 300,
    userScripts: { noop: sleepy('t.Noop') }, clock, ...over,
  });
  const rows: SampleRow[] = [];
  for await (const r of readSamples(result.samplesFile)) rows.push(r);
  return { ...result, rows, dir };
}

const mixedScripts = Object.fromEntries(mixed.map((j) => [j.script, sleepy(j.script)]));
const clientsPerJob = (jobs: { clients: number }[]) => jobs.map((j) => j.clients);

describe('runStage job assignment', () => {
  it("gives E³'s mixed workload's 20 clients by largest remainder", async () => {
    const { summary } = await stage({ workload: mixed, clients: 20, durationMs: 50, userScripts: mixedScripts });
    expect(clientsPerJob(summary.jobs)).toEqual([8, 2, 2, 2, 1, 1, 1, 1, 1, 1]);
  });

  it('gives every weighted job a client when clients ≥ jobs (10 clients, 10 jobs)', async () => {
    const { summary } = await stage({ workload: mixed, clients: 10, durationMs: 50, userScripts: mixedScripts });
    expect(clientsPerJob(summary.jobs)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('splits the same assignment over workers by offset and total', async () => {
    const a = await stage({ workload: mixed, clients: 10, clientOffset: 0, totalClients: 20, durationMs: 50, userScripts: mixedScripts });
    const b = await stage({ workload: mixed, clients: 10, clientOffset: 10, totalClients: 20, durationMs: 50, userScripts: mixedScripts });
    expect(a.summary.jobs.map((j, i) => j.clients + b.summary.jobs[i]!.clients)).toEqual([8, 2, 2, 2, 1, 1, 1, 1, 1, 1]);
    expect(new Set(b.rows.map((r) => r.client))).toEqual(new Set([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]));
  });

  it("follows E³'s bands formula with assignment bands", async () => {
    const weights = mixed.map((j) => j.weight);
    for (const clients of [20, 10]) {
      const { summary } = await stage({ workload: mixed, clients, assignment: 'bands', durationMs: 50, userScripts: mixedScripts });
      const expected = weights.map((_, j) => assignJobs(weights, clients, 'bands').filter((x) => x === j).length);
      expect(clientsPerJob(summary.jobs)).toEqual(expected);
      // the bands rule: client c takes the first job where (c + 0.5)/clients − Σweights < 0
      const bands = Array.from({ length: clients }, (_, c) => {
        let w = (c + 0.5) / clients;
        return weights.findIndex((x) => (w -= x) < 0);
      });
      expect(assignJobs(weights, clients, 'bands')).toEqual(bands.map((j) => (j < 0 ? weights.length - 1 : j)));
    }
    const ten = await stage({ workload: mixed, clients: 10, assignment: 'bands', durationMs: 50, userScripts: mixedScripts });
    expect(ten.summary.jobs.some((j) => j.clients === 0)).toBe(true);
  });
});


const transactions = (rows: SampleRow[]) => rows.filter((r) => r.kind === 'transaction');

describe('runStage closed model', () => {
  it('loops each client until the stage ends and records one transaction per pass', async () => {
    // 7 ms passes in a 300 ms stage: 42 whole passes per client; the 43rd ends with the stage, unrecorded.
    const { summary, rows } = await stage({ clients: 3, durationMs: 300, userScripts: { noop: sleepy('t.Noop', 7) } });
    const tx = transactions(rows);
    // (A pass the stage end catches in think time may be recorded as cut: see runPass.)
    const ok = tx.filter((r) => r.ok);
    expect(ok).toHaveLength(3 * 42);
    expect(tx.every((r) => (r.ok || r.error === 'cut') && r.op === 'Noop' && r.test === 'Noop' && r.intended === undefined)).toBe(true);
    for (const c of [0, 1, 2]) expect(tx.filter((r) => r.client === c && !r.ok).every((r) => r.iteration === 42)).toBe(true);
    for (const c of [0, 1, 2]) {
      const its = tx.filter((r) => r.client === c).map((r) => r.iteration);
      expect(its).toEqual(its.map((_, i) => i));
    }
    expect(summary.ops).toHaveLength(1);
    expect(summary.ops[0]).toMatchObject({ kind: 'transaction', count: tx.length, errors: 0 });
    expect(summary.samples).toBe(rows.length);
    expect(summary.stopped).toBe(false);
  });

  it('emits a tick at the end of every second, and the last part-second when the stage ends', async () => {
    const ticks: Array<{ t: number; second: number }> = [];
    const sent: Tick[] = [];
    const { summary } = await stage({ clients: 1, durationMs: 2500, onTick: (t) => {
      ticks.push({ t: t.t, second: t.second });
      sent.push(t);
    } });
    const t0 = summary.start;
    expect(ticks).toEqual([{ t: t0 + 1000, second: 0 }, { t: t0 + 2000, second: 1 }, { t: t0 + 2500, second: 2 }]);
    expect(summary.ticks.map((t) => t.second)).toEqual([0, 1, 2]);
    const sentOps = sent.flatMap((t) => t.ops);
    expect(sentOps.length).toBeGreaterThan(0);
    expect(sentOps.every((o) => o.histogram !== undefined)).toBe(true);
    // Each second's histograms go to the controller in the tick, not into summary.json.
    expect(summary.ticks.flatMap((t) => t.ops).some((o) => o.histogram !== undefined)).toBe(false);
  });

  it('starts at startAt (the barrier across workers)', async () => {
    const startAt = clock.now() + 300;
    const { summary, rows } = await stage({ clients: 1, durationMs: 100, startAt });
    expect(summary.start).toBe(startAt);
    expect(Math.min(...rows.map((r) => r.start))).toBe(startAt);
  });

  it('lets in-flight passes finish within the grace period, then records the rest as cut', async () => {
    const slow = defineScript({ name: 't.Slow', run: (ctx) => work(ctx, ctx.client === 0 ? 150 : 60_000) });
    const { summary, rows } = await stage({ clients: 2, durationMs: 100, graceMs: 300, userScripts: { noop: slow } });
    const byClient = (c: number) => transactions(rows).filter((r) => r.client === c);
    expect(byClient(0)).toEqual([expect.objectContaining({ ok: true, duration: 150 })]);
    expect(byClient(1)).toEqual([expect.objectContaining({ ok: false, error: 'cut', duration: 400 })]);
    expect(summary.ops[0]!.errorsByClass.cut).toBe(1);
    expect(summary.ops[0]!.errors).toBe(0);
    // summary.json accounts for every pass: one completed (client 0), one cut (client 1).
    expect({ completed: summary.completed, cut: summary.cut }).toEqual({ completed: 1, cut: 1 });
    // The stage ended at 100 ms and the grace period at 400 ms, not later.
    expect(summary.end - summary.start).toBe(400);
  });

  it('records a script exception with its class, logs it once and keeps going', async () => {
    const bad = defineScript({
      name: 't.Bad',
      run: async (ctx) => {
        await work(ctx, 1);
        throw new TypeError('boom');
      },
    });
    const { summary, rows, dir } = await stage({ clients: 1, durationMs: 100, userScripts: { noop: bad } });
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.every((r) => !r.ok && r.error === 'exception boom')).toBe(true);
    expect(summary.ops[0]!.errorsByClass.exception).toBe(rows.length);
    const log = await readFile(join(dir, 'stage-000', 'agent.log'), 'utf8');
    expect(log.match(/TypeError: boom/g)).toHaveLength(1);
  });

  it("keeps a client's user across iterations (E³), or draws one per iteration with userPerIteration", async () => {
    const users = Array.from({ length: 20 }, (_, i) => ({ username: `u${i}`, password: 'p' }));
    const seen = new Map<number, Set<string>>();
    const who = defineScript({
      name: 't.Who',
      run: async (ctx) => {
        const set = seen.get(ctx.client) ?? new Set<string>();
        set.add(ctx.httpUser().username);
        seen.set(ctx.client, set);
        await ctx.sleep(2);
      },
    });
    await stage({ clients: 2, durationMs: 150, snapshot: { ...snapshot, users }, userScripts: { noop: who } });
    expect([...seen.values()].map((s) => s.size)).toEqual([1, 1]);
    seen.clear();
    await stage({ clients: 2, durationMs: 150, snapshot: { ...snapshot, users }, userScripts: { noop: who }, userPerIteration: true });
    expect([...seen.values()].every((s) => s.size > 3)).toBe(true);
  });

  it('leaves think time (ctx.sleep) out of the transaction duration', async () => {
    const think = defineScript({
      name: 't.Think',
      run: async (ctx) => {
        await work(ctx, 20);
        await ctx.sleep(100);
      },
    });
    const { rows } = await stage({ clients: 1, durationMs: 400, userScripts: { noop: think } });
    const ok = transactions(rows).filter((r) => r.ok);
    // Passes of 120 ms: three whole ones in 400 ms.
    expect(ok.map((r) => r.duration)).toEqual([20, 20, 20]);
  });

  it('pauses for the think time after each pass, which bounds the iteration rate', async () => {
    const instant = defineScript({ name: 't.Instant', run: async () => undefined });
    const { rows } = await stage({ clients: 1, durationMs: 1000, thinkTimeMs: { min: 200, max: 200 }, userScripts: { noop: instant } });
    const tx = transactions(rows);
    const t0 = tx[0]!.start;
    expect(tx.map((r) => [r.start - t0, r.ok])).toEqual([[0, true], [200, true], [400, true], [600, true], [800, true]]);
  });

  it('draws a range think time for every pause, within [min, max], and leaves it out of the durations', async () => {
    const { rows } = await stage({
      clients: 1, durationMs: 2000, thinkTimeMs: { min: 50, max: 150 }, random: prng(7), userScripts: { noop: busy('t.Work', 20) },
    });
    const tx = transactions(rows).filter((r) => r.ok);
    expect(tx.length).toBeGreaterThan(8);
    const pauses = tx.slice(1).map((r, i) => r.start - (tx[i]!.start + tx[i]!.duration));
    // The pauses are the stage's random draws, in order (nothing else draws in this workload).
    const draw = prng(7);
    for (const p of pauses) expect(p).toBeCloseTo(50 + draw() * 100, 2);
    expect(Math.max(...pauses) - Math.min(...pauses)).toBeGreaterThan(30);
    expect(tx.every((r) => r.duration === 20)).toBe(true);
  });

  it("uses a job's own thinkTime instead of the stage's", async () => {
    const instant = defineScript({ name: 't.Instant', run: async () => undefined });
    const { rows } = await stage({
      workload: [
        { script: 'noop', description: 'Paced', weight: 0.5, thinkTime: '250ms' },
        { script: 'noop', description: 'Stage', weight: 0.5 },
      ],
      clients: 2, durationMs: 1000, thinkTimeMs: { min: 100, max: 100 }, userScripts: { noop: instant },
    });
    const count = (test: string) => transactions(rows).filter((r) => r.test === test).length;
    // Passes at 0, 250, 500, 750 ms and at every 100 ms from 0 to 900 ms.
    expect(count('Paced')).toBe(4);
    expect(count('Stage')).toBe(10);
  });

  it('ends during think time without recording anything more or waiting for the grace period', async () => {
    const { rows, summary } = await stage({ clients: 2, durationMs: 200, graceMs: 5000, thinkTimeMs: { min: 60_000, max: 60_000 } });
    expect(transactions(rows).map((r) => [r.client, r.iteration, r.ok]).sort()).toEqual([
      [0, 0, true],
      [1, 0, true],
    ]);
    expect(summary.ops[0]!.errorsByClass.cut ?? 0).toBe(0);
    expect(clock.now() - summary.start).toBe(200);
  });

  it('stops early when its signal aborts', async () => {
    const ctl = new AbortController();
    const stopper = defineScript({
      name: 't.Stopper',
      run: async (ctx) => {
        if (ctx.iteration === 10) ctl.abort();
        await ctx.sleep(5);
      },
    });
    const { summary } = await stage({ clients: 1, durationMs: 60_000, signal: ctl.signal, userScripts: { noop: stopper } });
    expect(summary.stopped).toBe(true);
    expect(summary.samples).toBe(10);
    expect(clock.now() - summary.start).toBe(50);
  });
});

describe('runStage open model', () => {
  it('starts arrivals at the rate and measures from the intended start', async () => {
    const { summary, rows } = await stage({ rate: 100, clients: 8, durationMs: 500, userScripts: { noop: busy('t.Noop', 2) } });
    const tx = transactions(rows);
    expect(tx).toHaveLength(50);
    expect(tx.map((r) => r.intended! - summary.start).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, k) => k * 10));
    expect(tx.every((r) => r.ok && r.start === r.intended && r.duration === 2)).toBe(true);
    expect(summary.arrivals).toMatchObject({ rate: 100, scheduled: 50, started: 50, late: 0, dropped: 0 });
  });

  it('ignores think time: arrivals keep their rate', async () => {
    const { rows } = await stage({ rate: 100, clients: 8, durationMs: 500, thinkTimeMs: { min: 1000, max: 1000 }, userScripts: { noop: busy('t.Noop', 2) } });
    expect(transactions(rows)).toHaveLength(50);
  });

  it('counts late arrivals when no virtual user is free, and their latency includes the wait', async () => {
    // One user, 60 ms passes, an arrival every 20 ms: arrival j starts at 60j ms although due at 20j ms.
    const { summary, rows } = await stage({ rate: 50, clients: 1, durationMs: 400, graceMs: 2000, userScripts: { noop: busy('t.Noop', 60) } });
    const tx = transactions(rows);
    expect(tx.map((r) => [r.start - summary.start, r.intended! - summary.start, r.duration])).toEqual(
      Array.from({ length: 7 }, (_, j) => [60 * j, 20 * j, 40 * j + 60]),
    );
    // 20 arrivals were due; the 13 still waiting when the stage ended are dropped.
    expect(summary.arrivals).toMatchObject({ scheduled: 20, started: 7, late: 6, dropped: 13 });
  });

  it('drops arrivals beyond maxQueue', async () => {
    // One user busy 100 ms per pass, an arrival every 5 ms, room for 2 waiting: 3 start in 300 ms.
    const { summary } = await stage({ rate: 200, clients: 1, maxQueue: 2, durationMs: 300, userScripts: { noop: busy('t.Noop', 100) } });
    expect(summary.arrivals).toMatchObject({ scheduled: 60, started: 3, late: 2, dropped: 57 });
  });
});
