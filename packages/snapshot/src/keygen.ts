import { existsSync } from 'node:fs';

import { E3Error, assertValid, homeFilePath, validateValue, writeJsonAtomic, type KeyPool } from '@e3/model';

import { checkName } from './home.js';
import { generateKeyPair, type KeyType } from './keys.js';

export interface KeygenOptions {
  /** Number of key pairs (1…100 000). */
  count: number;
  /** Pool name: writes `keys/<name>.json` in `home`. */
  name: string;
  /** e3-home folder (already resolved). */
  home: string;
  /** `ed25519` (default, fast) or `rsa` (2048 bits, as E³). */
  type?: KeyType;
  /** Replace an existing pool (its keys may still be registered on a server). */
  force?: boolean;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface KeygenResult {
  file: string;
  name: string;
  count: number;
  type: KeyType;
}

/**
 * Generates a key pool in E³'s keys format `{name, count, key_pairs:[{public_key, private_key}]}` and writes
 * `keys/<name>.json` atomically with mode 0600, validated. Throws E3_USAGE (bad count or type, pool exists
 * without `force`), E3_IO, E3_INTERRUPTED.
 */
export async function keygen(o: KeygenOptions): Promise<KeygenResult> {
  const name = checkName('--name', o.name);
  if (!Number.isInteger(o.count) || o.count < 1 || o.count > 100_000) {
    throw new E3Error('USAGE', `--count must be a whole number from 1 to 100000; got ${String(o.count)}`, { hint: 'Pass e.g. --count 100' });
  }
  const type = o.type ?? 'ed25519';
  if (type !== 'ed25519' && type !== 'rsa') throw new E3Error('USAGE', `--type must be ed25519 or rsa; got ${String(type)}`, { hint: 'Pass --type ed25519' });
  const file = homeFilePath(o.home, 'keys', name);
  if (existsSync(file) && !o.force) {
    throw new E3Error('USAGE', `key pool ${file} already exists`, { hint: `Pick another --name, or pass --force to replace it (servers may still hold its public keys)` });
  }
  const pairs: KeyPool['key_pairs'] = [];
  for (let i = 0; i < o.count; i++) {
    if (o.signal?.aborted) throw new E3Error('INTERRUPTED', 'interrupted: no key pool written');
    pairs.push(generateKeyPair(type));
    if ((i + 1) % 100 === 0 && i + 1 < o.count) {
      o.log?.(`generated ${i + 1}/${o.count} ${type} keys`);
      // Lets a SIGINT handler run during long RSA runs.
      await new Promise((r) => setImmediate(r));
    }
  }
  const pool: KeyPool = { name, count: pairs.length, key_pairs: pairs };
  assertValid(validateValue('keys', pool, file));
  await writeJsonAtomic(file, pool, { mode: 0o600 });
  return { file, name, count: pairs.length, type };
}
