import { mkdtemp, writeFile } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { createGitRunner, exitStatus, gitErrorText } from './runner.js';

describe('gitErrorText', () => {
  it("keeps git's fatal/error/ssh/remote lines and drops its advice", () => {
    expect(
      gitErrorText('ssh: connect to host h port 1: Connection refused\r\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n'),
    ).toBe('ssh: connect to host h port 1: Connection refused; fatal: Could not read from remote repository.');
    expect(gitErrorText('remote: push rejected by policy\nTo x\n ! [remote rejected] b -> b (pre-receive hook declined)\nerror: failed to push some refs to x\n')).toBe(
      'remote: push rejected by policy; ! [remote rejected] b -> b (pre-receive hook declined); error: failed to push some refs to x',
    );
    expect(gitErrorText('one\ntwo\nthree\nfour\n')).toBe('two; three; four');
  });
});

describe('createGitRunner: a git ended by a signal', () => {
  it('records the signal by name and 128 + its number as the status, not 137 for any signal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'e3-git-sig-'));
    const fakeGit = join(dir, 'git');
    // Stands in for a git that something outside e3 terminates.
    await writeFile(fakeGit, '#!/bin/sh\nkill -TERM $$\n', { mode: 0o755 });
    const samples: Array<{ status?: number; error?: string; ok: boolean }> = [];
    const git = createGitRunner({ homesDir: dir, sink: (s) => samples.push(s), gitPath: fakeGit });
    const result = await git(['ls-remote', 'x'], { throwOnFailure: false });
    expect(result.code).toBe(128 + osConstants.signals.SIGTERM);
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatchObject({ ok: false, status: 143 });
    expect(samples[0]!.error).toMatch(/^git SIGTERM/);
  });

  it('exitStatus: the exit code, or 128 + the signal number', () => {
    expect(exitStatus(3, null)).toBe(3);
    expect(exitStatus(null, 'SIGKILL')).toBe(137);
    expect(exitStatus(null, 'SIGINT')).toBe(130);
  });
});
