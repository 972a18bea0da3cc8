/**
 * Reads a samples.csv of N rows (default 10 M) with the model's streaming reader and prints rows/s and
 * the ratio to `wc -l` on the same file. Usage: pnpm tsx --conditions=source bench/samples-read/run.ts [rows]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createSampleWriter, scanSamples } from '@e3/model';

const rows = Number(process.argv[2] ?? 10_000_000);
const dir = mkdtempSync(join(tmpdir(), 'e3-bench-'));
const file = join(dir, 'samples.csv');
try {
  const ops = ['git clone', 'git ls-remote', 'GET /rest/api/1.0/projects', 'POST /rest/api/1.0/projects/P/repos/r/pull-requests'];
  const w = await createSampleWriter(file);
  const t0 = Date.now();
  for (let i = 0; i < rows; i++) {
    const p = w.write({
      start: t0 + i * 0.37, duration: 10 + (i % 997), test: `Test${i % 10}`, op: ops[i % 4]!, kind: i % 5 ? 'request' : 'transaction',
      client: i % 640, iteration: Math.floor(i / 640), ok: i % 101 !== 0, status: i % 101 ? 200 : 500, bytes: i % 65536,
      ttfb: i % 3 ? 1.5 : undefined, error: i % 101 ? undefined : 'http 500',
    });
    if (p) await p;
  }
  await w.close();

  const wcStart = process.hrtime.bigint();
  execFileSync('wc', ['-l', file]);
  const wcSec = Number(process.hrtime.bigint() - wcStart) / 1e9;

  const start = process.hrtime.bigint();
  let n = 0;
  await scanSamples(file, () => void n++);
  const sec = Number(process.hrtime.bigint() - start) / 1e9;
  if (n !== rows) throw new Error(`read ${n} rows, wrote ${rows}`);
  process.stdout.write(
    `samples-read: ${rows} rows in ${sec.toFixed(2)} s = ${(rows / sec / 1e6).toFixed(2)} M rows/s (goal ≥ 2 M rows/s)\n` +
      `wc -l: ${wcSec.toFixed(3)} s; reader / wc -l time ratio: ${(sec / wcSec).toFixed(1)}×\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
