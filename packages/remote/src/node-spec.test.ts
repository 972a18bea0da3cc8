import { describe, expect, test } from '@jest/globals';

import { parseNode, shellLine, shellQuote } from './node-spec.js';

describe('parseNode', () => {
  test('reads localhost as a local node', () => {
    expect(parseNode('localhost')).toEqual({ kind: 'local', node: 'localhost' });
  });

  test('reads user@host with port 22 by default', () => {
    expect(parseNode('ec2-user@10.0.0.5')).toEqual({ kind: 'ssh', node: 'ec2-user@10.0.0.5', user: 'ec2-user', host: '10.0.0.5', port: 22 });
  });

  test('reads an explicit port and a DNS name', () => {
    expect(parseNode('root@ip-10-0-0-5.ec2.internal:2222')).toMatchObject({ user: 'root', host: 'ip-10-0-0-5.ec2.internal', port: 2222 });
  });

  test('reads a bracketed IPv6 host', () => {
    expect(parseNode('root@[fd00::2]:22')).toMatchObject({ host: 'fd00::2', port: 22 });
  });

  test.each(['host.example', 'user@', '@host', 'a@b@c', 'user@host:0', 'user@host:70000', 'user@host:', 'user@ho st', ''])(
    'rejects %j with E3_USAGE and a hint',
    (node) => {
      expect(() => parseNode(node)).toThrow(expect.objectContaining({ code: 'E3_USAGE', hint: expect.stringContaining('ClusterNodes') }));
    },
  );

  test('names the node and the expected form in the message', () => {
    expect(() => parseNode('host.example')).toThrowErrorMatchingInlineSnapshot(`"bad node "host.example": expected "localhost" or "user@host[:port]""`);
  });
});

describe('shellQuote', () => {
  test('leaves safe words alone', () => {
    expect(shellQuote('/tmp/a-b_c.d:1,2=3@x%+')).toBe('/tmp/a-b_c.d:1,2=3@x%+');
  });

  test('quotes spaces, dollars, globs and single quotes', () => {
    expect(shellQuote("it's $HOME *")).toBe(`'it'\\''s $HOME *'`);
    expect(shellQuote('')).toBe("''");
  });
});

describe('shellLine', () => {
  test('uses a string command as shell code', () => {
    expect(shellLine('echo a | wc -c')).toBe('echo a | wc -c');
  });

  test('quotes an argv command and execs it after cd and exports', () => {
    expect(shellLine(['node', 'agent.js', 'a b'], { cwd: '/d x', env: { E3_A: "v'1" } })).toBe(
      `cd '/d x' || exit 126; export E3_A='v'\\''1'; exec node agent.js 'a b'`,
    );
  });

  test('rejects an environment name that is not a shell identifier', () => {
    expect(() => shellLine('true', { env: { 'A;rm': 'x' } })).toThrow(/bad environment variable name/);
  });
});
