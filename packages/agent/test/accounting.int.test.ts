import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { defineScript, runStage } from '@e3/agent';
import { readSamples, stageCounts } from '@e3/model';
import { makeTmpDir } from '@e3/test-utils';

import { listen } from './helpers.js';

describe('open model at twice the capacity of the target', () => {
  it('accounts for every arrival exactly once: scheduled = completed + cut + dropped', async () => {
    const dir = await makeTmpDir();
    // Capacity: 4 virtual users × 1 request / 200 ms = 20/s; 40/s arrive. The server counts what it finished.
    let served = 0;
    const srv = await listen((_req, res) => {
      res.on('finish', () => served++);
      setTimeout(() => res.end('ok'), 200);
    });
    const get = defineScript({ name: 't.Get', run: async (ctx) => void (await ctx.http.get('/')) });
    try {
      const result = await runStage({
        workload: [{ script: 'get', description: 'Get', weight: 1 }],
        userScripts: { get },
        instance: { URL: srv.url },
        snapshot: { projects: [{ name: 'P', repos: [{ name: 'r' }] }] },
        stageDir: join(dir, 'stage-000'),
        workDir: join(dir, 'work'),
        rate: 40,
        clients: 4,
        maxQueue: 8,
        durationMs: 3000,
        graceMs: 50,
      });
      let completed = 0;
      let cut = 0;
      for await (const r of readSamples(result.samplesFile)) {
        if (r.kind !== 'transaction') continue;
        if (r.error === 'cut') cut++;
        else completed++;
      }
      const a = result.summary.arrivals!;
      expect(a.dropped).toBeGreaterThan(0);
      expect(a.scheduled).toBe(completed + cut + a.dropped);
      expect(a.started).toBe(completed + cut);
      // The agent's own account agrees with its file, and the server finished every completed pass.
      expect(stageCounts(result.summary.ops)).toEqual({ completed, cut });
      expect(served).toBeGreaterThanOrEqual(completed);
      expect(served).toBeLessThanOrEqual(completed + cut);
    } finally {
      await srv.close();
    }
  });
});
