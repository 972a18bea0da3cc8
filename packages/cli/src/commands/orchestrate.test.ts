import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { repoRoot } from '@e3/test-utils';

import { orchestrateCommand } from './orchestrate.js';

describe('e3 orchestrate --plan', () => {
  it('prints what provision would do for local parts and creates nothing (no run folder)', async () => {
    const home = join(repoRoot, 'e3-home');
    const before = await readdir(home);
    const ctx = { json: false, log: () => undefined, event: () => undefined, signal: new AbortController().signal, tty: false, cwd: repoRoot, env: {}, progress: () => undefined };
    const out = await orchestrateCommand.run!({ experiment: 'local-demo', plan: true, retain: false, home, json: false } as never, ctx);
    expect(out.exitCode ?? 0).toBe(0);
    expect(out.text).toContain('(nothing is created)');
    expect(out.text).toContain('thread 1 git op instance: local (nothing created in AWS)');
    expect(out.text).toContain('estimated cost: $0.00 per hour');
    expect(await readdir(home)).toEqual(before);
  });
});
