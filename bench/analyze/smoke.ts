import { generateRun } from '../../packages/analyze/test/helpers/generate-run.js';
import { analyze, formatAnalyzeResult } from '../../packages/analyze/src/index.js';
const dir = process.argv[2]!;
const g = await generateRun({
  dir, seed: 3,
  tests: [
    { test: 'clone', ops: [{ op: 'git clone', medianMs: 200, errorRate: 0.01, errorMessage: 'git 128: fatal: repository 12345 not found' }] },
    { test: 'browse', ops: [{ op: 'GET /projects', medianMs: 40 }, { op: 'GET /repos', medianMs: 60 }] },
  ],
  threads: [
    { name: 'small', stages: [{ clients: 4, durationMs: 20000 }, { clients: 8, durationMs: 20000 }, { clients: 16, durationMs: 20000 }] },
    { name: 'large', stages: [{ clients: 4, durationMs: 20000 }, { clients: 8, durationMs: 20000 }, { clients: 16, durationMs: 20000, status: 'degraded' }] },
  ],
  thresholds: [{ test: 'clone', p95: 250 }],
});
console.log('samples', g.samples);
const t = performance.now();
const r = await analyze({ run: g.runDir });
console.log(formatAnalyzeResult(r));
console.log('ms', performance.now() - t, r.timings, r.charts.length);
