import { stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';

import { loadFile, writeJsonAtomic, type Instance } from '@e3/model';

import type { ConnectNodeOptions } from './connect.js';
import { fingerprint } from './host-key.js';

const writes = new Map<string, Promise<void>>();

/**
 * Pins `key` (`"type base64"`) for `node` in the instance file's `HostKeys`, keeping every other field.
 * Writes are atomic and serialised per file within this process. Throws E3_JSON_PARSE / E3_INVALID_FILE
 * when the file no longer loads, E3_IO when it cannot be written.
 */
export function pinHostKey(instanceFile: string, node: string, key: string): Promise<void> {
  const previous = writes.get(instanceFile) ?? Promise.resolve();
  const next = previous.then(async () => {
    const instance = await loadFile<Instance>('instance', instanceFile);
    instance.HostKeys = { ...instance.HostKeys, [node]: key };
    // Keep the file's mode: provisioned instance files hold passwords and are 0600.
    const mode = (await stat(instanceFile)).mode & 0o777;
    await writeJsonAtomic(instanceFile, instance, { mode });
  });
  const settled = next.catch(() => undefined);
  writes.set(instanceFile, settled);
  void settled.then(() => {
    if (writes.get(instanceFile) === settled) writes.delete(instanceFile);
  });
  return next;
}

/** The private key of an instance's nodes: `KeyFile` (relative to the instance file's folder) or `<name>.pem` beside it. */
export function instanceKeyFile(instanceFile: string, instance: Pick<Instance, 'KeyFile'>): string {
  if (instance.KeyFile) return isAbsolute(instance.KeyFile) ? instance.KeyFile : join(dirname(instanceFile), instance.KeyFile);
  return join(dirname(instanceFile), `${basename(instanceFile, extname(instanceFile))}.pem`);
}

/** Options of {@link instanceConnectOptions}. */
export interface InstanceConnectOptions {
  /** Skip host-key checks (`--insecure-host-keys`); the caller tells the user. */
  insecure?: boolean;
  /** Told each first-contact pin, e.g. to log `pinned root@10.0.0.5 SHA256:…`. */
  onPinned?(node: string, fingerprint: string): void;
}

/**
 * Reads an instance file and returns connect options for its nodes, for {@link connectNode} or
 * {@link createNodePool}: the key file, and host keys checked against `HostKeys`, pinned there (atomic
 * rewrite of the instance file) on first contact. Throws the E3 codes of `loadFile`.
 */
export async function instanceConnectOptions(
  instanceFile: string,
  options: InstanceConnectOptions = {},
): Promise<{ instance: Instance; options(node: string): Omit<ConnectNodeOptions, 'node'> }> {
  const instance = await loadFile<Instance>('instance', instanceFile);
  const keyFile = instanceKeyFile(instanceFile, instance);
  return {
    instance,
    options(node) {
      if (options.insecure) return { keyFile, hostKey: { insecure: true } };
      const pinned = instance.HostKeys?.[node];
      if (pinned !== undefined) return { keyFile, hostKey: { pinned } };
      return {
        keyFile,
        hostKey: {
          async onFirstContact(key) {
            await pinHostKey(instanceFile, node, key);
            instance.HostKeys = { ...instance.HostKeys, [node]: key };
            options.onPinned?.(node, fingerprint(key));
          },
        },
      };
    },
  };
}
