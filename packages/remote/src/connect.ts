import { readFile } from 'node:fs/promises';

import { E3Error } from '@e3/model';

import { localNode } from './local.js';
import { parseNode } from './node-spec.js';
import { connectSsh, type HostKeyPolicy } from './ssh.js';
import type { NodeHandle } from './types.js';

/** Options of {@link connectNode}. */
export interface ConnectNodeOptions {
  /** `localhost` or `user@host[:port]`. */
  node: string;
  /** The private key's content (OpenSSH or PEM). Read from `keyFile` when absent. */
  privateKey?: Buffer | string;
  /** Path of the private key; used in messages and read when `privateKey` is absent. */
  keyFile?: string;
  /** Host-key policy; one of `pinned`, `onFirstContact` or `insecure` is required for SSH nodes. */
  hostKey?: HostKeyPolicy;
  /** SSH keepalive period; 15 s by default (4 missed answers drop the connection). */
  keepaliveIntervalMs?: number;
  /** Time allowed for TCP connect, handshake and authentication; 20 s by default. */
  readyTimeoutMs?: number;
  signal?: AbortSignal;
}

async function keyOf(options: ConnectNodeOptions): Promise<Buffer | undefined> {
  if (options.privateKey !== undefined) return Buffer.from(options.privateKey);
  if (options.keyFile === undefined) return undefined;
  try {
    return await readFile(options.keyFile);
  } catch (cause) {
    throw new E3Error('NODE_AUTH', `cannot read the private key ${options.keyFile}: ${(cause as Error).message}`, {
      cause,
      hint: `Put the key for ${options.node} at ${options.keyFile} (the <instance>.pem beside the instance file), or set KeyFile in the instance file`,
    });
  }
}

/**
 * Reaches one node. `localhost` gives local processes (no SSH); `user@host[:port]` opens an SSH
 * connection, checks the host key before any command, and authenticates with the private key.
 * Throws E3_USAGE (bad node string), E3_NODE_UNREACHABLE, E3_NODE_TIMEOUT, E3_NODE_AUTH,
 * E3_HOST_KEY_MISMATCH (no command is run) or E3_INTERRUPTED.
 */
export async function connectNode(options: ConnectNodeOptions): Promise<NodeHandle> {
  const spec = parseNode(options.node);
  if (spec.kind === 'local') return localNode();
  return connectSsh({
    spec,
    privateKey: await keyOf(options),
    keyFile: options.keyFile,
    hostKey: options.hostKey ?? {},
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? 15_000,
    readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
    signal: options.signal,
  });
}

/** Connections reused by node; see {@link createNodePool}. */
export interface NodePool {
  /** The open handle for `node`, connecting on first use or after the connection dropped. */
  get(node: string): Promise<NodeHandle>;
  /** Closes every connection. */
  close(): Promise<void>;
}

/**
 * A pool of node connections keyed by node string. `options(node)` gives the connect options of a node
 * (key, host-key policy). Concurrent `get`s of one node share one connection attempt; a failed attempt is
 * not cached.
 */
export function createNodePool(options: (node: string) => Omit<ConnectNodeOptions, 'node'>): NodePool {
  const handles = new Map<string, Promise<NodeHandle>>();
  const get = async (node: string): Promise<NodeHandle> => {
    const existing = handles.get(node);
    if (existing) {
      // Waiters on a failed attempt get its error; only a handle that closed since is replaced.
      const handle = await existing;
      if (!handle.closed) return handle;
      if (handles.get(node) === existing) handles.delete(node);
      return get(node);
    }
    const attempt = connectNode({ ...options(node), node });
    handles.set(node, attempt);
    attempt.catch(() => {
      if (handles.get(node) === attempt) handles.delete(node);
    });
    return attempt;
  };
  return {
    get,
    async close() {
      const all = [...handles.values()];
      handles.clear();
      await Promise.all(all.map((p) => p.then((h) => h.close(), () => undefined)));
    },
  };
}
