import { expect, test } from '@jest/globals';

import { checkResult, tailBuffer } from './collect.js';

test('keeps the last bytes of a long output and says it was cut', () => {
  const t = tailBuffer(10);
  for (let i = 0; i < 100; i++) t.push(Buffer.from(`${i % 10}`));
  expect(t.text()).toBe('0123456789');
  expect(t.truncated).toBe(true);
});

test('keeps a short output whole', () => {
  const t = tailBuffer(10);
  t.push(Buffer.from('abc'));
  expect([t.text(), t.truncated]).toEqual(['abc', false]);
});

test('a failed checked command names the node, the command, the code and the stderr tail', () => {
  expect(() => checkResult('root@h', ['mkdir', '-p', '/x'], { code: 1, stdout: '', stderr: 'mkdir: denied\n' }, true)).toThrowErrorMatchingInlineSnapshot(`
"root@h: \`mkdir -p /x\` exited with code 1:
mkdir: denied"
`);
  expect(checkResult('root@h', 'false', { code: 1, stdout: '', stderr: '' }, false).code).toBe(1);
});
