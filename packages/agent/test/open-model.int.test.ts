import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { defineScript, runStage } from '@e3/agent';
import { readSamples, type SampleRow } from '@e3/model';
import { makeTmpDir } from '@e3/test-utils';

import { listen } from './helpers.js';


describe('open model against a target that stalls for 2 s', () => {
  it('records latencies that include the stall for every arrival due during it (no coordinated omission)', async () => {
    const dir = await makeTmpDir();
    let stallUntil = 0;
    let stallFrom = Infinity;
    const srv = await listen((_req, res) => {
      const wait = Date.now() >= stallFrom ? Math.max(0, stallUntil - Date.now()) : 0;
      setTimeout(() => res.writeHead(200).end('ok'), wait);
    });
    const get = defineScript({ name: 't.Get', run: async (ctx) => void (await ctx.http.get('/')) });
    setTimeout(() => {
      stallFrom = Date.now();
      stallUntil = stallFrom + 2000;
    }, 1000);
    try {
      const result = await runStage({
        workload: [{ script: 'get', description: 'Get', weight: 1 }],
        userScripts: { get },
        instance: { URL: srv.url },
        snapshot: { projects: [{ name: 'P', repos: [{ name: 'r' }] }] },
        stageDir: join(dir, 'stage-000'),
        workDir: join(dir, 'work'),
        rate: 50,
        clients: 20,
        durationMs: 4000,
        graceMs: 3000,
      });
      const rows: SampleRow[] = [];
      for await (const r of readSamples(result.samplesFile)) rows.push(r);
      const tx = rows.filter((r) => r.kind === 'transaction');
      expect(tx.length).toBeGreaterThanOrEqual(190);
      expect(tx.every((r) => r.ok)).toBe(true);
      const during = tx.filter((r) => r.intended! >= stallFrom + 20 && r.intended! < stallUntil - 20);
      expect(during.length).toBeGreaterThan(80);
      for (const r of during) expect(r.duration).toBeGreaterThanOrEqual(stallUntil - r.intended! - 15);
      // more arrivals were due than virtual users: many had to wait, and that wait is in their latency
      expect(result.summary.arrivals!.late).toBeGreaterThan(50);
      const req = rows.filter((r) => r.kind === 'request');
      expect(req.every((r) => r.intended !== undefined)).toBe(true);
      const before = tx.filter((r) => r.intended! < stallFrom - 100);
      expect(Math.max(...before.map((r) => r.duration))).toBeLessThan(200);
    } finally {
      await srv.close();
    }
  });
});
