import { access } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';

import { E3Error, assertValid, homeFilePath, instanceKeyFileName, validateFile, type Instance } from '@e3/model';

import type { Part, Provider, ProviderContext, ProvisionRequest, ProvisionedParts } from '../types.js';

/** The private key file of an instance: `KeyFile` (relative to instances/ when not absolute), else `instances/<name>.pem`. */
export function instanceKeyPath(home: string, name: string, instance: Pick<Instance, 'KeyFile'>): string {
  const dir = dirname(homeFilePath(home, 'instance', name));
  if (instance.KeyFile) return isAbsolute(instance.KeyFile) ? instance.KeyFile : join(dir, instance.KeyFile);
  return join(dir, instanceKeyFileName(name));
}

/**
 * Loads and checks the instance file of a bring-your-own part: it exists, validates, and has a private
 * key wherever a node is `user@host`. Reaches no network. Returns a copy with `Name` set.
 */
export async function loadByoInstance(ctx: Pick<ProviderContext, 'home' | 'log'>, req: ProvisionRequest, part: Part): Promise<Instance> {
  const name = req.thread[part].stack!.Name;
  const file = homeFilePath(ctx.home, 'instance', name);
  const where = `threads[${req.index}].${part}.stack.Name`;
  const result = await validateFile<Instance>('instance', file);
  const instance = assertValid(
    result,
    result.errors.length === 1 && result.errors[0]!.endsWith('file not found')
      ? `Create ${file} (see docs/e3-home.md#instances), or fix ${where} in the experiment`
      : undefined,
  );
  for (const w of result.warnings) ctx.log(`warning: ${w}`);
  if (!instance.ClusterNodes) {
    throw new E3Error('INVALID_FILE', `${file}: /ClusterNodes: missing; ${where} uses this file for its machines, so it must name its nodes`, {
      hint: `Add "ClusterNodes": ["user@host", …] (or ["localhost"]) to ${file}`,
    });
  }
  if (instance.ClusterNodes.some((n) => n !== 'localhost')) {
    const key = instanceKeyPath(ctx.home, name, instance);
    try {
      await access(key);
    } catch {
      throw new E3Error('FILE_NOT_FOUND', `${file}: /ClusterNodes: nodes are reached over SSH but the private key ${key} does not exist`, {
        hint: `Copy the key for ${instance.ClusterNodes.find((n) => n !== 'localhost')} to ${key} (chmod 600), or set "KeyFile" in ${file}`,
      });
    }
  }
  return { ...instance, Name: name };
}

/** The byo provider: parts given as `"stack": {"Name": X}` use `instances/X.json` as they are. It creates and deletes nothing. */
export function byoProvider(): Provider {
  return {
    name: 'byo',
    async preflight(req, ctx) {
      for (const part of req.parts) await loadByoInstance(ctx, req, part);
    },
    async provision(req, ctx) {
      const out: ProvisionedParts = {};
      for (const part of req.parts) out[part] = await loadByoInstance(ctx, req, part);
      return out;
    },
    async deprovision() {
      return [];
    },
  };
}
