import { expect, test } from '@jest/globals';

import { pidSniffer, withPidMark } from './pid-mark.js';

function sniff(chunks: string[]): { pid?: number; rest: string } {
  const out: string[] = [];
  let pid: number | undefined;
  const feed = pidSniffer((p) => (pid = p), (c) => out.push(c.toString()));
  for (const c of chunks) feed(Buffer.from(c));
  return { pid, rest: out.join('') };
}

test('prefixes the command with a pid line on stderr', () => {
  expect(withPidMark('echo hi')).toBe(`printf 'E3PID %s\\n' $$ >&2; echo hi`);
});

test('takes the pid line out of stderr, even split over chunks', () => {
  expect(sniff(['E3P', 'ID 42', '\nerr', 'or\n'])).toEqual({ pid: 42, rest: 'error\n' });
});

test('passes through lines printed before the pid line (shell start-up files)', () => {
  expect(sniff(['motd\nE3PID 7\nafter'])).toEqual({ pid: 7, rest: 'motd\nafter' });
});

test('gives up looking after 64 KiB without a newline', () => {
  const big = 'x'.repeat(70_000);
  expect(sniff([big, '\nE3PID 1\n'])).toEqual({ pid: undefined, rest: `${big}\nE3PID 1\n` });
});
