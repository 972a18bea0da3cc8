import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { E3Error, writeJsonAtomic, prng } from '@e3/model';

import { createUser, openDb, type Db } from './db.js';
import { git, listBranches, repoDir } from './git.js';
import { parsePublicKey } from './keys.js';
import { saveStateWith } from './state.js';
import { readRuntimeInfo } from './target.js';

export interface SeedTargetOptions {
  /** The target's data folder; it must not hold a running target. */
  data: string;
  /** e3-home: `snapshots/<name>.json` and `instances/<name>.json` are written there. */
  home: string;
  /** Snapshot and instance name. */
  name: string;
  projects: number;
  /** Repositories per project. */
  repos: number;
  /** Users with a password (`user-0001`…), and as many users with an SSH key (`ssh-user-0001`…) as the key pool allows. */
  users: number;
  /** Keys file (E³ format `{name, count, key_pairs:[{public_key, private_key}]}`). */
  keys: string;
  /** Commits on master per repository; default 20. */
  commits?: number;
  /** Files per repository; default 20. */
  files?: number;
  /** Size of each file in KiB; default 4. */
  fileKb?: number;
  /** Open pull requests per repository; default 1. */
  openPrs?: number;
  /** Password of the HTTP users; default `test` (as in E³'s e3-small). */
  userPassword?: string;
  /** Password of `admin`; default `admin`. */
  adminPassword?: string;
  /** URL parts written to the instance file; defaults 127.0.0.1, 7990, 7999, no context. */
  host?: string;
  httpPort?: number;
  sshPort?: number;
  contextPath?: string;
  /** Replace an existing dataset in `data`. */
  force?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface SeedResult {
  snapshotFile: string;
  instanceFile: string;
  projects: number;
  repos: number;
  httpUsers: number;
  sshUsers: number;
  pullRequests: number;
}

interface KeyPair {
  public_key: string;
  private_key: string;
}

function readKeys(file: string): KeyPair[] {
  if (!existsSync(file)) throw new E3Error('FILE_NOT_FOUND', `keys file ${file} does not exist`, { hint: 'Pass --keys e3-home/keys/<name>.json (E³ keys format).' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new E3Error('JSON_PARSE', `keys file ${file} is not valid JSON`, { cause });
  }
  const pairs = (parsed as { key_pairs?: unknown }).key_pairs;
  if (!Array.isArray(pairs) || pairs.some((p) => typeof p?.public_key !== 'string' || typeof p?.private_key !== 'string')) {
    throw new E3Error('INVALID_FILE', `keys file ${file}: "key_pairs" must be an array of {public_key, private_key}`, {
      hint: `Expected: {"name":"Default","count":1,"key_pairs":[{"public_key":"ssh-rsa AAAA…","private_key":"-----BEGIN RSA PRIVATE KEY-----…"}]}`,
    });
  }
  return pairs as KeyPair[];
}


const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'to', 'shi', 'va', 'de', 'po', 'zen', 'qua', 'bi', 'or', 'el', 'ix'];

function textFile(rand: () => number, bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const indent = '  '.repeat(Math.floor(rand() * 3));
    const words: string[] = [];
    const n = 3 + Math.floor(rand() * 9);
    for (let i = 0; i < n; i++) {
      let w = '';
      const k = 1 + Math.floor(rand() * 3);
      for (let j = 0; j < k; j++) w += SYLLABLES[Math.floor(rand() * SYLLABLES.length)];
      words.push(w);
    }
    const line = indent + words.join(' ');
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n') + '\n';
}

/** Changes about a fifth of the lines of `text`. */
function editFile(rand: () => number, text: string): string {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) if (rand() < 0.2) lines[i] = textFile(rand, 20).trimEnd().split('\n')[0]!;
  return lines.join('\n');
}

function data(s: string): string {
  return `data ${Buffer.byteLength(s)}\n${s}\n`;
}

/** The fast-import stream of one repository: master with `commits` commits, `develop`, and `feature/seed-<n>` branches. */
function historyStream(options: { seed: number; commits: number; files: number; fileKb: number; features: number; author: string; email: string }): string {
  const rand = prng(options.seed);
  const paths = Array.from({ length: options.files }, (_, i) => `src/module-${i % 5}/file-${String(i).padStart(3, '0')}.txt`);
  paths.push('README.md');
  const contents = new Map<string, string>();
  const out: string[] = [];
  let mark = 0;
  let time = 1_700_000_000;
  const commit = (ref: string, from: number | undefined, changes: string[], msg: string): number => {
    const ops: string[] = [];
    for (const p of changes) {
      const prev = contents.get(p);
      const body = p === 'README.md' ? `# ${msg}\n` : prev === undefined ? textFile(rand, options.fileKb * 1024) : editFile(rand, prev);
      contents.set(p, body);
      out.push(`blob\nmark :${++mark}\n${data(body)}`);
      ops.push(`M 100644 :${mark} ${p}\n`);
    }
    time += 600 + Math.floor(rand() * 3600);
    const m = ++mark;
    out.push(
      `commit ${ref}\nmark :${m}\nauthor ${options.author} <${options.email}> ${time} +0000\ncommitter ${options.author} <${options.email}> ${time} +0000\n${data(msg)}` +
        (from ? `from :${from}\n` : '') +
        ops.join('') +
        '\n',
    );
    return m;
  };
  let head = commit('refs/heads/master', undefined, paths, 'Initial commit');
  let developAt = head;
  for (let c = 1; c < options.commits; c++) {
    const n = 1 + Math.floor(rand() * 3);
    const picks = Array.from({ length: n }, () => paths[Math.floor(rand() * (paths.length - 1))]!);
    head = commit('refs/heads/master', head, [...new Set(picks)], `Change ${c}: update ${picks[0]}`);
    if (c === Math.floor(options.commits / 2)) developAt = head;
  }
  out.push(`reset refs/heads/develop\nfrom :${developAt}\n\n`);
  for (let f = 1; f <= options.features; f++) {
    const pick = paths[Math.floor(rand() * (paths.length - 1))]!;
    commit(`refs/heads/feature/seed-${f}`, head, [pick], `Feature ${f}: rework ${pick}`);
  }
  return out.join('') + 'done\n';
}

function fastImport(dir: string, stream: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('git', ['fast-import', '--quiet', '--done'], { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (cause) => reject(new E3Error('ENVIRONMENT', `could not run git fast-import: ${cause.message}`, { cause })));
    child.on('close', (code) => (code === 0 ? resolvePromise() : reject(new E3Error('TARGET', `git fast-import failed in ${dir}: ${err.trim().slice(0, 500)}`))));
    child.stdin.end(stream);
  });
}

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function positiveInt(name: string, v: number | undefined, dflt: number, min = 1): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < min || n > 1_000_000) throw new E3Error('USAGE', `--${name} must be an integer ≥ ${min}, got ${String(v)}`);
  return n;
}

/**
 * Creates a dataset in `data` (bare repos via `git fast-import`, users, SSH keys, open PRs), saves it as the
 * target's state, and writes `snapshots/<name>.json` and `instances/<name>.json` (E³ formats) into `home`.
 * Throws E3_TARGET when a target is running on `data` or a dataset exists (without `force`).
 */
export async function seedTarget(options: SeedTargetOptions): Promise<SeedResult> {
  const dataDir = resolve(options.data);
  const log = options.log ?? (() => undefined);
  const projects = positiveInt('projects', options.projects, 1);
  const reposPer = positiveInt('repos', options.repos, 1);
  const users = positiveInt('users', options.users, 1);
  const commits = positiveInt('commits', options.commits, 20);
  const files = positiveInt('files', options.files, 20);
  const fileKb = positiveInt('file-kb', options.fileKb, 4);
  const openPrs = positiveInt('open-prs', options.openPrs, 1, 0);
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(options.name)) throw new E3Error('USAGE', `--name '${options.name}' must be letters, digits, ".", "_" or "-"`);
  if (readRuntimeInfo(dataDir)) throw new E3Error('TARGET', `a target is running on ${dataDir}`, { hint: `Run \`e3 target stop --data ${dataDir}\` first.` });
  const keys = readKeys(resolve(options.keys));
  const dbFile = join(dataDir, 'target.db');
  if (existsSync(dbFile)) {
    if (!options.force) throw new E3Error('TARGET', `${dataDir} already holds a dataset`, { hint: `Pass --force to replace it, or seed into an empty --data folder.` });
    for (const f of ['target.db', 'target.db-wal', 'target.db-shm', 'repos', 'state']) await rm(join(dataDir, f), { recursive: true, force: true });
  }
  await mkdir(join(dataDir, 'repos'), { recursive: true });
  const db = openDb(dbFile);
  try {
    return await seedInto(db, dataDir, { ...options, projects, reposPer, users, commits, files, fileKb, openPrs, pairs: keys, log });
  } finally {
    db.close();
  }
}

async function seedInto(
  db: Db,
  dataDir: string,
  o: SeedTargetOptions & { reposPer: number; commits: number; files: number; fileKb: number; openPrs: number; pairs: KeyPair[]; log: (line: string) => void },
): Promise<SeedResult> {
  const adminPassword = o.adminPassword ?? 'admin';
  const userPassword = o.userPassword ?? 'test';
  const snapshotUsers: Record<string, string>[] = [];
  db.transaction(() => {
    createUser(db, { name: 'admin', password: adminPassword, displayName: 'Administrator', admin: true });
  })();
  // scrypt per user is the slow part of seeding; hash the shared password once.
  const sharedHash = (await import('./db.js')).hashPassword(userPassword);
  const insertUser = db.prepare('INSERT INTO users (name, display_name, email, password_hash) VALUES (?, ?, ?, ?)');
  const insertKey = db.prepare('INSERT INTO ssh_keys (user_id, text, key_data, label) VALUES (?, ?, ?, ?)');
  const sshCount = Math.min(o.users, o.pairs.length);
  if (sshCount < o.users) o.log(`key pool has ${o.pairs.length} keys: creating ${sshCount} SSH users instead of ${o.users}`);
  db.transaction(() => {
    for (let i = 1; i <= o.users; i++) {
      const name = `user-${String(i).padStart(4, '0')}`;
      insertUser.run(name, `User ${i}`, `${name}@example.com`, sharedHash);
      snapshotUsers.push({ username: name, password: userPassword });
    }
    for (let i = 1; i <= sshCount; i++) {
      const pair = o.pairs[i - 1]!;
      const parsed = parsePublicKey(pair.public_key);
      if (!parsed) throw new E3Error('INVALID_FILE', `keys file ${o.keys}: key_pairs[${i - 1}].public_key is not an OpenSSH public key`);
      const name = `ssh-user-${String(i).padStart(4, '0')}`;
      const info = insertUser.run(name, `SSH User ${i}`, `${name}@example.com`, null);
      insertKey.run(info.lastInsertRowid, pair.public_key.trim(), parsed.data, 'e3 key pool');
      snapshotUsers.push({ username: name, public_key: pair.public_key, private_key: pair.private_key });
    }
  })();
  const repoList: { key: string; slug: string; seed: number }[] = [];
  db.transaction(() => {
    for (let p = 1; p <= o.projects; p++) {
      const key = `PROJECT_${p}`;
      const info = db.prepare('INSERT INTO projects (key, name, description) VALUES (?, ?, ?)').run(key, `Project ${p}`, `Seeded project ${p}`);
      for (let r = 1; r <= o.reposPer; r++) {
        const slug = `repo-${r}`;
        db.prepare('INSERT INTO repos (project_id, slug, name) VALUES (?, ?, ?)').run(info.lastInsertRowid, slug, slug);
        repoList.push({ key, slug, seed: p * 7919 + r });
      }
    }
  })();
  let done = 0;
  await pool(repoList, 2, async (r) => {
    const dir = repoDir(dataDir, r.key, r.slug);
    await mkdir(dir, { recursive: true });
    await git(['init', '--bare', '--quiet', '--initial-branch=master', dir], { cwd: dir });
    await fastImport(dir, historyStream({ seed: r.seed, commits: o.commits, files: o.files, fileKb: o.fileKb, features: Math.max(1, o.openPrs), author: 'E3 Seeder', email: 'seed@e3.invalid' }));
    await git(['pack-refs', '--all'], { cwd: dir });
    if (++done % 10 === 0) o.log(`seeded ${done}/${repoList.length} repositories`);
  });
  // Open PRs: feature/seed-<n> → master, authored by HTTP users in turn.
  const now = Date.now();
  let prs = 0;
  const snapshotProjects = new Map<string, { name: string; repos: unknown[] }>();
  let g = 0;
  for (const r of repoList) {
    const dir = repoDir(dataDir, r.key, r.slug);
    const branches = await listBranches(dir);
    const tip = (name: string): string => branches.find((b) => b.name === name)!.commit;
    const row = db.prepare('SELECT r.id FROM repos r JOIN projects p ON p.id = r.project_id WHERE p.key = ? AND r.slug = ?').get(r.key, r.slug) as { id: number };
    for (let n = 1; n <= o.openPrs; n++) {
      const author = 2 + ((prs + n) % o.users);
      db.prepare(
        `INSERT INTO pull_requests (repo_id, pr_id, version, title, description, state, from_ref, to_ref, from_commit, to_commit, author_id, created, updated)
         VALUES (?, ?, 0, ?, ?, 'OPEN', ?, 'refs/heads/master', ?, ?, ?, ?, ?)`,
      ).run(row.id, n, `Seeded change ${n}`, 'A pull request created by e3 target seed.', `refs/heads/feature/seed-${n}`, tip(`feature/seed-${n}`), tip('master'), author, now, now);
      prs++;
    }
    const ordered = [...branches].sort((a, b) => (a.name === 'master' ? -1 : b.name === 'master' ? 1 : a.name.localeCompare(b.name)));
    const proj = snapshotProjects.get(r.key) ?? { name: r.key, repos: [] };
    snapshotProjects.set(r.key, proj);
    proj.repos.push({
      name: r.slug,
      weight: Number((1 / (1 + (g++ % 5))).toFixed(3)),
      branches: ordered.map((b) => ({ displayId: b.name, id: `refs/heads/${b.name}`, isDefault: b.name === 'master', latestChangeset: b.commit, latestCommit: b.commit, type: 'BRANCH' })),
    });
  }
  await saveStateWith(dataDir, db);
  const host = o.host ?? '127.0.0.1';
  const context = o.contextPath && o.contextPath !== '/' ? '/' + o.contextPath.replace(/^\/+|\/+$/g, '') : '';
  const home = resolve(o.home);
  const snapshotFile = join(home, 'snapshots', `${o.name}.json`);
  const instanceFile = join(home, 'instances', `${o.name}.json`);
  await writeJsonAtomic(
    snapshotFile,
    {
      name: o.name,
      description: `e3 target dataset: ${o.projects} projects × ${o.reposPer} repos, ${o.users} HTTP users, ${Math.min(o.users, o.pairs.length)} SSH users`,
      projects: [...snapshotProjects.values()],
      users: snapshotUsers,
    },
    { mode: 0o600 },
  );
  await writeJsonAtomic(
    instanceFile,
    {
      URL: `http://${host}:${o.httpPort ?? 7990}${context}`,
      ...(o.sshPort !== 0 ? { SshPort: o.sshPort ?? 7999 } : {}),
      ClusterNodes: ['localhost'],
      snapshot: o.name,
      RunConfig: { admin_password: adminPassword },
    },
    { mode: 0o600 },
  );
  return { snapshotFile, instanceFile, projects: o.projects, repos: repoList.length, httpUsers: o.users, sshUsers: Math.min(o.users, o.pairs.length), pullRequests: prs };
}
