import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { assignJobs, prng, readSamples, type SampleRow } from '@e3/model';
import { makeTmpDir, e3OriginalHome } from '@e3/test-utils';

import { defineScript, type Script } from '../script/api.js';
import { runStage, type RunStageOptions, type WorkloadJob } from './stage.js';


const E3_HOME = e3OriginalHome;
const mixed = JSON.parse(readFileSync(`${E3_HOME}/workloads/mixed.json`, 'utf8')) as WorkloadJob[];
const instance = { URL: 'http://127.0.0.1:9/ctx' };
const snapshot = { projects: [{ name: 'P', repos: [{ name: 'r', weight: 1 }] }], users: [{ username: 'u', password: 'p' }] };

const sleepy = (name: string, ms = 5): Script => defineScript({ name, run: (ctx) => ctx.sleep(ms) });
/** Work that takes `ms` (not think time). */
const busy = (name: string, ms: number): Script => defineScript({ name, run: () => new Promise<void>((r) => setTimeout(r, ms)) });

async function stage(over: Partial<RunStageOptions>) {
  const dir = await makeTmpDir();
  const result = await runStage({
    workload: [{ script: 'noop', description: 'Noop', weight: 1 }],
    instance, snapshot, stageDir: join(dir, 'stage-000'), workDir: join(dir, 'work'), durationMs: 300,
    userScripts: { noop: sleepy('t.Noop') }, ...over,
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

describe('runStage closed model', () => {
  it('loops each client until the stage ends and records one transaction per pass', async () => {
    const { summary, rows } = await stage({ clients: 3, durationMs: 300 });
    const tx = rows.filter((r) => r.kind === 'transaction');
    expect(tx.length).toBeGreaterThan(3 * 10);
    expect(tx.every((r) => (r.ok || r.error === 'cut') && r.op === 'Noop' && r.test === 'Noop' && r.intended === undefined)).toBe(true);
    for (const c of [0, 1, 2]) {
      const its = tx.filter((r) => r.client === c).map((r) => r.iteration);
      expect(its).toEqual(its.map((_, i) => i));
    }
    expect(summary.ops).toHaveLength(1);
    expect(summary.ops[0]).toMatchObject({ kind: 'transaction', count: tx.length, errors: 0 });
    expect(summary.samples).toBe(rows.length);
    expect(summary.stopped).toBe(false);
    expect(summary.ticks.length).toBeGreaterThanOrEqual(1);
  });

  it('lets in-flight passes finish within the grace period, then records the rest as cut', async () => {
    const slow = defineScript({
      name: 't.Slow',
      run: (ctx) =>
        new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, ctx.client === 0 ? 150 : 60_000);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(t);
            reject(new Error('aborted'));
          });
        }),
    });
    const started = Date.now();
    const { summary, rows } = await stage({ clients: 2, durationMs: 100, graceMs: 300, userScripts: { noop: slow } });
    expect(Date.now() - started).toBeLessThan(3000);
    const byClient = (c: number) => rows.filter((r) => r.client === c && r.kind === 'transaction');
    expect(byClient(0)[0]).toMatchObject({ ok: true });
    expect(byClient(1)).toHaveLength(1);
    expect(byClient(1)[0]).toMatchObject({ ok: false, error: 'cut' });
    expect(summary.ops[0]!.errorsByClass.cut).toBe(1);
    expect(summary.ops[0]!.errors).toBe(0);
  });

  it('records a script exception with its class, logs it once and keeps going', async () => {
    const bad = defineScript({
      name: 't.Bad',
      run: async () => {
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

  it('keeps a client\'s user across iterations (E³), or draws one per iteration with userPerIteration', async () => {
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
        await new Promise((r) => setTimeout(r, 20));
        await ctx.sleep(100);
      },
    });
    const { rows } = await stage({ clients: 1, durationMs: 400, userScripts: { noop: think } });
    const ok = rows.filter((r) => r.kind === 'transaction' && r.ok);
    expect(ok.length).toBeGreaterThan(0);
    for (const r of ok) {
      expect(r.duration).toBeGreaterThanOrEqual(18);
      expect(r.duration).toBeLessThan(90);
    }
  });

  it('pauses for the think time after each pass, which bounds the iteration rate', async () => {
    const instant = defineScript({ name: 't.Instant', run: async () => undefined });
    const { rows } = await stage({ clients: 1, durationMs: 1000, thinkTimeMs: { min: 200, max: 200 }, userScripts: { noop: instant } });
    const tx = rows.filter((r) => r.kind === 'transaction');
    expect(tx.length).toBeGreaterThanOrEqual(4);
    expect(tx.length).toBeLessThanOrEqual(6);
    expect(tx.every((r) => r.ok)).toBe(true);
    for (let i = 1; i < tx.length; i++) expect(tx[i]!.start - (tx[i - 1]!.start + tx[i - 1]!.duration)).toBeGreaterThanOrEqual(195);
  });

  it('draws a range think time for every pause, within [min, max], and leaves it out of the durations', async () => {
    const { rows } = await stage({
      clients: 1, durationMs: 2000, thinkTimeMs: { min: 50, max: 150 }, random: prng(7), userScripts: { noop: busy('t.Work', 20) },
    });
    const tx = rows.filter((r) => r.kind === 'transaction' && r.ok);
    expect(tx.length).toBeGreaterThan(8);
    const pauses = tx.slice(1).map((r, i) => r.start - (tx[i]!.start + tx[i]!.duration));
    for (const p of pauses) {
      expect(p).toBeGreaterThanOrEqual(49);
      expect(p).toBeLessThan(150 + 100);
    }
    expect(Math.max(...pauses) - Math.min(...pauses)).toBeGreaterThan(30);
    for (const r of tx) {
      expect(r.duration).toBeGreaterThanOrEqual(18);
      expect(r.duration).toBeLessThan(90);
    }
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
    const count = (test: string) => rows.filter((r) => r.kind === 'transaction' && r.test === test).length;
    expect(count('Paced')).toBeGreaterThanOrEqual(3);
    expect(count('Paced')).toBeLessThanOrEqual(5);
    expect(count('Stage')).toBeGreaterThanOrEqual(8);
    expect(count('Stage')).toBeLessThanOrEqual(11);
  });

  it('ends during think time without recording anything more or waiting for the grace period', async () => {
    const started = Date.now();
    const { rows, summary } = await stage({ clients: 2, durationMs: 200, graceMs: 5000, thinkTimeMs: { min: 60_000, max: 60_000 } });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(rows.filter((r) => r.kind === 'transaction').map((r) => [r.client, r.iteration, r.ok]).sort()).toEqual([
      [0, 0, true],
      [1, 0, true],
    ]);
    expect(summary.ops[0]!.errorsByClass.cut ?? 0).toBe(0);
  });

  it('stops early when its signal aborts', async () => {
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 100);
    const { summary } = await stage({ clients: 2, durationMs: 60_000, signal: ctl.signal });
    expect(summary.stopped).toBe(true);
  });
});

describe('runStage open model', () => {
  it('starts arrivals at the rate and measures from the intended start', async () => {
    const { summary, rows } = await stage({ rate: 100, clients: 8, durationMs: 500, userScripts: { noop: sleepy('t.Noop', 2) } });
    const tx = rows.filter((r) => r.kind === 'transaction');
    expect(tx.length).toBeGreaterThanOrEqual(45);
    expect(tx.length).toBeLessThanOrEqual(51);
    expect(tx.every((r) => r.intended !== undefined && r.duration >= r.start - r.intended!)).toBe(true);
    expect(summary.arrivals).toMatchObject({ rate: 100, dropped: 0 });
    expect(summary.arrivals!.scheduled).toBe(tx.length);
    expect(summary.arrivals!.started).toBe(tx.length);
  });

  it('ignores think time: arrivals keep their rate', async () => {
    const { rows } = await stage({ rate: 100, clients: 8, durationMs: 500, thinkTimeMs: { min: 1000, max: 1000 }, userScripts: { noop: sleepy('t.Noop', 2) } });
    expect(rows.filter((r) => r.kind === 'transaction').length).toBeGreaterThanOrEqual(45);
  });

  it('counts late arrivals when no virtual user is free, and their latency includes the wait', async () => {
    const { summary, rows } = await stage({ rate: 50, clients: 1, durationMs: 400, graceMs: 2000, userScripts: { noop: busy('t.Noop', 60) } });
    const tx = rows.filter((r) => r.kind === 'transaction' && r.ok);
    expect(summary.arrivals!.late).toBeGreaterThan(0);
    const last = tx[tx.length - 1]!;
    expect(last.start - last.intended!).toBeGreaterThan(100);
    expect(last.duration).toBeGreaterThanOrEqual(last.start - last.intended! + 55);
  });

  it('drops arrivals beyond maxQueue', async () => {
    const { summary } = await stage({ rate: 200, clients: 1, maxQueue: 2, durationMs: 300, userScripts: { noop: busy('t.Noop', 100) } });
    expect(summary.arrivals!.dropped).toBeGreaterThan(20);
    expect(summary.arrivals!.started + summary.arrivals!.dropped).toBe(summary.arrivals!.scheduled);
  });
});
