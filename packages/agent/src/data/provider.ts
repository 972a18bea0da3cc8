import { E3Error } from '@e3/model';

/** A user of the snapshot: HTTP users have a password, SSH users a private key; some have both. */
export interface User {
  username: string;
  password?: string;
  privateKey?: string;
  publicKey?: string;
}

export interface Branch {
  id: string;
  displayId: string;
  isDefault?: boolean;
  latestCommit?: string;
}

/** A repository of the snapshot. */
export interface RepoRef {
  /** Project key. */
  project: string;
  slug: string;
  weight: number;
  branches: Branch[];
}

/** The fields of an E³ instance file the agent reads (extra fields are ignored). */
export interface InstanceData {
  /** Base URL with any context path, e.g. `http://host:7990/bitbucket`. */
  URL: string;
  /** e3: base URL the agents on the workers use (a load balancer inside the VPC); wins over URL for HTTP. */
  InternalURL?: string;
  RunConfig?: { admin_password?: string; admin_user?: string; [k: string]: unknown };
  snapshot?: string;
  /** e3: SSH port of the git server (E³ hard-coded 7999). */
  SshPort?: number;
  /** e3: SSH host (default: the host of URL). */
  SshHost?: string;
  /** e3: base URL that bypasses the load balancer, for the *HttpDirect scripts (default: URL on port 7990). */
  DirectURL?: string;
  /** e3: admin user name (default `admin`). */
  AdminUser?: string;
  /** e3: the server's Bitbucket version, e.g. `7.21.0` (absent: 8.0 or later). */
  version?: string;
}

export interface TestDataSource {
  instance: Record<string, unknown>;
  snapshot: Record<string, unknown>;
  keys?: Record<string, unknown>;
}

/** Test data of a stage, shared by every client of a worker. */
export interface TestData {
  /** Base URL with its context path, no trailing slash. */
  readonly baseUrl: string;
  readonly adminUser: string;
  readonly adminPassword: string | undefined;
  /** The instance's `version` (the server's Bitbucket version); undefined means 8.0 or later. */
  readonly bitbucketVersion?: string | undefined;
  readonly repos: readonly RepoRef[];
  readonly httpUsers: readonly User[];
  readonly sshUsers: readonly User[];
  /** A repo drawn by weight (E³: U × Σweights, subtract in file order). */
  repo(random?: () => number): RepoRef;
  /** A uniformly drawn HTTP user; throws E3_INVALID_FILE when the snapshot has none. */
  httpUser(random?: () => number): User;
  /** A uniformly drawn SSH user; throws E3_INVALID_FILE when the snapshot has none. */
  sshUser(random?: () => number): User;
  /** `<base URL with context path>/scm/<KEY>/<slug>.git` (no credentials: git gets them from the environment). */
  httpCloneUrl(repo: RepoRef): string;
  /** The same on the direct (load balancer bypassing) URL. */
  httpDirectCloneUrl(repo: RepoRef): string;
  /** `ssh://git@<host>:<port>/<KEY>/<slug>.git`. */
  sshCloneUrl(repo: RepoRef): string;
  /** The branch E³ targets: the default branch, else the first, else `master`. */
  defaultBranch(repo: RepoRef): string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Builds the test data from an E³ instance, snapshot and (optional) keys file. HTTP goes to `InternalURL`
 * when the instance has one (the workers' way in), else to `URL`; the SSH host defaults to URL's host. SSH users without a key get
 * the keys file's pairs in order. Throws E3_INVALID_FILE when the instance has no URL or the snapshot no repo.
 */
export function createTestData(source: TestDataSource): TestData {
  const inst = source.instance as Partial<InstanceData>;
  if (!str(inst.URL)) {
    throw new E3Error('INVALID_FILE', 'the instance has no "URL"', { hint: 'Add "URL": "http://host:7990" to the instance file in e3-home/instances/.' });
  }
  const base = new URL(inst.URL!);
  const baseUrl = (str(inst.InternalURL) ?? inst.URL!).replace(/\/+$/, '');
  const repos: RepoRef[] = [];
  const projects = Array.isArray(source.snapshot.projects) ? (source.snapshot.projects as Record<string, unknown>[]) : [];
  for (const p of projects) {
    const key = str(p.name) ?? str(p.key);
    if (!key || !Array.isArray(p.repos)) continue;
    for (const r of p.repos as Record<string, unknown>[]) {
      const slug = str(r.name) ?? str(r.slug);
      if (!slug) continue;
      const weight = typeof r.weight === 'number' && r.weight >= 0 ? r.weight : 1;
      const branches = Array.isArray(r.branches)
        ? (r.branches as Record<string, unknown>[])
            .filter((b) => str(b.displayId))
            .map((b) => ({ id: str(b.id) ?? `refs/heads/${b.displayId}`, displayId: b.displayId as string, isDefault: b.isDefault === true, ...(str(b.latestCommit) ? { latestCommit: b.latestCommit as string } : {}) }))
        : [];
      repos.push({ project: key, slug, weight, branches });
    }
  }
  if (repos.length === 0) {
    throw new E3Error('INVALID_FILE', 'the snapshot has no repository (projects[].repos[] is empty)', {
      hint: 'Use a snapshot from e3-home/snapshots/ that lists projects[].repos[] (e3 snapshot creates one).',
    });
  }
  const pairs = Array.isArray(source.keys?.key_pairs) ? (source.keys!.key_pairs as Record<string, unknown>[]) : [];
  const httpUsers: User[] = [];
  const sshUsers: User[] = [];
  let nextPair = 0;
  const users = Array.isArray(source.snapshot.users) ? (source.snapshot.users as Record<string, unknown>[]) : [];
  for (const u of users) {
    const username = str(u.username);
    if (!username) continue;
    const user: User = { username };
    if (typeof u.password === 'string') user.password = u.password;
    if (str(u.private_key)) user.privateKey = u.private_key as string;
    if (str(u.public_key)) user.publicKey = u.public_key as string;
    if (!user.privateKey && user.publicKey === undefined && user.password === undefined && nextPair < pairs.length) {
      const pair = pairs[nextPair++]!;
      if (str(pair.private_key)) user.privateKey = pair.private_key as string;
      if (str(pair.public_key)) user.publicKey = pair.public_key as string;
    }
    if (user.password !== undefined) httpUsers.push(user);
    if (user.privateKey) sshUsers.push(user);
  }
  const totalWeight = repos.reduce((a, r) => a + r.weight, 0);
  const sshHost = str(inst.SshHost) ?? base.hostname;
  const sshPort = typeof inst.SshPort === 'number' ? inst.SshPort : 7999;
  let directBase = str(inst.DirectURL)?.replace(/\/+$/, '');
  if (!directBase) {
    const d = new URL(baseUrl);
    if (!d.port) d.port = '7990';
    directBase = d.toString().replace(/\/+$/, '');
  }
  const pick = <T>(list: readonly T[], what: string, random: () => number): T => {
    if (list.length === 0) {
      throw new E3Error('INVALID_FILE', `the snapshot has no ${what}`, {
        hint: `Add ${what === 'HTTP user' ? '{"username","password"}' : '{"username","private_key"}'} entries to "users" in the snapshot, or give a keys file.`,
      });
    }
    return list[Math.floor(random() * list.length)]!;
  };
  return {
    baseUrl,
    adminUser: str(inst.RunConfig?.admin_user) ?? str(inst.AdminUser) ?? 'admin',
    adminPassword: str(inst.RunConfig?.admin_password),
    bitbucketVersion: str(inst.version),
    repos,
    httpUsers,
    sshUsers,
    repo(random = Math.random) {
      if (totalWeight <= 0) return repos[Math.floor(random() * repos.length)]!;
      let left = random() * totalWeight;
      for (const r of repos) {
        left -= r.weight;
        if (left <= 0 && r.weight > 0) return r;
      }
      return repos.filter((r) => r.weight > 0).pop()!;
    },
    httpUser: (random = Math.random) => pick(httpUsers, 'HTTP user', random),
    sshUser: (random = Math.random) => pick(sshUsers, 'SSH user', random),
    httpCloneUrl: (r) => `${baseUrl}/scm/${r.project}/${r.slug}.git`,
    httpDirectCloneUrl: (r) => `${directBase}/scm/${r.project}/${r.slug}.git`,
    sshCloneUrl: (r) => `ssh://git@${sshHost.includes(':') ? `[${sshHost}]` : sshHost}:${sshPort}/${r.project}/${r.slug}.git`,
    defaultBranch: (r) => (r.branches.find((b) => b.isDefault) ?? r.branches[0])?.displayId ?? 'master',
  };
}
