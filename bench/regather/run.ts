/**
 * Gathers a finished run twice from a worker host reached over SSH (a network-namespace host with its
 * own sshd, made for the bench and removed after) and prints what each gather moved and how long it took.
 * Goal: the second moves 0 bytes of samples in ≤ 1 s. The run: 4 stages × 2 workers, 100 000 samples each.
 * Needs root (ip netns, sshd). Usage: pnpm --filter @e3/bench regather
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { gather } from '@e3/gather';
import { SAMPLES_HEADER, nodePaths } from '@e3/model';
import { createNetnsHosts } from '@e3/test-utils';

const net = await createNetnsHosts(2);
const home = mkdtempSync(join(tmpdir(), 'e3-bench-'));
const run = 'regather-20261125T000000Z';
const dataDir = join(home, 'node-data');
const write = (file: string, text: string) => {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
};
try {
  const now = Date.now();
  const np = nodePaths(dataDir, run);
  for (let w = 0; w < 2; w++) {
    for (let s = 0; s < 4; s++) {
      const rows = Array.from({ length: 100_000 }, (_, i) => `${now + i},12.5,Test,git clone,request,${i % 40},${i},1,0,1000,,,`).join('\n');
      write(join(np.stageDir(0, w, s), 'samples.csv'), `${SAMPLES_HEADER}\n${rows}\n`);
    }
  }
  const workers = { Name: 'w', ClusterNodes: net.hosts.map((h) => h.node), dataDir, KeyFile: net.keyFile };
  write(join(home, 'runs', run, `${run}.json`), JSON.stringify({
    run_name: run, duration: 1000, workload: 'x',
    threads: [{ name: 't', instance: { stack: { Name: 'sut', ClusterNodes: ['localhost'], logDirs: [] } }, worker: { stack: workers }, stages: [{ clients: 1 }] }],
  }));
  write(join(home, 'runs', run, 'phases/run.json'), JSON.stringify({ formatVersion: 1, phase: 'run', status: 'succeeded', startedAt: new Date(now).toISOString(), finishedAt: new Date().toISOString(), version: '0' }));
  const timed = async () => {
    const t = performance.now();
    const r = await gather({ run, home, insecureHostKeys: true });
    if (r.status !== 'succeeded') throw new Error(JSON.stringify(r.nodes.filter((n) => n.error)));
    return { ms: performance.now() - t, bytes: r.bytesMoved, samples: r.nodes.reduce((a, n) => a + n.sampleBytesMoved, 0) };
  };
  const first = await timed();
  const second = await timed();
  process.stdout.write(`first gather: ${(first.samples / 1e6).toFixed(1)} MB of samples in ${first.ms.toFixed(0)} ms\n`);
  process.stdout.write(`second gather: ${second.samples} bytes of samples (${second.bytes} bytes in all) in ${second.ms.toFixed(0)} ms (goal 0 bytes, ≤ 1000 ms); time ratio second/first ${(second.ms / first.ms).toFixed(2)}\n`);
} finally {
  rmSync(home, { recursive: true, force: true });
  await net.stop();
}
