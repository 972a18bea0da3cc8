import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { makeTree, repoRoot, runE3 } from '@e3/test-utils';

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
  it('provisions local targets, runs, gathers, analyses and deprovisions, leaving a report and no target', async () => {
    const demo = JSON.parse(await readFile(join(repoRoot, 'e3-home/experiments/local-demo.json'), 'utf8'));
    demo.duration = '4s';
    for (const t of demo.threads) t.stages = [{ clients: 2 }, { clients: 4 }];
    const home = await makeTree({ 'experiments/quick-demo.json': demo, 'runs/.keep': '' });
    const before = await targetPids();
    const r = await runE3(repoRoot, ['demo', '--home', home, '--experiment', 'quick-demo'], { timeoutMs: 300_000 });
    expect(r.stderr).not.toMatch(/This is a bug/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^provision +ok$/m);
    expect(r.stdout).toMatch(/^deprovision +ok$/m);
    expect(r.stdout).toMatch(/top stage, git operations per second: /);
    const [run] = await readdir(join(home, 'archive'));
    const runDir = join(home, 'archive', run!);
    expect(r.stdout).toContain(`report: ${join(runDir, 'analysis/report.html')}`);
    expect(existsSync(join(runDir, 'analysis/report.html'))).toBe(true);
    const summary = JSON.parse(await readFile(join(runDir, 'analysis/summary.json'), 'utf8'));
    expect(summary.threads.map((t: { stages: Array<{ status: string }> }) => t.stages.map((s) => s.status))).toEqual([
      ['succeeded', 'succeeded'],
      ['succeeded', 'succeeded'],
    ]);
    // Deprovision stopped both targets and removed their data; the seeded base stays for the next run.
    expect(await readdir(join(home, 'tmp/local-targets'))).toEqual(['local-small']);
    expect(await targetPids()).toEqual(before);
  }, 300_000);
});
