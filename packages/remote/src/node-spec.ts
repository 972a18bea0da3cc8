import { E3Error } from '@e3/model';

/** A parsed node string: `localhost`, or `user@host[:port]` (port 22 when absent). */
export type NodeSpec = { kind: 'local'; node: 'localhost' } | { kind: 'ssh'; node: string; user: string; host: string; port: number };

const SSH_NODE = /^([^@\s:]+)@(\[[0-9a-fA-F:.]+\]|[^@\s:[\]]+)(?::([0-9]{1,5}))?$/;

/**
 * Parses a node of an instance file's `ClusterNodes`. Throws E3_USAGE for anything else, e.g. a node
 * without a user (`host` alone) or a port outside 1–65535.
 */
export function parseNode(node: string): NodeSpec {
  if (node === 'localhost') return { kind: 'local', node };
  const m = SSH_NODE.exec(node);
  const port = m?.[3] === undefined ? 22 : Number(m[3]);
  if (!m || port < 1 || port > 65535) {
    throw new E3Error('USAGE', `bad node "${node}": expected "localhost" or "user@host[:port]"`, {
      hint: 'Edit the instance file: each ClusterNodes entry is "localhost" or "user@host" (e.g. "ec2-user@10.0.0.5:22")',
    });
  }
  const host = m[2].startsWith('[') ? m[2].slice(1, -1) : m[2];
  return { kind: 'ssh', node, user: m[1], host, port };
}

/** Quotes one word for a POSIX shell: `it's` → `'it'\''s'`. Plain safe words are left as they are. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The shell line for a command: a string is used as it is (it is shell code), an argv array is quoted word
 * by word. `cwd` and `env` become a `cd` and `export`s in front; an argv command is `exec`ed so signals
 * reach it rather than a wrapping shell.
 */
export function shellLine(command: string | readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): string {
  if (Array.isArray(command) && command.length === 0) throw new Error('empty command');
  const parts: string[] = [];
  if (options.cwd !== undefined) parts.push(`cd ${shellQuote(options.cwd)} || exit 126`);
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`bad environment variable name: ${k}`);
    parts.push(`export ${k}=${shellQuote(v)}`);
  }
  const body = typeof command === 'string' ? command : `${parts.length > 0 ? 'exec ' : ''}${command.map(shellQuote).join(' ')}`;
  return parts.length === 0 ? body : `${parts.join('; ')}; ${body}`;
}
