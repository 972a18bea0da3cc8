import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { expectExit, makeTree, repoRoot, runE3 } from '@e3/test-utils';

/** Pids of detached target daemons running on this machine. */
async function targetPids(): Promise<string[]> {
  const out: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (/target\/(src|dist)\/daemon\.(ts|js)/.test(cmd)) out.push(pid);
  }
  return out.sort();
}

describe('e3 demo', () => {
  it('runs the built-in demo end to end, leaving a report and no target, with the more-ticket thread holding more throughput at the top stage', async () => {
    const home = await makeTree({ 'runs/.keep': '' });
    const before = await targetPids();
    const r = await runE3(repoRoot, ['demo', '--home', home], { timeoutMs: 400_000 });
    expect(r.stderr).not.toMatch(/This is a bug/);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/^provision +ok$/m);
    expect(r.stdout).toMatch(/^deprovision +ok$/m);
    const [run] = await readdir(join(home, 'archive'));
    const runDir = join(home, 'archive', run!);
    expect(r.stdout).toContain(`report: ${join(runDir, 'analysis/report.html')}`);
    expect(existsSync(join(runDir, 'analysis/report.html'))).toBe(true);
    const summary = JSON.parse(await readFile(join(runDir, 'analysis/summary.json'), 'utf8'));
    const threads: Array<{ name: string; stages: Array<{ status: string; tps: number | null }> }> = summary.threads;
    expect(threads.map((t) => t.stages.map((s) => s.status))).toEqual([
      ['succeeded', 'succeeded', 'succeeded'],
      ['succeeded', 'succeeded', 'succeeded'],
    ]);

    // The run file says which thread has more hosting tickets; the analysis says what each held at the top stage.
    const runFile = JSON.parse(await readFile(join(runDir, `${run}.json`), 'utf8'));
    const tickets: number[] = runFile.threads.map((t: { instance: { settings: { maxGitOps: number } } }) => t.instance.settings.maxGitOps);
    const more = tickets.indexOf(Math.max(...tickets));
    const fewer = tickets.indexOf(Math.min(...tickets));
    expect(more).not.toBe(fewer);
    const topTps = threads.map((t) => t.stages.at(-1)!.tps ?? 0);
    expect(topTps[more]).toBeGreaterThan(topTps[fewer]!);
    expect(r.stdout).toMatch(new RegExp(`^top stage .*, transactions per second, every test: .* — "${threads[more]!.name}" held the most`, 'm'));

    // The archived run is found by name: listed (marked) and re-analysed.
    const listed = await runE3(repoRoot, ['list', 'runs', '--home', home]);
    expectExit(listed, 0);
    expect(listed.stdout).toContain(`${run}  (archived)`);
    const listedJson = await runE3(repoRoot, ['list', 'runs', '--home', home, '--json']);
    expect(JSON.parse(listedJson.stdout)).toEqual([{ name: run, archived: true }]);
    const again = await runE3(repoRoot, ['analyze', '-r', run!, '--home', home, '--json'], { timeoutMs: 200_000 });
    expectExit(again, 0);
    const reanalysed = JSON.parse(again.stdout);
    expect(reanalysed.run).toBe(run);
    expect(reanalysed.samples).toBe(summary.samples);
    expect(reanalysed.generatedAt > summary.generatedAt).toBe(true);

    // Both targets' hosting tickets (in use and queued) are charted from the series the target wrote.
    const report = await readFile(join(runDir, 'analysis/report.html'), 'utf8');
    const metricNodes: Array<{ thread: number; node: string; charts: Array<{ id: string; title: string; series: string[] }> }> = summary.metrics.nodes;
    for (const thread of [0, 1]) {
      const tickets = metricNodes.filter((n) => n.thread === thread && n.node === 'cluster-node-001').flatMap((n) => n.charts).find((c) => c.title === 'Hosting tickets');
      expect(tickets?.series).toEqual(expect.arrayContaining(['Used', 'QueuedRequests']));
      const dir = `thread-00${thread + 1}`;
      expect(report).toMatch(new RegExp(`metrics-${dir}-cluster-node-001(-[^"]*)?-jmx-GenericJMX-com-atlassian-bitbucket-HostingTickets\\.png`));
      expect(existsSync(join(runDir, 'analysis', summary.charts.find((f: string) => f.startsWith(`metrics-${dir}-cluster-node-001`) && f.endsWith('HostingTickets.png'))))).toBe(true);
    }

    // Deprovision stopped both targets and removed their data; the seeded base stays for the next run.
    expect(await readdir(join(home, 'tmp/local-targets'))).toEqual(['local-small']);
    expect(await targetPids()).toEqual(before);
  }, 400_000);
});
