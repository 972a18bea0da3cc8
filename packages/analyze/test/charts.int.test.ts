import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { analyze, computeAnalysis } from '@e3/analyze';
import { makeTmpDir } from '@e3/test-utils';

import { generateRun } from './helpers/generate-run.js';
import { pngContent } from './helpers/png.js';

const tests = [
  { test: 'clone', ops: [{ op: 'git clone', medianMs: 150, errorRate: 0.02, errorMessage: 'git 128: fatal: could not read' }] },
  { test: 'browse', ops: [{ op: 'GET /rest/api/1.0/projects', medianMs: 30 }, { op: 'GET /rest/api/1.0/repos', medianMs: 45 }] },
];

describe('charts', () => {
  it('renders every chart of a 2-thread × 3-stage run as a non-blank PNG of the expected size', async () => {
    const dir = await makeTmpDir();
    const stages = [{ clients: 3, durationMs: 6000 }, { clients: 6, durationMs: 6000 }, { clients: 12, durationMs: 6000 }];
    const g = await generateRun({ dir, seed: 9, tests, threads: [{ name: 'baseline', stages }, { name: 'tuned', stages, latencyFactor: { 'git clone': 0.7 } }] });
    const specs = (await computeAnalysis(g.runDir)).charts;
    const r = await analyze({ run: g.runDir });
    expect(r.charts.map((f) => basename(f))).toEqual(specs.map((s) => s.file));

    const files = specs.map((s) => s.file);
    expect(files).toEqual(expect.arrayContaining(['throughput.png', 'time-001.png', 'time-002.png', 'breakdown-thread-001.png', 'breakdown-thread-002.png']));
    for (const t of ['thread-001', 'thread-002']) {
      for (const s of ['stage-000', 'stage-001', 'stage-002']) expect(files).toEqual(expect.arrayContaining([`gantt-${t}-${s}.png`, `times-${t}-${s}.png`]));
      for (const node of ['worker-node-001', 'worker-node-002', 'cluster-node-001']) {
        for (const m of ['cpu', 'memory', 'load', 'network', 'disk', 'git-processes']) expect(files).toContain(`metrics-${t}-${node}-${m}.png`);
      }
      expect(files).toContain(`metrics-${t}-cluster-node-001-jmx-GenericJMX-com-atlassian-bitbucket-HostingTickets.png`);
    }
    for (const spec of specs) {
      const c = await pngContent(join(r.analysisDir, spec.file));
      expect({ file: spec.file, width: c.width, height: c.height }).toEqual({ file: spec.file, width: spec.width, height: spec.height });
      expect({ file: spec.file, inked: c.inked > 0.01, colours: c.colours > 8 }).toEqual({ file: spec.file, inked: true, colours: true });
    }
  });

  it('aggregates the Gantt of 1 000 clients into busy time per bin and keeps it readable', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({
      dir, seed: 2, collectd: false,
      tests: [{ test: 'browse', ops: [{ op: 'GET /a', medianMs: 80 }], transactions: false }, { test: 'clone', ops: [{ op: 'git clone', medianMs: 300, errorRate: 0.05 }], transactions: false }],
      threads: [{ name: 'big', workers: 4, stages: [{ clients: 1000, durationMs: 3000 }] }],
    });
    const a = await computeAnalysis(g.runDir);
    const gantt = a.charts.find((c) => c.group === 'gantt')!;
    expect(gantt.title).toContain('busy time per');
    expect(gantt.height).toBeLessThanOrEqual(2400);
    const r = await analyze({ run: g.runDir, report: false });
    const c = await pngContent(join(r.analysisDir, gantt.file));
    expect(c.inked).toBeGreaterThan(0.2);
  });

  it('reads RRD files through rrdtool when a node has no collectd CSV', async () => {
    const dir = await makeTmpDir();
    const g = await generateRun({ dir, collectd: false, tests, threads: [{ name: 'rrd', workers: 1, stages: [{ clients: 2, durationMs: 4000 }] }] });
    const host = join(g.runDir, 'thread-001', 'cluster-node-001', 'collectd-rrd', 'localhost');
    const start = Math.floor(g.windows[0]![0]![0] / 1000) - 60;
    const make = async (plugin: string, name: string, ds: string[], type: string, value: (i: number) => number[]) => {
      await mkdir(join(host, plugin), { recursive: true });
      const file = join(host, plugin, `${name}.rrd`);
      execFileSync('rrdtool', ['create', file, '--start', String(start - 10), '--step', '10', ...ds.map((d) => `DS:${d}:${type}:20:0:U`), 'RRA:AVERAGE:0.5:1:1000']);
      const updates: string[] = [];
      for (let i = 0; i < 20; i++) updates.push(`${start + i * 10}:${value(i).join(':')}`);
      execFileSync('rrdtool', ['update', file, ...updates]);
    };
    await make('load', 'load', ['shortterm', 'midterm', 'longterm'], 'GAUGE', (i) => [1 + i / 10, 1, 0.5]);
    await make('interface-eth0', 'if_octets', ['rx', 'tx'], 'DERIVE', (i) => [i * 1e6, i * 2e6]);
    await make('GenericJMX-com.atlassian.bitbucket_HostingTickets', 'gauge-Used', ['value'], 'GAUGE', (i) => [i]);
    const a = await computeAnalysis(g.runDir);
    const node = a.metrics.find((m) => m.node === 'cluster-node-001')!;
    expect(node.source).toBe('rrd');
    expect(node.strips.map((s) => s.id)).toEqual(['load', 'network', 'jmx-GenericJMX-com-atlassian-bitbucket-HostingTickets']);
    const net = node.strips[1]!.series.find((s) => s.label === 'eth0 rx')!;
    expect(net.points.length).toBeGreaterThan(5);
    expect(net.points[3]![1]).toBeCloseTo(0.1, 5); // 1e6 bytes per 10 s = 0.1 MB/s
  });
});
