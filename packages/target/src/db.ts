import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

import Database from 'better-sqlite3';

/** The SQLite handle of a target (better-sqlite3, WAL). */
export type Db = Database.Database;

export interface UserRow {
  id: number;
  name: string;
  display_name: string;
  email: string;
  password_hash: string | null;
  is_admin: number;
  active: number;
}

export interface ProjectRow {
  id: number;
  key: string;
  name: string;
  description: string;
}

export interface RepoRow {
  id: number;
  project_id: number;
  slug: string;
  name: string;
  project_key: string;
  project_name: string;
}

export interface PullRequestRow {
  id: number;
  repo_id: number;
  pr_id: number;
  version: number;
  title: string;
  description: string;
  state: 'OPEN' | 'MERGED' | 'DECLINED';
  from_ref: string;
  to_ref: string;
  from_commit: string;
  to_commit: string;
  author_id: number;
  created: number;
  updated: number;
  merge_commit: string | null;
}

/** Tables in restore order (parents first). */
export const TABLES = [
  'users',
  'ssh_keys',
  'projects',
  'repos',
  'pull_requests',
  'group_permissions',
  'recent_repos',
  'audit_events',
] as const;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  email TEXT NOT NULL,
  password_hash TEXT,
  is_admin INTEGER NOT NULL DEFAULT 0,
  active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS ssh_keys (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  text TEXT NOT NULL,
  key_data TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS projects (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS repos (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  slug TEXT NOT NULL,
  name TEXT NOT NULL,
  UNIQUE (project_id, slug)
);
CREATE TABLE IF NOT EXISTS pull_requests (
  id INTEGER PRIMARY KEY,
  repo_id INTEGER NOT NULL REFERENCES repos(id),
  pr_id INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 0,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  from_ref TEXT NOT NULL,
  to_ref TEXT NOT NULL,
  from_commit TEXT NOT NULL,
  to_commit TEXT NOT NULL,
  author_id INTEGER NOT NULL REFERENCES users(id),
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  merge_commit TEXT,
  UNIQUE (repo_id, pr_id)
);
CREATE TABLE IF NOT EXISTS group_permissions (
  id INTEGER PRIMARY KEY,
  scope TEXT NOT NULL,
  group_name TEXT NOT NULL,
  permission TEXT NOT NULL,
  UNIQUE (scope, group_name)
);
CREATE TABLE IF NOT EXISTS recent_repos (
  user_id INTEGER NOT NULL,
  repo_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (user_id, repo_id)
);
CREATE TABLE IF NOT EXISTS audit_events (
  id INTEGER PRIMARY KEY,
  repo_id INTEGER,
  project_id INTEGER,
  user_id INTEGER,
  action TEXT NOT NULL,
  details TEXT NOT NULL DEFAULT '',
  ts INTEGER NOT NULL
);
`;

/** Opens (and creates) the target database at `file` in WAL mode with the e3 target schema. */
export function openDb(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  return db;
}

const SCRYPT_N = 1024;

/** `scrypt$<salt hex>$<hash hex>`; the password itself is never stored. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, { N: SCRYPT_N });
  return `scrypt$${salt.toString('hex')}$${hash.toString('hex')}`;
}

export function verifyPassword(password: string, stored: string | null): boolean {
  if (!stored) return false;
  const [kind, saltHex, hashHex] = stored.split('$');
  if (kind !== 'scrypt' || !saltHex || !hashHex) return false;
  const expected = Buffer.from(hashHex, 'hex');
  const actual = scryptSync(password, Buffer.from(saltHex, 'hex'), expected.length, { N: SCRYPT_N });
  return timingSafeEqual(expected, actual);
}

export function findUser(db: Db, name: string): UserRow | undefined {
  return db.prepare('SELECT * FROM users WHERE name = ? COLLATE NOCASE').get(name) as UserRow | undefined;
}

export function createUser(
  db: Db,
  user: { name: string; password?: string; displayName?: string; email?: string; admin?: boolean },
): UserRow {
  const info = db
    .prepare('INSERT INTO users (name, display_name, email, password_hash, is_admin) VALUES (?, ?, ?, ?, ?)')
    .run(
      user.name,
      user.displayName ?? user.name,
      user.email ?? `${user.name}@example.com`,
      user.password === undefined ? null : hashPassword(user.password),
      user.admin ? 1 : 0,
    );
  return db.prepare('SELECT * FROM users WHERE id = ?').get(info.lastInsertRowid) as UserRow;
}

const REPO_SELECT = `SELECT r.id, r.project_id, r.slug, r.name, p.key AS project_key, p.name AS project_name
  FROM repos r JOIN projects p ON p.id = r.project_id`;

export function findProject(db: Db, key: string): ProjectRow | undefined {
  return db.prepare('SELECT * FROM projects WHERE key = ? COLLATE NOCASE').get(key) as ProjectRow | undefined;
}

export function findRepo(db: Db, key: string, slug: string): RepoRow | undefined {
  return db
    .prepare(`${REPO_SELECT} WHERE p.key = ? COLLATE NOCASE AND r.slug = ? COLLATE NOCASE`)
    .get(key, slug) as RepoRow | undefined;
}

export function findRepoById(db: Db, id: number): RepoRow | undefined {
  return db.prepare(`${REPO_SELECT} WHERE r.id = ?`).get(id) as RepoRow | undefined;
}

export function listRepos(db: Db, projectId?: number): RepoRow[] {
  return (
    projectId === undefined
      ? db.prepare(`${REPO_SELECT} ORDER BY p.key, r.slug`).all()
      : db.prepare(`${REPO_SELECT} WHERE r.project_id = ? ORDER BY r.slug`).all(projectId)
  ) as RepoRow[];
}

export function addAudit(
  db: Db,
  event: { action: string; repoId?: number; projectId?: number; userId?: number; details?: string },
): void {
  db.prepare('INSERT INTO audit_events (repo_id, project_id, user_id, action, details, ts) VALUES (?, ?, ?, ?, ?, ?)').run(
    event.repoId ?? null,
    event.projectId ?? null,
    event.userId ?? null,
    event.action,
    event.details ?? '',
    Date.now(),
  );
}
