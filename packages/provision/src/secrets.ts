import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { E3Error, writeJsonAtomic } from '@e3/model';

/** Generated secrets of a run (database passwords): `runs/<run>/secrets.json`, mode 0600, beside the ledger. */
export const SECRETS_FILE = 'secrets.json';

const chains = new Map<string, Promise<unknown>>();

/**
 * Records `values` under `key` (a stack name) in the run's secrets file, keeping what is there; calls
 * for one run dir are queued. Returns the file name, relative to the run dir, that the run file refers to.
 */
export async function saveSecrets(runDir: string, key: string, values: Record<string, string>): Promise<string> {
  const file = join(runDir, SECRETS_FILE);
  const next = (chains.get(file) ?? Promise.resolve()).then(async () => {
    const all = await readSecrets(runDir);
    all[key] = { ...all[key], ...values };
    await writeJsonAtomic(file, all, { mode: 0o600 });
  });
  chains.set(file, next.catch(() => undefined));
  await next;
  return SECRETS_FILE;
}

/** Every secret of a run by key; {} when there are none. */
export async function readSecrets(runDir: string): Promise<Record<string, Record<string, string>>> {
  const file = join(runDir, SECRETS_FILE);
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '{}';
    throw new E3Error('IO', `cannot read ${file}: ${err.message}`, { cause: err });
  });
  try {
    return JSON.parse(text) as Record<string, Record<string, string>>;
  } catch {
    throw new E3Error('INVALID_FILE', `${file} is not JSON`, { hint: `Do not edit ${file} by hand` });
  }
}
