import { describe, expect, it } from '@jest/globals';

import { makeTmpDir, writeTree } from '@e3/test-utils';

import { generateRun } from '../test/helpers/generate-run.js';
import { errorClass } from './aggregate.js';
import { readNodeMetrics } from './metrics.js';
import { readRun } from './run-dir.js';

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);

describe('readNodeMetrics', () => {
  it('turns raw collectd counters into rates, joins daily files and keeps the run window', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({ dir, startAt: T0, collectd: false, tests: [{ test: 't', ops: [{ op: 'o', medianMs: 100 }] }], threads: [{ name: 'x', workers: 1, stages: [{ clients: 1, durationMs: 20_000 }] }] });
    const s = T0 / 1000;
    const host = `${g.runDir}/thread-001/cluster-node-001/collectd-csv/localhost`;
    await writeTree(host, {
      // jiffies: +300 per 10 s = 30 % user; the second file continues the first (next day)
      'aggregation-cpu-average/cpu-user-2026-11-25': `epoch,value\n${s - 3600},0\n${s},1000\n${s + 10},1300\n`,
      'aggregation-cpu-average/cpu-user-2026-11-26': `epoch,value\n${s + 20},1600\n${s + 30},100\n${s + 40},400\n`,
      'memory/memory-used-2026-11-25': `epoch,value\n${s},${2 ** 31}\n${s + 10},${2 ** 30}\n`,
      'interface-eth0/if_octets-2026-11-25': `epoch,rx,tx\n${s},0,0\n${s + 10},1000000,3000000\n`,
      'GenericJMX-com.atlassian.bitbucket_HostingTickets/gauge-Used-2026-11-25': `epoch,value\n${s},3\n${s + 10},7\n`,
      'unknown-plugin/whatever-2026-11-25': 'not,a,collectd,file\n',
    });
    const info = await readRun(g.runDir);
    const [m] = await readNodeMetrics(info);
    expect(m).toMatchObject({ node: 'cluster-node-001', host: 'localhost', source: 'csv' });
    const strip = (id: string) => m!.strips.find((x) => x.id === id)!;
    // the sample an hour before is outside the window; the counter reset (1600 → 100) is dropped
    expect(strip('cpu').series[0]).toEqual({ label: 'user', points: [[T0 + 10_000, 30], [T0 + 20_000, 30], [T0 + 40_000, 30]] });
    expect(strip('memory').series[0]!.points).toEqual([[T0, 2], [T0 + 10_000, 1]]);
    expect(strip('network').series.map((x) => x.label)).toEqual(['eth0 rx', 'eth0 tx']);
    expect(strip('network').series[0]!.points[0]![1]).toBeCloseTo(0.1, 9);
    expect(strip('network').series[1]!.points[0]![1]).toBeCloseTo(0.3, 9);
    expect(strip('jmx-GenericJMX-com-atlassian-bitbucket-HostingTickets')).toMatchObject({ title: 'Hosting tickets', series: [{ label: 'Used', points: [[T0, 3], [T0 + 10_000, 7]] }] });
  });

  it('falls back to the per-CPU folders when the aggregated one holds only other days', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({ dir, startAt: T0, collectd: false, tests: [{ test: 't', ops: [{ op: 'o', medianMs: 100 }] }], threads: [{ name: 'x', workers: 1, stages: [{ clients: 1, durationMs: 20_000 }] }] });
    const s = T0 / 1000;
    await writeTree(`${g.runDir}/thread-001/worker-node-001/collectd-csv/localhost`, {
      'aggregation-cpu-average/cpu-user-2026-11-20': `epoch,value
${s - 5 * 86400},0
${s - 5 * 86400 + 10},100
`,
      'cpu-0/cpu-user-2026-11-25': `epoch,value
${s},0
${s + 10},200
`,
      'cpu-1/cpu-user-2026-11-25': `epoch,value
${s},0
${s + 10},400
`,
    });
    const [m] = await readNodeMetrics(await readRun(g.runDir));
    expect(m!.strips.find((x) => x.id === 'cpu')!.series[0]).toEqual({ label: 'user', points: [[T0 + 10_000, 30]] });
  });
});

describe('the E³ chart set beyond CPU, memory, load and network', () => {
  it('charts the CPU sum, swap and swap I/O, git CPU time and git disk I/O from their collectd files', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({ dir, startAt: T0, collectd: false, tests: [{ test: 't', ops: [{ op: 'o', medianMs: 100 }] }], threads: [{ name: 'x', workers: 1, stages: [{ clients: 1, durationMs: 20_000 }] }] });
    const s = T0 / 1000;
    await writeTree(`${g.runDir}/thread-001/worker-node-001/collectd-csv/localhost`, {
      // +200 and +100 jiffies per 10 s: 20 % user + 10 % system = 30 % busy
      'aggregation-cpu-average/cpu-user-2026-11-25': `epoch,value\n${s},0\n${s + 10},200\n`,
      'aggregation-cpu-average/cpu-system-2026-11-25': `epoch,value\n${s},0\n${s + 10},100\n`,
      'swap/swap-used-2026-11-25': `epoch,value\n${s},${2 ** 30}\n`,
      'swap/swap_io-in-2026-11-25': `epoch,value\n${s},0\n${s + 10},20000000\n`,
      // 5 s of user CPU time in 10 s = 50 % of a core; 4 MB written in 10 s = 0.4 MB/s
      'processes-git/ps_cputime-2026-11-25': `epoch,user,syst\n${s},0,0\n${s + 10},5000000,1000000\n`,
      'processes-git/io_octets-2026-11-25': `epoch,rx,tx\n${s},0,0\n${s + 10},0,4000000\n`,
    });
    const [m] = await readNodeMetrics(await readRun(g.runDir));
    const strip = (id: string) => m!.strips.find((x) => x.id === id)!;
    expect(strip('cpu-sum').series).toEqual([{ label: 'busy', points: [[T0 + 10_000, 30]] }]);
    expect(strip('swap').series).toEqual([{ label: 'used', points: [[T0, 1]] }]);
    expect(strip('swap-io').series).toEqual([{ label: 'in', points: [[T0 + 10_000, 2]] }]);
    expect(strip('git-cpu').series.map((x) => [x.label, x.points[0]![1]])).toEqual([['user', 50], ['syst', 10]]);
    expect(strip('git-disk').series.map((x) => x.label)).toEqual(['rx', 'tx']);
    expect(strip('git-disk').series[1]!.points[0]![1]).toBeCloseTo(0.4, 9);
  });
});

describe('errorClass', () => {
  it('folds ids and long numbers so that the same failure groups together', () => {
    expect(errorClass('git 128: fatal: repository \'/tmp/x/4f3c2a\' not found')).toBe("git 128: fatal: repository '#' not found");
    expect(errorClass('http 404 on /rest/api/1.0/projects/P/repos/r12345')).toBe('http 404 on /rest/api/1.0/projects/P/repos/r#');
    expect(errorClass('timeout after 3f2a1b9c-1111-2222-3333-444455556666')).toBe('timeout after #');
  });
});
