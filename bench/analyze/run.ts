/**
 * Bench for @e3/analyze: a synthetic run of about 10 M samples (2 threads × 3 stages, 2 workers each,
 * collectd CSV per node), analysed end to end (aggregation, every chart, report.html) in a child process.
 * It builds @e3/model and @e3/analyze first and runs the compiled code (as `npx @e3/analyze` would).
 * Prints samples/s, peak RSS and the ratio to `wc -l` over the same files. Target: ≤ 15 s, ≤ 1 GB.
 * The generated run is kept in --dir for the next bench (remove it with --no-keep).
 *
 *   pnpm tsx --conditions=source bench/analyze/run.ts [--samples 10000000] [--dir /tmp/e3-bench-analyze] [--workers N] [--no-keep]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { generateRun } from '../../packages/analyze/test/helpers/generate-run.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const target = Number(arg('samples', '10000000'));
const dir = arg('dir', '/tmp/e3-bench-analyze');
const run = `bench-${target}-20261125T100000Z`;
const runDir = join(dir, run);

const tests = [
  { test: 'clone', ops: [{ op: 'git clone', medianMs: 200, sigma: 0.3, errorRate: 0.005, errorMessage: 'git 128: fatal: early EOF' }] },
  { test: 'browse', ops: [{ op: 'GET /rest/api/1.0/projects', medianMs: 40, sigma: 0.3 }, { op: 'GET /rest/api/1.0/repos', medianMs: 60, sigma: 0.3, errorRate: 0.002 }] },
];
const clients = [50, 100, 200];
// Rows per client-second: clone ≈ 2 rows per 209 ms, browse ≈ 3 rows per 104 ms; clients alternate.
const perClientSecond = (2 / 0.2094 + 3 / 0.1046) / 2;
const durationMs = Math.round((target / (perClientSecond * clients.reduce((a, b) => a + b, 0) * 2)) * 1000);

if (!existsSync(join(runDir, `${run}.json`))) {
  rmSync(runDir, { recursive: true, force: true });
  const t = performance.now();
  const stages = clients.map((c) => ({ clients: c, durationMs }));
  const g = await generateRun({ dir, run, seed: 1, tests, threads: [{ name: 'baseline', stages }, { name: 'tuned', stages, latencyFactor: { 'git clone': 0.8 } }] });
  process.stdout.write(`generated ${g.samples} samples in ${((performance.now() - t) / 1000).toFixed(1)} s (${runDir})\n`);
}

const root = fileURLToPath(new URL('../../', import.meta.url));
for (const pkg of ['model', 'analyze']) execFileSync('npx', ['tsc', '-p', `packages/${pkg}/tsconfig.build.json`], { cwd: root, stdio: 'inherit' });

const files: string[] = [];
const walk = (d: string) => {
  for (const e of readdirSync(d)) {
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (e === 'samples.csv') files.push(p);
  }
};
walk(runDir);
const bytes = files.reduce((a, f) => a + statSync(f).size, 0);

let t = performance.now();
const wc = execFileSync('wc', ['-l', ...files], { encoding: 'utf8', maxBuffer: 1 << 24 });
const wcMs = performance.now() - t;
const lines = Number(/(\d+) total/.exec(wc)?.[1] ?? wc.trim().split(/\s+/)[0]);

t = performance.now();
const workers = arg('workers', '');
const child = spawnSync(process.execPath, [fileURLToPath(new URL('./analyze-once.js', import.meta.url)), runDir, ...(workers ? [workers] : [])], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const wallMs = performance.now() - t;
if (child.status !== 0 && child.status !== 5) throw new Error(`analyze failed with ${child.status}`);
const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as { ms: number; cpuMs: number; samples: number; charts: number; timings: Record<string, number>; maxRssMB: number };

const report = {
  samples: r.samples,
  files: files.length,
  megabytes: Math.round(bytes / 1e6),
  analyzeSeconds: r.ms / 1000,
  cpuSeconds: r.cpuMs / 1000,
  loadAverage: loadavg()[0]!.toFixed(1),
  processSeconds: Math.round(wallMs) / 1000,
  samplesPerSecond: Math.round(r.samples / (r.ms / 1000)),
  peakRssMB: r.maxRssMB,
  charts: r.charts,
  timingsMs: r.timings,
  wcLines: lines,
  wcSeconds: Math.round(wcMs) / 1000,
  ratioToWc: Math.round((r.ms / wcMs) * 10) / 10,
  verdict: r.ms <= 15_000 && r.maxRssMB <= 1024 ? 'within target (≤ 15 s, ≤ 1 GB)' : 'OVER TARGET (≤ 15 s, ≤ 1 GB)',
};
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
if (process.argv.includes('--no-keep')) rmSync(runDir, { recursive: true, force: true });
