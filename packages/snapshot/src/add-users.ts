import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';

import { E3Error, assertValid, homeFilePath, loadFile, validateValue, writeJsonAtomic, type Snapshot, type SnapshotUser } from '@e3/model';

import { checkName, readKeyPool } from './home.js';
import { publicKeyId } from './keys.js';
import { restClient } from './rest.js';

export interface AddUsersOptions {
  /** Base URL with context path. */
  url: string;
  /** Administrator that creates the users. */
  username: string;
  password: string;
  /** Users to create: `<prefix>0` … `<prefix><count-1>`, user i gets key pair i of the pool. */
  count: number;
  /** Key pool: a name in e3-home `keys/` or a path. */
  keys: string;
  /** Password of every created user (E³'s users shared one). */
  userPassword: string;
  /** User-name prefix; default `user_` (E³'s). */
  prefix?: string;
  /** Snapshot whose `users` receive the created users (merged by user name); default the pool's name. */
  snapshot?: string;
  /** e3-home folder (already resolved). */
  home: string;
  cwd?: string;
  log?: (line: string) => void;
  /** One event per user: `{user, created, keyAdded}`. */
  event?: (e: Record<string, unknown>) => void;
  signal?: AbortSignal;
}

export interface AddUsersResult {
  /** The snapshot file whose users were updated. */
  file: string;
  /** Users created now. */
  created: string[];
  /** Users that existed already (password set again, key registered if it was missing). */
  existing: string[];
  /** Keys registered now. */
  keysAdded: number;
  users: SnapshotUser[];
}

/**
 * Creates users `<prefix><i>` through the admin REST API and registers key pair i of the pool for each, then
 * merges them into `snapshots/<snapshot>.json` (mode 0600). Idempotent: existing users are kept (their
 * password is set to `userPassword`), keys already registered are not sent again. Passwords travel in JSON
 * bodies, never in a query string. Throws E3_USAGE, E3_HTTP, E3_ENVIRONMENT, E3_FILE_NOT_FOUND, E3_INVALID_FILE.
 */
export async function addUsers(o: AddUsersOptions): Promise<AddUsersResult> {
  const prefix = o.prefix ?? 'user_';
  if (!/^[A-Za-z0-9._@-]{0,200}$/.test(prefix)) throw new E3Error('USAGE', `--prefix ${JSON.stringify(prefix.slice(0, 60))} may hold only letters, digits, ".", "_", "@" and "-"`, { hint: 'Pass e.g. --prefix user_' });
  if (!Number.isInteger(o.count) || o.count < 1) throw new E3Error('USAGE', `--count must be a whole number ≥ 1; got ${String(o.count)}`, { hint: 'Pass e.g. --count 100' });
  if (!o.userPassword) throw new E3Error('USAGE', 'the users need a password', { hint: 'Pass --user-password-env <VAR> naming a variable that holds it' });
  const { file: poolFile, pool } = await readKeyPool(o.home, o.keys, o.cwd ?? process.cwd());
  if (o.count > pool.key_pairs.length) {
    throw new E3Error('USAGE', `--count ${o.count} needs ${o.count} keys but ${poolFile} holds ${pool.key_pairs.length}`, {
      hint: `Generate a bigger pool: \`e3 keygen --count ${o.count} --name <name>\``,
    });
  }
  const snapshotName = checkName('--snapshot', o.snapshot ?? basename(poolFile, '.json'));
  const rest = restClient({ url: o.url, username: o.username, password: o.password, signal: o.signal });

  const created: string[] = [];
  const existing: string[] = [];
  const users: SnapshotUser[] = [];
  let keysAdded = 0;
  for (let i = 0; i < o.count; i++) {
    if (o.signal?.aborted) throw new E3Error('INTERRUPTED', `interrupted after ${i} of ${o.count} users; run the same command again to finish`);
    const name = `${prefix}${i}`;
    const pair = pool.key_pairs[i]!;
    const found = await rest.request('GET', `/rest/api/1.0/users/${encodeURIComponent(name)}`, { accept: [404] });
    if (found.status === 404) {
      // A throw-away password in the query string (the API takes only query parameters); the real one follows in a JSON body.
      await rest.request('POST', '/rest/api/1.0/admin/users', {
        query: { name, password: randomBytes(24).toString('base64url'), displayName: name, emailAddress: `${name}@example.com`, addToDefaultGroup: 'true', notify: 'false' },
      });
      created.push(name);
    } else existing.push(name);
    await rest.request('PUT', '/rest/api/1.0/admin/users/credentials', { json: { name, password: o.userPassword, passwordConfirm: o.userPassword } });

    const id = publicKeyId(pair.public_key);
    const registered = await rest.pages<{ text?: string }>('/rest/ssh/1.0/keys', { max: 1000, query: { user: name } });
    let keyAdded = false;
    if (!registered.some((k) => publicKeyId(k.text ?? '') === id)) {
      const res = await rest.request('POST', '/rest/ssh/1.0/keys', { query: { user: name }, json: { text: pair.public_key, label: `e3 ${pool.name}` }, accept: [409] });
      if (res.status === 409) {
        throw new E3Error('HTTP', `key pair ${i} of ${poolFile} is already registered to another user than ${name} on ${rest.base}`, {
          hint: 'Use a pool whose keys are not in use on this server (`e3 keygen --count N --name <new>`), or remove that key from the other user',
        });
      }
      keysAdded++;
      keyAdded = true;
    }
    users.push({ username: name, password: o.userPassword, public_key: pair.public_key, private_key: pair.private_key });
    o.event?.({ user: name, index: i, created: found.status === 404, keyAdded });
    if ((i + 1) % 10 === 0 || i + 1 === o.count) o.log?.(`users: ${i + 1}/${o.count} (${created.length} created, ${keysAdded} keys added)`);
  }

  const file = homeFilePath(o.home, 'snapshot', snapshotName);
  const value: Snapshot = existsSync(file) ? await loadFile<Snapshot>('snapshot', file) : { name: snapshotName, description: `users added by e3 add-users on ${rest.base}`, projects: [], users: [] };
  const byName = new Map(users.map((u) => [u.username, u]));
  value.users = [...value.users.map((u) => byName.get(u.username) ?? u), ...users.filter((u) => !value.users.some((v) => v.username === u.username))];
  assertValid(validateValue('snapshot', value, file));
  await writeJsonAtomic(file, value, { mode: 0o600 });
  return { file, created, existing, keysAdded, users };
}
