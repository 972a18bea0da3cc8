import { describe, expect, it } from '@jest/globals';

import { gitErrorText } from './runner.js';

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
