import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from '@jest/globals';
import { expectExit, makeTree, repoRoot } from '@e3/test-utils';

/** `pnpm orchestrate …` as a user runs it from the repository root. */
function orchestrate(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'scripts/orchestrate-turbo.mjs'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0' },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

const home = join(repoRoot, 'e3-home');
let run: string | undefined;
afterAll(async () => {
  if (run) {
    await orchestrate(['--run', run, '--only', 'deprovision']);
    await rm(join(home, 'archive', run), { recursive: true, force: true });
    await rm(join(home, 'runs', run), { recursive: true, force: true });
  }
});

describe('pnpm orchestrate (Turbo pipeline)', () => {
  it('runs the phases as Turbo tasks into the usual run-dir layout, and an unchanged analyze is a cache hit', async () => {
    const demo = JSON.parse(await readFile(join(home, 'experiments/local-demo.json'), 'utf8'));
    demo.duration = '3s';
    for (const t of demo.threads) t.stages = [{ clients: 2 }];
    const dir = await makeTree({ 'pipeline-test.json': demo });
    const first = await orchestrate(['-e', join(dir, 'pipeline-test.json'), '--retain']);
    run = /^run: (\S+)$/m.exec(first.out)?.[1];
    expectExit(first, 0);
    expect(run).toMatch(/^pipeline-test-\d{8}T\d{6}Z$/);
    const runDir = join(home, 'runs', run!);
    for (const f of [`${run}.json`, 'ledger.ndjson', 'thread-001/stages.json', 'thread-002/stages.json', 'analysis/report.html', 'analysis/summary.json']) {
      expect(existsSync(join(runDir, f))).toBe(true);
    }
    for (const phase of ['provision', 'run', 'gather', 'analyze']) {
      expect(JSON.parse(await readFile(join(runDir, 'phases', `${phase}.json`), 'utf8')).status).toBe('succeeded');
    }
    await orchestrate(['--run', run!, '--only', 'analyze']);
    const again = await orchestrate(['--run', run!, '--only', 'analyze']);
    expectExit(again, 0);
    expect(again.out).toMatch(/e3:analyze: cache hit/);
    expect(existsSync(join(runDir, 'analysis/report.html'))).toBe(true);

    const down = await orchestrate(['--run', run!, '--only', 'deprovision']);
    expectExit(down, 0);
    expect(existsSync(join(home, 'archive', run!, `${run}.json`))).toBe(true);
  }, 400_000);
});
