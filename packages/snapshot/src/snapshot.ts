import { E3Error, assertValid, homeFilePath, validateValue, writeJsonAtomic, type Snapshot, type SnapshotUser } from '@e3/model';

import { checkName, readKeyPool } from './home.js';
import { publicKeyId } from './keys.js';
import { mapLimit, restClient, type RestClient } from './rest.js';
import { weights, type Distribution } from './weights.js';

export interface SnapshotOptions {
  /** Base URL with context path, e.g. `http://localhost:7990/bitbucket`. */
  url: string;
  /** Administrator used for every call (it must be able to list users' SSH keys). */
  username: string;
  password: string;
  /** Snapshot name: writes `snapshots/<name>.json` in `home`. */
  name: string;
  description?: string;
  /** e3-home folder (already resolved). */
  home: string;
  /** Where relative key-file paths resolve; default the process's. */
  cwd?: string;
  /** Maxima (E³'s defaults): projects 100, repos per project 100, branches per repo 5, users 500. */
  maxProject?: number;
  maxRepo?: number;
  maxBranch?: number;
  maxUser?: number;
  /** Repository weights: `equal` (default) or truncated `exponential` with `distributionFactor` (default 1). */
  distribution?: Distribution;
  distributionFactor?: number;
  /** Seed of the weight PRNG; default 42 (E³'s). */
  seed?: number;
  /** Key pool (name in e3-home `keys/`, or a path): a user whose registered SSH key is in it gets its private key. */
  keyFile?: string;
  /** The one password every snapshot user gets (E³'s users shared one); none → users act over SSH only. */
  userPassword?: string;
  /** Add the `ebs`/`rds`/`es` placeholders for AWS provisioning. */
  aws?: boolean;
  /** Values per REST page; default 100. */
  pageSize?: number;
  /** Requests in flight at once; default 4. */
  concurrency?: number;
  /** Write the file (default true); false only returns the snapshot. */
  write?: boolean;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface SkippedUser {
  username: string;
  reason: string;
}

export interface SnapshotResult {
  /** The file written (absent with `write: false`). */
  file?: string;
  snapshot: Snapshot;
  projects: number;
  repos: number;
  /** `KEY/slug` of repositories left out because they have no branches. */
  emptyRepos: string[];
  httpUsers: number;
  sshUsers: number;
  /** Users that could act neither over HTTP nor SSH, and why (they are not in the snapshot). */
  skippedUsers: SkippedUser[];
}

interface RestProject {
  key: string;
}
interface RestRepo {
  slug: string;
}
interface RestUser {
  name: string;
}
interface RestKey {
  text?: string;
}

const positive = (flag: string, v: number | undefined, dflt: number): number => {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < 1) throw new E3Error('USAGE', `${flag} must be a whole number ≥ 1; got ${String(v)}`, { hint: `Pass e.g. ${flag} ${dflt}` });
  return n;
};

const seg = encodeURIComponent;

async function users(rest: RestClient, o: SnapshotOptions, { maxUser, concurrency, pageSize }: { maxUser: number; concurrency: number; pageSize: number }): Promise<{ users: SnapshotUser[]; skipped: SkippedUser[] }> {
  const pool = new Map<string, { public_key: string; private_key: string }>();
  if (o.keyFile) {
    const { pool: keys } = await readKeyPool(o.home, o.keyFile, o.cwd ?? process.cwd());
    for (const pair of keys.key_pairs) {
      const id = publicKeyId(pair.public_key);
      if (id) pool.set(id, { public_key: pair.public_key, private_key: pair.private_key });
    }
  }
  // The administrator is left out: its password is the one given for the tool, never written to the snapshot.
  const listed = (await rest.pages<RestUser>('/rest/api/1.0/users', { max: maxUser + 1, pageSize }))
    .filter((u) => u.name.toLowerCase() !== o.username.toLowerCase())
    .slice(0, maxUser);
  o.log?.(`users: ${listed.length}${pool.size ? `, matching their SSH keys against ${pool.size} pool keys` : ''}`);
  const found = await mapLimit(listed, concurrency, async (u) => {
    let pair: { public_key: string; private_key: string } | undefined;
    if (pool.size) {
      const keys = await rest.pages<RestKey>('/rest/ssh/1.0/keys', { max: 1000, pageSize, query: { user: u.name } });
      for (const k of keys) {
        pair = pool.get(publicKeyId(k.text ?? '') ?? '');
        if (pair) break;
      }
    }
    const entry: SnapshotUser = { username: u.name };
    if (o.userPassword !== undefined) entry.password = o.userPassword;
    if (pair) {
      entry.public_key = pair.public_key;
      entry.private_key = pair.private_key;
    }
    return entry;
  });
  const out: SnapshotUser[] = [];
  const skipped: SkippedUser[] = [];
  for (const u of found) {
    if (u.password !== undefined || u.private_key !== undefined) out.push(u);
    else skipped.push({ username: u.username, reason: o.keyFile ? `no password given and no SSH key of ${o.keyFile}` : 'no password given and no key pool to match' });
  }
  return { users: out, skipped };
}

/**
 * Builds a dataset descriptor (E³ snapshot format) from a live Bitbucket, paging through every list up to the
 * maxima, and writes `snapshots/<name>.json` (mode 0600: it holds passwords and private keys), validated.
 * Same server content and options → byte-identical file. Throws E3_USAGE, E3_HTTP (401/403 name the
 * credential and URL), E3_ENVIRONMENT (unreachable, or no project/repository with branches), E3_FILE_NOT_FOUND
 * and E3_INVALID_FILE (key pool).
 */
export async function snapshot(o: SnapshotOptions): Promise<SnapshotResult> {
  const name = checkName('--name', o.name);
  const maxProject = positive('--max-project', o.maxProject, 100);
  const maxRepo = positive('--max-repo', o.maxRepo, 100);
  const maxBranch = positive('--max-branch', o.maxBranch, 5);
  const maxUser = positive('--max-user', o.maxUser, 500);
  const concurrency = positive('--concurrency', o.concurrency, 4);
  const pageSize = positive('--page-size', o.pageSize, 100);
  const distribution = o.distribution ?? 'equal';
  if (distribution !== 'equal' && distribution !== 'exponential') {
    throw new E3Error('USAGE', `--distribution must be equal or exponential; got ${String(distribution)}`, { hint: 'Pass --distribution equal' });
  }
  const factor = o.distributionFactor ?? 1;
  if (!(factor > 0) || !Number.isFinite(factor)) throw new E3Error('USAGE', `--distribution-factor must be a number > 0; got ${String(o.distributionFactor)}`, { hint: 'Pass e.g. --distribution-factor 1' });
  const rest = restClient({ url: o.url, username: o.username, password: o.password, signal: o.signal });

  const projectKeys = (await rest.pages<RestProject>('/rest/api/1.0/projects', { max: maxProject, pageSize })).map((p) => p.key);
  if (projectKeys.length === 0) {
    throw new E3Error('ENVIRONMENT', `${rest.base} has no projects that user "${o.username}" can see`, {
      hint: 'Create data first (for the local target: `e3 target seed --data <dir> …`), or pass an administrator with --username',
    });
  }
  o.log?.(`projects: ${projectKeys.length}`);
  const repoLists = await mapLimit(projectKeys, concurrency, (key) => rest.pages<RestRepo>(`/rest/api/1.0/projects/${seg(key)}/repos`, { max: maxRepo, pageSize }));
  const pairs = projectKeys.flatMap((key, i) => repoLists[i]!.map((r) => ({ key, slug: r.slug })));
  o.log?.(`repositories: ${pairs.length}; reading up to ${maxBranch} branches of each`);
  const branches = await mapLimit(pairs, concurrency, ({ key, slug }) =>
    rest.pages<Snapshot['projects'][number]['repos'][number]['branches'][number]>(`/rest/api/1.0/projects/${seg(key)}/repos/${seg(slug)}/branches`, { max: maxBranch, pageSize }),
  );
  const kept = pairs.map((p, i) => ({ ...p, branches: branches[i]! })).filter((r) => r.branches.length > 0);
  const emptyRepos = pairs.filter((_, i) => branches[i]!.length === 0).map((p) => `${p.key}/${p.slug}`);
  if (kept.length === 0) {
    throw new E3Error('ENVIRONMENT', `${rest.base} has no repository with a branch in the ${projectKeys.length} project(s) read`, {
      hint: 'Push at least one branch to a repository, or seed the local target with `e3 target seed`',
    });
  }
  const w = weights(kept.length, { distribution, factor, seed: o.seed ?? 42 });
  const projects: Snapshot['projects'] = [];
  kept.forEach((r, i) => {
    let p = projects.at(-1);
    if (p?.name !== r.key) projects.push((p = { name: r.key, repos: [] }));
    p.repos.push({ name: r.slug, weight: w[i]!, branches: r.branches });
  });

  const { users: snapshotUsers, skipped } = await users(rest, o, { maxUser, concurrency, pageSize });
  for (const s of skipped) o.log?.(`user ${s.username} left out: ${s.reason}`);

  const value: Snapshot = { name, description: o.description ?? name, projects, users: snapshotUsers };
  if (o.aws) {
    value.ebs = { 'ap-southeast-2': 'TODO' };
    value.rds = { account: 'TODO', id: 'TODO' };
    value.es = { snapshot: 'TODO', bucket: 'TODO' };
  }
  const file = homeFilePath(o.home, 'snapshot', name);
  assertValid<Snapshot>(validateValue<Snapshot>('snapshot', value, file));
  if (o.write !== false) await writeJsonAtomic(file, value, { mode: 0o600 });
  return {
    ...(o.write !== false ? { file } : {}),
    snapshot: value,
    projects: projects.length,
    repos: kept.length,
    emptyRepos,
    httpUsers: snapshotUsers.filter((u) => u.password !== undefined).length,
    sshUsers: snapshotUsers.filter((u) => u.private_key !== undefined).length,
    skippedUsers: skipped,
  };
}
