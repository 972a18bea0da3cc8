import { expect, test } from '@jest/globals';

import { globMatcher } from './glob.js';

test.each([
  ['*.csv', 'stage-000/samples.csv', true],
  ['*.csv', 'samples.csv.tmp', false],
  ['stage-*/samples.csv', 'stage-001/samples.csv', true],
  ['stage-*/samples.csv', 'x/stage-001/samples.csv', false],
  ['**/samples.csv', 'samples.csv', true],
  ['**/samples.csv', 'a/b/samples.csv', true],
  ['logs/**', 'logs/a/b.log', true],
  ['logs/**', 'other/logs/a', false],
  ['a?c', 'abc', true],
  ['a?c', 'a/c', false],
  ['file.(1)', 'file.(1)', true],
])('%s on %s is %s', (pattern, path, expected) => {
  expect(globMatcher(pattern)(path)).toBe(expected);
});
