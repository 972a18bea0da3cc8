import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

import { E3Error } from '@e3/model';

import { openDb, TABLES, type Db } from './db.js';
import type { TargetState } from './http/context.js';

/** `<data>/state/`: the saved repositories (`repos/`, hard links) and database (`target.db`). */
export function stateDir(dataDir: string): string {
  return join(dataDir, 'state');
}

function cpLinks(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cp', ['-al', from, to], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new E3Error('IO', `cp -al ${from} ${to} failed: ${err.trim()}`))));
  });
}

/**
 * Saves repositories and database under `<data>/state/`. Repos are hard-linked (git replaces files by
 * rename, so the saved copy never changes); the database is copied with `VACUUM INTO`.
 */
export async function saveStateWith(dataDir: string, db: Db): Promise<{ dir: string }> {
  const dir = stateDir(dataDir);
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.prepare('VACUUM INTO ?').run(join(tmp, 'target.db'));
  if (existsSync(join(dataDir, 'repos'))) await cpLinks(join(dataDir, 'repos'), join(tmp, 'repos'));
  else await mkdir(join(tmp, 'repos'));
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return { dir };
}

/** Puts repositories and database back to the saved state. The database stays open (rows are replaced in one transaction). */
export async function restoreStateWith(dataDir: string, db: Db): Promise<void> {
  const dir = stateDir(dataDir);
  if (!existsSync(join(dir, 'target.db'))) {
    throw new E3Error('TARGET', `no saved state in ${dir}`, { hint: `Run \`e3 target save-state --data ${dataDir}\` first.` });
  }
  const repos = join(dataDir, 'repos');
  const old = `${repos}.old-${process.pid}-${Date.now()}`;
  const fresh = `${repos}.new-${process.pid}-${Date.now()}`;
  await cpLinks(join(dir, 'repos'), fresh);
  if (existsSync(repos)) await rename(repos, old);
  await rename(fresh, repos);
  await rm(old, { recursive: true, force: true });
  db.prepare('ATTACH DATABASE ? AS saved').run(join(dir, 'target.db'));
  try {
    db.transaction(() => {
      for (const t of [...TABLES].reverse()) db.prepare(`DELETE FROM main.${t}`).run();
      for (const t of TABLES) db.prepare(`INSERT INTO main.${t} SELECT * FROM saved.${t}`).run();
    })();
  } finally {
    db.prepare('DETACH DATABASE saved').run();
  }
}

/** Restore inside a running target: waits for every hosting ticket, restores, drops sessions and caches. */
export async function restoreLive(state: TargetState): Promise<void> {
  const release = await state.tickets.acquireAll();
  try {
    await Promise.all([...state.repoLocks.values()]);
    await restoreStateWith(state.dataDir, state.db);
    state.sessions.clear();
    state.authCache.clear();
  } finally {
    release();
  }
}

/** Opens `<data>/target.db` for an offline save or restore. */
export function openDataDb(dataDir: string): Db {
  const file = join(dataDir, 'target.db');
  if (!existsSync(file)) throw new E3Error('TARGET', `${dataDir} holds no target database (target.db)`, { hint: `Run \`e3 target seed --data ${dataDir} …\` first.` });
  return openDb(file);
}
