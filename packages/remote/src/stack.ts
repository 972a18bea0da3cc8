import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

import type { StackMachines } from '@e3/model';

import { connectNode } from './connect.js';
import { fingerprint } from './host-key.js';
import { instanceKeyFile, pinHostKey } from './instance.js';
import type { NodeHandle } from './types.js';

/** Options of {@link createStackConnector}. */
export interface StackConnectorOptions {
  /** Skip host-key checks (`--insecure-host-keys`); the caller tells the user. */
  insecure?: boolean;
  /** Told each first-contact pin. */
  onPinned?(node: string, fingerprint: string): void;
  /** Folders searched for `<stack>.pem` when the stack has no instance file in e3-home (e.g. the run dir's archived copies). */
  keyDirs?: readonly string[];
  signal?: AbortSignal;
}

/** Connections to the nodes of stacks (a thread's system under test or workers), shared and reused. */
export interface StackConnector {
  /** The open handle of `node` of stack `m`, connecting on first use or after a drop. */
  connect(m: StackMachines, node: string): Promise<NodeHandle>;
  /** Closes every connection. */
  closeAll(): Promise<void>;
}

function keyFileOf(m: StackMachines, keyDirs: readonly string[]): string | undefined {
  if (m.file) return instanceKeyFile(m.file, m.instance);
  if (m.instance.KeyFile && isAbsolute(m.instance.KeyFile)) return m.instance.KeyFile;
  for (const dir of keyDirs) {
    const candidate = join(dir, m.instance.KeyFile ?? `${m.stack}.pem`);
    if (existsSync(candidate)) return candidate;
  }
  return m.instance.KeyFile;
}

/**
 * Connects to stack nodes with the stack's key (`KeyFile`, or `<stack>.pem` beside its instance file or
 * in `keyDirs`), checking host keys against `HostKeys` and pinning new ones into the instance file (when
 * the stack has one in e3-home). Errors are those of `connectNode`.
 */
export function createStackConnector(options: StackConnectorOptions = {}): StackConnector {
  const open = new Map<string, Promise<NodeHandle>>();
  const connect = (m: StackMachines, node: string): Promise<NodeHandle> => {
    if (node === 'localhost') return connectNode({ node });
    const keyFile = keyFileOf(m, options.keyDirs ?? []);
    const pinned = m.instance.HostKeys?.[node];
    return connectNode({
      node,
      ...(keyFile ? { keyFile } : {}),
      hostKey: options.insecure
        ? { insecure: true }
        : pinned
          ? { pinned }
          : {
              async onFirstContact(key) {
                if (m.file) await pinHostKey(m.file, node, key);
                m.instance.HostKeys = { ...m.instance.HostKeys, [node]: key };
                options.onPinned?.(node, fingerprint(key));
              },
            },
      signal: options.signal,
    });
  };
  return {
    async connect(m, node) {
      const key = `${m.stack}\u0000${node}`;
      const existing = open.get(key);
      if (existing) {
        const handle = await existing.catch(() => undefined);
        if (handle && !handle.closed) return handle;
      }
      const attempt = connect(m, node);
      open.set(key, attempt);
      attempt.catch(() => open.delete(key));
      return attempt;
    },
    async closeAll() {
      const all = [...open.values()];
      open.clear();
      await Promise.all(all.map((p) => p.then((h) => h.close(), () => undefined)));
    },
  };
}
