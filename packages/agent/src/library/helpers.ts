import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

import type { RepoRef, User } from '../data/provider.js';
import type { GitIdentity } from '../git/runner.js';
import type { HttpResponse } from '../http/client.js';
import type { ScriptContext } from '../script/api.js';

export const REST = '/rest/api/latest';

/** The major Bitbucket version of the instance (its `version`); 8 (the oldest supported default) when absent. */
export function bitbucketMajor(ctx: ScriptContext): number {
  const major = Number(/^(\d+)/.exec(ctx.data.bitbucketVersion ?? '')?.[1]);
  return Number.isInteger(major) ? major : 8;
}

/** `{key}`/`{slug}` path for ops, so repos do not each make their own op. */
export const repoPath = (r: { project: string; slug: string }) => `/projects/${r.project}/repos/${r.slug}`;

export const identity = (u: User, kind: 'http' | 'ssh'): GitIdentity =>
  kind === 'http' ? { username: u.username, ...(u.password !== undefined ? { password: u.password } : {}) } : { username: u.username, ...(u.privateKey ? { privateKey: u.privateKey } : {}) };

/**
 * E³ Authentication.login: `GET /login` (2xx), then `POST /j_atl_security_check`; success when the
 * redirect does not point back to /login.
 */
export async function login(ctx: ScriptContext, user: { username: string; password?: string }): Promise<void> {
  await ctx.http.get('/login', { expect: [200] });
  const res = await ctx.http.post('/j_atl_security_check', {
    form: { j_username: user.username, j_password: user.password ?? '', submit: 'Log in' },
    expect: [302, 303],
  });
  const to = res.location === undefined ? '/login' : new URL(res.location, ctx.http.baseUrl + '/').pathname;
  ctx.check(!/\/login$/.test(to), `login of ${user.username} was refused`);
}

/** A redirect's `Location` as an absolute URL (Location paths already carry the context path). */
export const absolute = (ctx: ScriptContext, location: string): string => new URL(location, ctx.http.baseUrl + '/').href;

/** E³ Authentication.logout: `GET /j_atl_security_logout`, following one redirect. */
export async function logout(ctx: ScriptContext): Promise<void> {
  const res = await ctx.http.get('/j_atl_security_logout', { op: 'GET /j_atl_security_logout' });
  if (res.status === 302 && res.location) await ctx.http.get(absolute(ctx, res.location), { op: 'GET (logout redirect)' });
  ctx.http.cookies.clear();
}

export interface Page<T> {
  values: T[];
  size?: number;
  isLastPage?: boolean;
}

export const json = <T>(res: HttpResponse): T => res.json<T>();

export function pickOne<T>(ctx: ScriptContext, list: readonly T[]): T | undefined {
  return list.length === 0 ? undefined : list[Math.floor(ctx.random() * list.length)];
}

/**
 * ListPullRequests/Audit/ViewPullRequest's way to find a repo: a random project of the first 1000, then a
 * random repo of it (E³ crashed when a project had no repo; this tries other projects, then fails a check).
 */
export async function randomRepoViaRest(ctx: ScriptContext): Promise<{ project: string; slug: string; id?: number }> {
  const projects = json<Page<{ key: string }>>(
    await ctx.http.get(`${REST}/projects`, { accept: 'json', query: { start: 0, limit: 1000 }, op: `GET ${REST}/projects` }),
  ).values;
  ctx.check(projects.length > 0, 'the server lists no project');
  for (let attempt = 0; attempt < 5; attempt++) {
    const p = pickOne(ctx, projects)!;
    const repos = json<Page<{ slug: string; id?: number }>>(
      await ctx.http.get(`${REST}/projects/${p.key}/repos`, { accept: 'json', query: { start: 0, limit: 1000 }, op: `GET ${REST}/projects/{key}/repos` }),
    ).values;
    const r = pickOne(ctx, repos);
    if (r) return { project: p.key, slug: r.slug, ...(r.id !== undefined ? { id: r.id } : {}) };
  }
  ctx.check(false, 'no repository found in 5 random projects');
  throw new Error('unreachable');
}

/** Lines of random words (E³ RandomWords without a dictionary: 10 lowercase letters per word). */
export function randomWord(ctx: ScriptContext, length = 10): string {
  let w = '';
  for (let i = 0; i < length; i++) w += String.fromCharCode(97 + Math.floor(ctx.random() * 26));
  return w;
}
export function randomWords(ctx: ScriptContext, n: number): string {
  return Array.from({ length: n }, () => randomWord(ctx)).join(' ');
}
const between = (ctx: ScriptContext, lo: number, hi: number) => lo + Math.floor(ctx.random() * (hi - lo + 1));

const TEXT_EXT = /\.(txt|md|markdown|rst|js|mjs|cjs|ts|jsx|tsx|java|py|rb|go|rs|c|h|cc|cpp|hpp|cs|css|scss|less|html|htm|xml|yml|yaml|sh|properties|sql|php|pl|scala|kt|groovy|csv|ini|cfg|conf)$/i;

async function listFiles(root: string, dir = root, out: string[] = [], limit = 5000): Promise<string[]> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (out.length >= limit) break;
    if (e.name === '.git') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await listFiles(root, p, out, limit);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Text files of a work tree (outside .git), relative paths. */
export async function textFiles(root: string): Promise<string[]> {
  return (await listFiles(root)).filter((f) => TEXT_EXT.test(f) && !f.endsWith('.gitignore')).map((f) => relative(root, f));
}

/**
 * E³ CodeEditor.randomly_edit_files(10, 30, 10, 25): n uniform in 10..30, n−1 edits on text files, each
 * add-file / modify / delete with weights 20/60/20; a modify does up to L (10..25) line operations (insert 30,
 * modify 50, delete 20). Always leaves at least one change.
 */
export async function randomlyEditFiles(ctx: ScriptContext, root: string): Promise<number> {
  const files = await textFiles(root);
  const n = between(ctx, 10, 30);
  let edits = 0;
  for (let i = 0; i < n - 1; i++) {
    const kind = ctx.random() * 100;
    const chosen = pickOne(ctx, files);
    if (!chosen || kind < 20) {
      const dir = chosen ? join(root, chosen, '..') : root;
      const lines = Array.from({ length: between(ctx, 10, 25) }, () => randomWords(ctx, between(ctx, 4, 16)));
      await writeFile(join(dir, `${randomWord(ctx)}.txt`), lines.join('\n') + '\n');
      edits++;
    } else if (kind < 80) {
      const file = join(root, chosen);
      const lines = (await readFile(file, 'utf8')).split('\n');
      const ops = between(ctx, 1, between(ctx, 10, 25));
      for (let k = 0; k < ops; k++) {
        const at = Math.floor(ctx.random() * (lines.length + 1));
        const o = ctx.random() * 100;
        if (o < 30 || lines.length === 0) lines.splice(at, 0, randomWords(ctx, between(ctx, 4, 16)));
        else if (o < 80) {
          const idx = Math.min(at, lines.length - 1);
          const line = lines[idx]!;
          const lead = /^\s*/.exec(line)![0];
          const words = (line.trim() + ' ' + randomWords(ctx, between(ctx, 4, 6))).split(/\s+/).filter(Boolean);
          for (let j = words.length - 1; j > 0; j--) {
            const s = Math.floor(ctx.random() * (j + 1));
            [words[j], words[s]] = [words[s]!, words[j]!];
          }
          lines[idx] = lead + words.join(' ');
        } else lines.splice(Math.min(at, lines.length - 1), 1);
      }
      await writeFile(file, lines.join('\n'));
      edits++;
    } else if (files.length > 1) {
      await rm(join(root, chosen), { force: true });
      files.splice(files.indexOf(chosen), 1);
      edits++;
    }
  }
  if (edits === 0) await writeFile(join(root, `${randomWord(ctx)}.txt`), randomWords(ctx, 8) + '\n');
  return edits;
}

/** A fresh temp folder under the client's work dir. */
export async function tempDir(ctx: ScriptContext, prefix: string): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(ctx.workDir, { recursive: true });
  return mkdtemp(join(ctx.workDir, prefix));
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export type Transport = 'ssh' | 'http' | 'httpDirect';

/** The clone URL and identity for a transport (E³ SshHelper/HttpHelper/HttpDirectHelper, context path kept). */
export function remote(ctx: ScriptContext, repo: RepoRef, transport: Transport): { url: string; as: GitIdentity } {
  if (transport === 'ssh') return { url: ctx.data.sshCloneUrl(repo), as: identity(ctx.sshUser(), 'ssh') };
  const as = identity(ctx.httpUser(), 'http');
  return { url: transport === 'http' ? ctx.data.httpCloneUrl(repo) : ctx.data.httpDirectCloneUrl(repo), as };
}
