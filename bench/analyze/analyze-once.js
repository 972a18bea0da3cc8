// Child of bench/analyze/run.ts: analyses one run folder with the compiled @e3/analyze (dist/) and prints
// timings and peak RSS as JSON. Usage: node bench/analyze/analyze-once.js <run dir> [workers]
import { analyze } from '../../packages/analyze/dist/index.js';

const runDir = process.argv[2];
const workers = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const r = await analyze({ run: runDir, ...(workers === undefined ? {} : { workers }) });
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  JSON.stringify({ ms: Math.round(ms), cpuMs: Math.round((cpu.user + cpu.system) / 1000), samples: r.summary.samples, charts: r.charts.length, timings: r.timings, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n',
);
