import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { expectExit, makeTree, repoRoot, runE3 } from '@e3/test-utils';

describe('e3 orchestrate with a failing threshold', () => {
  it('ends with the summary and verdict as e3 demo does, prints the failed check, archives the run and exits 5', async () => {
    const demo = JSON.parse(await readFile(join(repoRoot, 'e3-home/experiments/local-demo.json'), 'utf8'));
    demo.duration = '4s';
    for (const t of demo.threads) t.stages = [{ clients: 2 }];
    // No git operation over a real SSH server ends within 1 µs.
    demo.thresholds = [{ p95: 0.001 }];
    const home = await makeTree({ 'runs/.keep': '', 'experiments/strict-demo.json': demo });
    const r = await runE3(repoRoot, ['orchestrate', '-e', 'strict-demo', '--home', home], { timeoutMs: 400_000 });
    expect(r.stderr).not.toMatch(/This is a bug/);
    expectExit(r, 5);
    expect(r.stdout).toMatch(/^verdict: FAILED \(\d+ of \d+ checks\)$/m);
    expect(r.stdout).toMatch(/^ {2}FAILED: 1 git op stage 000 \S.*: p95 [\d.]+ ms exceeds 0\.001 ms$/m);
    expect(r.stdout).toMatch(/^top stage \(load 2\), transactions per second, every test: /m);
    expect(r.stdout).toMatch(/^analyze +exit 5$/m);
    expect(r.stdout).toMatch(/^deprovision +ok$/m);
    const [run] = await readdir(join(home, 'archive'));
    const summary = JSON.parse(await readFile(join(home, 'archive', run!, 'analysis/summary.json'), 'utf8'));
    expect(summary.verdict.passed).toBe(false);
    for (const f of summary.verdict.failed as string[]) expect(r.stdout).toContain(`  ${f}\n`);
  }, 400_000);
});
