import { describe, expect, it } from '@jest/globals';

import { formatTopStage } from './demo.js';

describe('the demo top-stage comparison', () => {
  it('names the thread that held the most, for git operations and for every transaction, with the ratio', () => {
    const top = [
      { thread: '8 git ops', load: '30', tps: 14.42, gitOps: 8.71 },
      { thread: '1 git op', load: '30', tps: 10.9, gitOps: 4.02 },
    ];
    expect(formatTopStage(top)).toEqual([
      'top stage (load 30), git operations per second: "8 git ops" 8.71, "1 git op" 4.02 — "8 git ops" held the most, 2.17× "1 git op"',
      'top stage (load 30), transactions per second, every test: "8 git ops" 14.42, "1 git op" 10.90 — "8 git ops" held the most, 1.32× "1 git op"',
    ]);
  });

  it('puts each measure in its own order and says so when no thread held more', () => {
    const top = [
      { thread: 'a', tps: 5, gitOps: 2 },
      { thread: 'b', tps: 7, gitOps: 2 },
    ];
    expect(formatTopStage(top)).toEqual([
      'top stage, git operations per second: "a" 2.00, "b" 2.00 — no thread held more',
      'top stage, transactions per second, every test: "b" 7.00, "a" 5.00 — "b" held the most, 1.40× "a"',
    ]);
    expect(formatTopStage([top[0]!])).toEqual([]);
  });
});
