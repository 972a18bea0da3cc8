import { resolve } from 'node:path';

import { E3Error, findHomeFile, isSafeName, loadFile, type KeyPool } from '@e3/model';

/** Refuses names that are not a plain file name (they become `snapshots/<name>.json`, `keys/<name>.json`). */
export function checkName(flag: string, name: string): string {
  if (!isSafeName(name)) {
    throw new E3Error('USAGE', `${flag} ${JSON.stringify(name.slice(0, 100))} is not a valid name`, { hint: `Use letters, digits, ".", "_" and "-", e.g. ${flag} e3-small` });
  }
  return name;
}

/** A key pool by name (`keys/<name>.json` in e3-home, then e3's own) or by path (holding `/` or ending `.json`). */
export async function readKeyPool(home: string, nameOrPath: string, cwd: string): Promise<{ file: string; pool: KeyPool }> {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.json');
  const file = isPath ? resolve(cwd, nameOrPath) : findHomeFile(home, 'keys', checkName('--keys', nameOrPath));
  if (!file) {
    throw new E3Error('FILE_NOT_FOUND', `no key pool "${nameOrPath}" in ${home}/keys`, { hint: `Create one with \`e3 keygen --count 100 --name ${nameOrPath}\`, or pass a path to a keys file` });
  }
  return { file, pool: await loadFile<KeyPool>('keys', file) };
}
