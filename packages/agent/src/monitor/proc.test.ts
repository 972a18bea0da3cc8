import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { makeTmpDir, makeTree } from '@e3/test-utils';

import { readProcValues, runMonitor } from './proc.js';


const stat = (pid: number, comm: string) =>
  `${pid} (${comm}) S 1 1 1 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 100 1000000 300 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n`;

const fakeProc = {
  stat: 'cpu  10 0 5 100 1 0 0 0 0 0\ncpu0 10 0 5 100 1 0 0 0 0 0\ncpu1 1 2 3 4 5 6 7 8 0 0\nintr 0\n',
  meminfo: 'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 200 kB\nSReclaimable: 50 kB\nSwapTotal: 10 kB\nSwapFree: 4 kB\n',
  loadavg: '0.50 0.25 0.10 1/100 999\n',
  'net/dev': 'Inter-|   Receive\n face |bytes\n    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n  eth0: 1000 10 1 0 0 0 0 0 2000 20 2 0 0 0 0 0\n',
  diskstats: '   8       0 sda 10 0 80 5 20 0 160 7 0 0 0\n   8       1 sda1 1 0 8 1 2 0 16 1 0 0 0\n 202 0 xvda 1 0 8 1 2 0 16 1 0 0 0\n',
  '12/stat': stat(12, 'git'),
  '13/stat': stat(13, 'git'),
  '14/stat': stat(14, 'bash'),
};

describe('readProcValues', () => {
  it('reads cpu, memory, swap, load, interfaces (not lo), whole disks (xvd too) and git/java/node processes', async () => {
    const root = await makeTree(fakeProc);
    const values = await readProcValues({ procRoot: root });
    const get = (dir: string, file: string) => values.find((v) => v.dir === dir && v.file === file)?.values;
    expect(get('cpu-1', 'cpu-steal')).toEqual([8]);
    expect(get('memory', 'memory-used')).toEqual([600 * 1024]);
    expect(get('swap', 'swap-used')).toEqual([6 * 1024]);
    expect(get('load', 'load')).toEqual([0.5, 0.25, 0.1]);
    expect(get('interface-eth0', 'if_octets')).toEqual([1000, 2000]);
    expect(values.some((v) => v.dir === 'interface-lo')).toBe(false);
    expect(get('disk-sda', 'disk_octets')).toEqual([80 * 512, 160 * 512]);
    expect(get('disk-xvda', 'disk_ops')).toEqual([1, 2]);
    expect(values.some((v) => v.dir === 'disk-sda1')).toBe(false);
    expect(get('processes-git', 'ps_count')).toEqual([2, 14]);
    expect(get('processes-git', 'ps_rss')).toEqual([2 * 300 * 4096]);
    expect(get('processes-git', 'ps_cputime')).toEqual([2 * 250 * 10_000, 2 * 50 * 10_000]);
    expect(get('processes-java', 'ps_count')).toEqual([0, 0]);
  });
});

describe('runMonitor', () => {
  it('writes the collectd CSV layout with one header per file', async () => {
    const root = await makeTree(fakeProc);
    const out = await makeTmpDir();
    const ctl = new AbortController();
    let t = Date.UTC(2026, 10, 25, 10, 0, 0);
    let reads = 0;
    // the sampler reads the clock twice per round: stop it during the third round
    const now = () => {
      if (++reads === 5) ctl.abort();
      return (t += 5000);
    };
    const { rounds } = await runMonitor({ out, host: 'w1', procRoot: root, intervalMs: 10, signal: ctl.signal, now });
    expect(rounds).toBe(3);
    expect((await readdir(join(out, 'w1'))).sort()).toEqual(
      ['cpu-0', 'cpu-1', 'disk-sda', 'disk-xvda', 'interface-eth0', 'load', 'memory', 'processes-git', 'processes-java', 'processes-node', 'swap'].sort(),
    );
    const load = (await readFile(join(out, 'w1', 'load', 'load-2026-11-25'), 'utf8')).trim().split('\n');
    expect(load[0]).toBe('epoch,shortterm,midterm,longterm');
    expect(load).toHaveLength(rounds + 1);
    expect(load[1]).toMatch(/^1795\d{6}\.000,0\.500000,0\.250000,0\.100000$/);
  });
});
