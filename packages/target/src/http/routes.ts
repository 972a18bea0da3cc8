import { mkdir } from 'node:fs/promises';

import {
  addAudit,
  createUser,
  findProject,
  findRepo,
  findRepoById,
  findUser,
  hashPassword,
  listRepos,
  type ProjectRow,
  type PullRequestRow,
  type RepoRow,
  type UserRow,
} from '../db.js';
import {
  defaultBranch,
  diffChanges,
  diffFiles,
  git,
  isAncestor,
  listBranches,
  logCommits,
  mergeBase,
  repoDir,
  resolveCommit,
  runGit,
  type Change,
  type Commit,
  type FileDiff,
} from '../git.js';
import { parsePublicKey } from '../keys.js';
import { restoreLive } from '../state.js';
import {
  escapeHtml,
  fail,
  page,
  parseIntParam,
  readForm,
  readJson,
  redirect,
  sendHtml,
  sendJson,
  type Ctx,
} from './context.js';

type Handler = (ctx: Ctx) => Promise<void> | void;
interface Route {
  method: string;
  re: RegExp;
  names: string[];
  handler: Handler;
}

const routes: Route[] = [];

/** `{v}` = `1.0|latest`; `:name` = one segment; `*name` = the rest (≥ 1 char). */
function on(method: string, pattern: string, handler: Handler): void {
  const names: string[] = [];
  const src = pattern
    .split('/')
    .map((seg) => {
      if (seg === '{v}') return '(?:1\\.0|latest)';
      if (seg.startsWith(':')) {
        names.push(seg.slice(1));
        return '([^/]+)';
      }
      if (seg.startsWith('*')) {
        names.push(seg.slice(1));
        return '(.+)';
      }
      return seg.replace(/[.+?^$()[\]{}|\\]/g, (c) => `\\${c}`);
    })
    .join('/');
  routes.push({ method, re: new RegExp(`^${src}/?$`), names, handler });
}

/** Dispatches an authenticated request to its endpoint; unknown → 404, wrong method → 405. */
export async function route(ctx: Ctx): Promise<void> {
  const method = ctx.req.method ?? 'GET';
  let pathMatched = false;
  for (const r of routes) {
    const m = r.re.exec(ctx.path);
    if (!m) continue;
    pathMatched = true;
    if (r.method !== method && !(r.method === 'GET' && method === 'HEAD')) continue;
    ctx.params = {};
    r.names.forEach((n, i) => {
      try {
        ctx.params[n] = decodeURIComponent(m[i + 1]!);
      } catch {
        fail(400, 'The request path is not valid percent-encoding.', 'com.atlassian.bitbucket.validation.ArgumentValidationException');
      }
    });
    await r.handler(ctx);
    return;
  }
  ctx.req.resume();
  if (pathMatched) fail(405, `${method} is not supported for ${ctx.path.slice(0, 200)}.`, 'com.atlassian.bitbucket.rest.exception.UnmappedRestException');
  fail(404, `No endpoint at ${ctx.path.slice(0, 200)}.`, 'com.atlassian.bitbucket.NoSuchEntityException');
}

// ---------------------------------------------------------------- JSON shapes

function userJson(ctx: Ctx, u: UserRow): Record<string, unknown> {
  return {
    name: u.name,
    emailAddress: u.email,
    active: !!u.active,
    displayName: u.display_name,
    id: u.id,
    slug: u.name.toLowerCase(),
    type: 'NORMAL',
    links: { self: [{ href: `${ctx.state.baseUrl}/users/${encodeURIComponent(u.name.toLowerCase())}` }] },
  };
}

function projectJson(ctx: Ctx, p: { id: number; key: string; name: string; description?: string }): Record<string, unknown> {
  return {
    key: p.key,
    id: p.id,
    name: p.name,
    description: p.description ?? '',
    public: false,
    type: 'NORMAL',
    links: { self: [{ href: `${ctx.state.baseUrl}/projects/${p.key}` }] },
  };
}

function repoJson(ctx: Ctx, r: RepoRow): Record<string, unknown> {
  const { baseUrl, host, sshPort } = ctx.state;
  return {
    slug: r.slug,
    id: r.id,
    name: r.name,
    hierarchyId: r.id.toString(16).padStart(20, '0'),
    scmId: 'git',
    state: 'AVAILABLE',
    statusMessage: 'Available',
    forkable: true,
    project: projectJson(ctx, { id: r.project_id, key: r.project_key, name: r.project_name }),
    public: false,
    archived: false,
    links: {
      clone: [
        { href: `${baseUrl}/scm/${r.project_key.toLowerCase()}/${r.slug}.git`, name: 'http' },
        { href: `ssh://git@${host}:${sshPort}/${r.project_key.toLowerCase()}/${r.slug}.git`, name: 'ssh' },
      ],
      self: [{ href: `${baseUrl}/projects/${r.project_key}/repos/${r.slug}/browse` }],
    },
  };
}

function branchJson(name: string, commit: string, isDefault: boolean): Record<string, unknown> {
  return { id: `refs/heads/${name}`, displayId: name, type: 'BRANCH', latestCommit: commit, latestChangeset: commit, isDefault };
}

function pathJson(p: string): Record<string, unknown> {
  const components = p.split('/');
  const name = components[components.length - 1]!;
  const dot = name.lastIndexOf('.');
  const out: Record<string, unknown> = { components, parent: components.slice(0, -1).join('/'), name, toString: p };
  if (dot > 0) out.extension = name.slice(dot + 1);
  return out;
}

function commitJson(c: Commit): Record<string, unknown> {
  return {
    id: c.id,
    displayId: c.id.slice(0, 11),
    author: { name: c.authorName, emailAddress: c.authorEmail },
    authorTimestamp: c.authorTime,
    committer: { name: c.committerName, emailAddress: c.committerEmail },
    committerTimestamp: c.committerTime,
    message: c.message,
    parents: c.parents.map((id) => ({ id, displayId: id.slice(0, 11) })),
  };
}

function changeJson(c: Change): Record<string, unknown> {
  const out: Record<string, unknown> = {
    contentId: c.contentId,
    fromContentId: c.fromContentId,
    path: pathJson(c.path),
    executable: c.executable,
    percentUnchanged: -1,
    type: c.type,
    nodeType: 'FILE',
    srcExecutable: false,
    links: { self: [null] },
    properties: { gitChangeType: c.type },
  };
  if (c.srcPath) out.srcPath = pathJson(c.srcPath);
  return out;
}

function diffJson(fromHash: string, toHash: string, files: FileDiff[], contextLines: number): Record<string, unknown> {
  return {
    fromHash,
    toHash,
    contextLines,
    whitespace: 'SHOW',
    diffs: files.map((f) => ({
      source: f.source === null ? null : pathJson(f.source),
      destination: f.destination === null ? null : pathJson(f.destination),
      hunks: f.hunks,
      truncated: false,
      ...(f.binary ? { binary: true } : {}),
    })),
    truncated: false,
  };
}

// ---------------------------------------------------------------- lookups

function requireAdmin(ctx: Ctx): void {
  if (!ctx.user?.is_admin) fail(403, 'You are not permitted to access this resource', 'com.atlassian.bitbucket.AuthorisationException');
}

function projectParam(ctx: Ctx): ProjectRow {
  const p = findProject(ctx.state.db, ctx.params.key ?? '');
  if (!p) fail(404, `Project ${(ctx.params.key ?? '').slice(0, 100)} does not exist.`, 'com.atlassian.bitbucket.project.NoSuchProjectException');
  return p;
}

function repoParam(ctx: Ctx): RepoRow {
  projectParam(ctx);
  const r = findRepo(ctx.state.db, ctx.params.key!, ctx.params.slug ?? '');
  if (!r) fail(404, `Repository ${ctx.params.key!.slice(0, 100)}/${(ctx.params.slug ?? '').slice(0, 100)} does not exist.`, 'com.atlassian.bitbucket.repository.NoSuchRepositoryException');
  return r;
}

function dirOf(ctx: Ctx, r: RepoRow): string {
  return repoDir(ctx.state.dataDir, r.project_key, r.slug);
}

function touchRecent(ctx: Ctx, r: RepoRow): void {
  ctx.state.db.prepare('INSERT INTO recent_repos (user_id, repo_id, ts) VALUES (?, ?, ?) ON CONFLICT(user_id, repo_id) DO UPDATE SET ts = excluded.ts').run(ctx.user!.id, r.id, Date.now());
}

const REF_RE = /^[A-Za-z0-9._/@+-]{1,250}$/;

/** Resolves a ref id or name (`refs/heads/x`, `x`, or a commit) to a commit; unknown → 404. */
async function commitOf(dir: string, ref: string | null | undefined, what: string): Promise<string> {
  if (!ref) fail(400, `The ${what} parameter is required.`, 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  if (!REF_RE.test(ref) || ref.includes('..') || ref.startsWith('-')) fail(400, `'${ref.slice(0, 80)}' is not a valid ref.`, 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  const c = await resolveCommit(dir, ref);
  if (!c) fail(404, `Commit '${ref}' does not exist in this repository.`, 'com.atlassian.bitbucket.commit.NoSuchCommitException');
  return c;
}

function branchName(ref: string): string {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref;
}

function prRow(ctx: Ctx, r: RepoRow): PullRequestRow {
  const raw = ctx.params.id ?? '';
  if (!/^\d{1,9}$/.test(raw)) fail(400, `'${raw.slice(0, 40)}' is not a valid pull request id.`, 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  const pr = ctx.state.db.prepare('SELECT * FROM pull_requests WHERE repo_id = ? AND pr_id = ?').get(r.id, Number(raw)) as PullRequestRow | undefined;
  if (!pr) fail(404, `Pull request ${raw} does not exist in ${r.project_key}/${r.slug}.`, 'com.atlassian.bitbucket.pull.NoSuchPullRequestException');
  return pr;
}

/** The commits a PR compares: live branch tips while open, the recorded ones after. */
async function prCommits(ctx: Ctx, r: RepoRow, pr: PullRequestRow): Promise<{ from: string; to: string; base: string }> {
  const dir = dirOf(ctx, r);
  let from = pr.from_commit;
  let to = pr.to_commit;
  if (pr.state === 'OPEN') {
    from = (await resolveCommit(dir, pr.from_ref)) ?? from;
    to = (await resolveCommit(dir, pr.to_ref)) ?? to;
  }
  const base = (await mergeBase(dir, to, from)) ?? to;
  return { from, to, base };
}

async function prJson(ctx: Ctx, r: RepoRow, pr: PullRequestRow): Promise<Record<string, unknown>> {
  const { from, to } = await prCommits(ctx, r, pr);
  const author = ctx.state.db.prepare('SELECT * FROM users WHERE id = ?').get(pr.author_id) as UserRow;
  const repo = repoJson(ctx, r);
  const ref = (id: string, commit: string): Record<string, unknown> => ({ id, displayId: branchName(id), latestCommit: commit, type: 'BRANCH', repository: repo });
  const out: Record<string, unknown> = {
    id: pr.pr_id,
    version: pr.version,
    title: pr.title,
    description: pr.description,
    state: pr.state,
    open: pr.state === 'OPEN',
    closed: pr.state !== 'OPEN',
    createdDate: pr.created,
    updatedDate: pr.updated,
    fromRef: ref(pr.from_ref, from),
    toRef: ref(pr.to_ref, to),
    locked: false,
    author: { user: userJson(ctx, author), role: 'AUTHOR', approved: false, status: 'UNAPPROVED' },
    reviewers: [],
    participants: [],
    links: { self: [{ href: `${ctx.state.baseUrl}/projects/${r.project_key}/repos/${r.slug}/pull-requests/${pr.pr_id}` }] },
  };
  if (pr.state !== 'OPEN') out.closedDate = pr.updated;
  if (pr.merge_commit) out.properties = { mergeCommit: { id: pr.merge_commit, displayId: pr.merge_commit.slice(0, 11) } };
  return out;
}

function checkVersion(ctx: Ctx, pr: PullRequestRow): void {
  const raw = ctx.query.get('version');
  if (raw === null || raw === '') return;
  const v = parseIntParam(raw, -1, -1, Number.MAX_SAFE_INTEGER);
  if (v !== pr.version) {
    fail(409, `You are attempting to modify a pull request based on out-of-date information.`, 'com.atlassian.bitbucket.pull.PullRequestOutOfDateException', { expectedVersion: pr.version });
  }
}

/** Runs `fn` with the repository's ref lock held (ref updates of one repo never interleave). */
async function withRepoLock<T>(ctx: Ctx, repoId: number, fn: () => Promise<T>): Promise<T> {
  const prev = ctx.state.repoLocks.get(repoId) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => undefined);
  ctx.state.repoLocks.set(repoId, tail);
  try {
    return await next;
  } finally {
    if (ctx.state.repoLocks.get(repoId) === tail) ctx.state.repoLocks.delete(repoId);
  }
}

/** Creates a PR from branch to branch; up to date → 409 with Bitbucket's "is already up-to-date with branch" text. */
async function createPullRequest(
  ctx: Ctx,
  r: RepoRow,
  input: { fromRef: string; toRef: string; title: string; description: string },
): Promise<PullRequestRow> {
  const dir = dirOf(ctx, r);
  const fromRef = input.fromRef.startsWith('refs/') ? input.fromRef : `refs/heads/${input.fromRef}`;
  const toRef = input.toRef.startsWith('refs/') ? input.toRef : `refs/heads/${input.toRef}`;
  const from = await commitOf(dir, fromRef, 'fromRef');
  const to = await commitOf(dir, toRef, 'toRef');
  if (!input.title.trim()) fail(400, 'A pull request must have a title.', 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  if (fromRef === toRef || (await isAncestor(dir, from, to))) {
    fail(409, `Repository "${r.name}" on branch "${branchName(fromRef)}" is already up-to-date with branch "${branchName(toRef)}".`, 'com.atlassian.bitbucket.pull.EmptyPullRequestException');
  }
  const db = ctx.state.db;
  const dup = db.prepare("SELECT pr_id FROM pull_requests WHERE repo_id = ? AND from_ref = ? AND to_ref = ? AND state = 'OPEN'").get(r.id, fromRef, toRef) as { pr_id: number } | undefined;
  if (dup) fail(409, `Only one pull request may be open for a given source and target branch (#${dup.pr_id}).`, 'com.atlassian.bitbucket.pull.DuplicatePullRequestException');
  const now = Date.now();
  const row = db.transaction(() => {
    const next = (db.prepare('SELECT COALESCE(MAX(pr_id), 0) + 1 AS n FROM pull_requests WHERE repo_id = ?').get(r.id) as { n: number }).n;
    db.prepare(
      `INSERT INTO pull_requests (repo_id, pr_id, version, title, description, state, from_ref, to_ref, from_commit, to_commit, author_id, created, updated)
       VALUES (?, ?, 0, ?, ?, 'OPEN', ?, ?, ?, ?, ?, ?, ?)`,
    ).run(r.id, next, input.title.slice(0, 255), input.description.slice(0, 32768), fromRef, toRef, from, to, ctx.user!.id, now, now);
    return db.prepare('SELECT * FROM pull_requests WHERE repo_id = ? AND pr_id = ?').get(r.id, next) as PullRequestRow;
  })();
  addAudit(db, { action: 'PullRequestOpenedEvent', repoId: r.id, projectId: r.project_id, userId: ctx.user!.id, details: `#${row.pr_id}` });
  return row;
}

function webPage(ctx: Ctx, title: string, body: string, status = 200): void {
  const token = ctx.session?.atlToken ?? '';
  sendHtml(
    ctx.res,
    status,
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)} - Bitbucket</title></head><body>` +
      `<header><a href="${ctx.state.contextPath}/dashboard">Bitbucket</a> <span class="user">${escapeHtml(ctx.user?.name ?? '')}</span></header>` +
      `<input type="hidden" name="atl_token" value="${token}"><main>${body}</main></body></html>`,
  );
}

// ---------------------------------------------------------------- web pages

on('GET', '/', (ctx) => redirect(ctx.res, `${ctx.state.contextPath}/dashboard`));
on('GET', '/dashboard', (ctx) => webPage(ctx, 'Dashboard', '<div id="dashboard-container"><h2>Your work</h2></div>'));
on('GET', '/projects', (ctx) => {
  const rows = ctx.state.db.prepare('SELECT * FROM projects ORDER BY key').all() as ProjectRow[];
  webPage(ctx, 'Projects', `<table id="projects-table">${rows.map((p) => `<tr><td><a href="${ctx.state.contextPath}/projects/${p.key}">${escapeHtml(p.name)}</a></td><td>${p.key}</td></tr>`).join('')}</table>`);
});
on('GET', '/projects/:key', (ctx) => redirect(ctx.res, `${ctx.state.contextPath}/projects/${projectParam(ctx).key}/repos`));
on('GET', '/projects/:key/repos', (ctx) => {
  const p = projectParam(ctx);
  const rows = listRepos(ctx.state.db, p.id);
  webPage(ctx, p.name, `<table id="repositories-table">${rows.map((r) => `<tr><td><a href="${ctx.state.contextPath}/projects/${p.key}/repos/${r.slug}/browse">${escapeHtml(r.name)}</a></td></tr>`).join('')}</table>`);
});
on('GET', '/projects/:key/repos/:slug', (ctx) => {
  const r = repoParam(ctx);
  redirect(ctx.res, `${ctx.state.contextPath}/projects/${r.project_key}/repos/${r.slug}/browse`);
});
on('GET', '/projects/:key/repos/:slug/browse', async (ctx) => {
  const r = repoParam(ctx);
  touchRecent(ctx, r);
  const branches = await listBranches(dirOf(ctx, r));
  if (branches.length === 0) {
    webPage(ctx, r.name, `<div class="empty-repository-instructions"><h2>This repository is empty</h2><code>git clone ${escapeHtml(String((repoJson(ctx, r).links as { clone: { href: string }[] }).clone[0]!.href))}</code></div>`);
    return;
  }
  const dir = dirOf(ctx, r);
  const head = await defaultBranch(dir);
  const shown = branches.find((b) => b.name === head) ?? branches[0]!;
  const files = await git(['ls-tree', '--name-only', shown.commit], { cwd: dir });
  webPage(ctx, r.name, `<table id="browse-table">${files.split('\n').filter(Boolean).map((f) => `<tr><td>${escapeHtml(f)}</td></tr>`).join('')}</table>`);
});
on('GET', '/projects/:key/repos/:slug/branches', async (ctx) => {
  const r = repoParam(ctx);
  const branches = await listBranches(dirOf(ctx, r));
  webPage(ctx, `${r.name} branches`, `<table id="branch-list">${branches.map((b) => `<tr><td>${escapeHtml(b.name)}</td><td>${b.commit}</td></tr>`).join('')}</table>`);
});
on('GET', '/projects/:key/repos/:slug/compare/diff', async (ctx) => {
  const r = repoParam(ctx);
  const dir = dirOf(ctx, r);
  const from = await commitOf(dir, ctx.query.get('sourceBranch'), 'sourceBranch');
  const to = await commitOf(dir, ctx.query.get('targetBranch'), 'targetBranch');
  const base = (await mergeBase(dir, to, from)) ?? to;
  const changes = await diffChanges(dir, base, from);
  webPage(ctx, 'Compare', `<ul id="compare-changes">${changes.map((c) => `<li data-type="${c.type}">${escapeHtml(c.path)}</li>`).join('')}</ul>`);
});
on('GET', '/projects/:key/repos/:slug/settings/pull-requests', (ctx) => {
  repoParam(ctx);
  webPage(ctx, 'Pull request settings', '<form id="pull-request-settings"></form>');
});
on('GET', '/projects/:key/repos/:slug/pull-requests', async (ctx) => {
  const r = repoParam(ctx);
  if (ctx.query.has('create')) {
    const dir = dirOf(ctx, r);
    const branches = await listBranches(dir);
    webPage(
      ctx,
      'Create pull request',
      `<form id="pull-request-create-form" method="post" action="${ctx.state.contextPath}/projects/${r.project_key}/repos/${r.slug}/pull-requests?create">` +
        `<input type="hidden" name="atl_token" value="${ctx.session?.atlToken ?? ''}">` +
        `<select name="fromBranch">${branches.map((b) => `<option>${escapeHtml(b.name)}</option>`).join('')}</select></form>`,
    );
    return;
  }
  const state = (ctx.query.get('state') ?? 'OPEN').toUpperCase();
  const rows = ctx.state.db.prepare('SELECT * FROM pull_requests WHERE repo_id = ? AND (? = \'ALL\' OR state = ?) ORDER BY pr_id DESC').all(r.id, state, state) as PullRequestRow[];
  webPage(ctx, 'Pull requests', `<table id="pull-requests-table">${rows.map((p) => `<tr data-pullrequestid="${p.pr_id}"><td>${escapeHtml(p.title)}</td><td>${p.state}</td></tr>`).join('')}</table>`);
});
on('POST', '/projects/:key/repos/:slug/pull-requests', async (ctx) => {
  const r = repoParam(ctx);
  const form = await readForm(ctx);
  if (ctx.session && form.get('atl_token') !== ctx.session.atlToken) {
    fail(403, 'XSRF check failed: the atl_token is missing or wrong.', 'com.atlassian.bitbucket.AuthorisationException');
  }
  const fromBranch = form.get('fromBranch') ?? '';
  const toBranch = form.get('toBranch') ?? '';
  try {
    const pr = await createPullRequest(ctx, r, { fromRef: fromBranch, toRef: toBranch, title: form.get('title') ?? '', description: form.get('description') ?? '' });
    redirect(ctx.res, `${ctx.state.contextPath}/projects/${r.project_key}/repos/${r.slug}/pull-requests/${pr.pr_id}`);
  } catch (err) {
    const e = err as { status?: number; message: string };
    if (e.status === 409 || e.status === 400 || e.status === 404) {
      webPage(ctx, 'Create pull request', `<div class="aui-message error">${escapeHtml(e.message)}</div>`, e.status === 409 ? 200 : e.status);
      return;
    }
    throw err;
  }
});
on('GET', '/projects/:key/repos/:slug/pull-requests/:id', (ctx) => {
  const r = repoParam(ctx);
  const pr = prRow(ctx, r);
  redirect(ctx.res, `${ctx.state.contextPath}/projects/${r.project_key}/repos/${r.slug}/pull-requests/${pr.pr_id}/overview`);
});
on('GET', '/projects/:key/repos/:slug/pull-requests/:id/:tab', async (ctx) => {
  const r = repoParam(ctx);
  const pr = prRow(ctx, r);
  if (ctx.params.tab === 'merge') {
    await mergeStatus(ctx);
    return;
  }
  if (!['overview', 'diff', 'commits', 'activity'].includes(ctx.params.tab!)) fail(404, `No pull request tab ${ctx.params.tab!.slice(0, 40)}.`, 'com.atlassian.bitbucket.NoSuchEntityException');
  webPage(ctx, pr.title, `<div id="pull-request-${ctx.params.tab}" data-pullrequestid="${pr.pr_id}" data-state="${pr.state}"><h2>${escapeHtml(pr.title)}</h2><p>${escapeHtml(pr.description)}</p></div>`);
});

// ---------------------------------------------------------------- REST: projects, repos, branches

on('GET', '/rest/api/{v}/projects', (ctx) => {
  const rows = ctx.state.db.prepare('SELECT * FROM projects ORDER BY key').all() as ProjectRow[];
  sendJson(ctx.res, 200, page(ctx.query, rows.map((p) => projectJson(ctx, p))));
});
on('POST', '/rest/api/{v}/projects', async (ctx) => {
  requireAdmin(ctx);
  const body = await readJson(ctx);
  const key = typeof body.key === 'string' ? body.key : '';
  if (!/^[A-Za-z][A-Za-z0-9_]{0,127}$/.test(key)) fail(400, 'Project key must start with a letter and contain only letters, digits and underscores.', 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  if (findProject(ctx.state.db, key)) fail(409, `A project with key ${key} already exists.`, 'com.atlassian.bitbucket.project.DuplicateProjectException');
  const name = typeof body.name === 'string' && body.name ? body.name : key;
  const info = ctx.state.db.prepare('INSERT INTO projects (key, name, description) VALUES (?, ?, ?)').run(key.toUpperCase(), name, typeof body.description === 'string' ? body.description : '');
  sendJson(ctx.res, 201, projectJson(ctx, ctx.state.db.prepare('SELECT * FROM projects WHERE id = ?').get(info.lastInsertRowid) as ProjectRow));
});
on('GET', '/rest/api/{v}/projects/:key', (ctx) => sendJson(ctx.res, 200, projectJson(ctx, projectParam(ctx))));
on('GET', '/rest/api/{v}/projects/:key/repos', (ctx) => {
  const p = projectParam(ctx);
  sendJson(ctx.res, 200, page(ctx.query, listRepos(ctx.state.db, p.id).map((r) => repoJson(ctx, r))));
});
on('POST', '/rest/api/{v}/projects/:key/repos', async (ctx) => {
  requireAdmin(ctx);
  const p = projectParam(ctx);
  const body = await readJson(ctx);
  const name = typeof body.name === 'string' ? body.name : '';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name) || name.endsWith('.git')) fail(400, 'Repository name must be letters, digits, ".", "_" or "-".', 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  const slug = name.toLowerCase();
  if (findRepo(ctx.state.db, p.key, slug)) fail(409, `Repository ${p.key}/${slug} already exists.`, 'com.atlassian.bitbucket.repository.DuplicateRepositoryNameException');
  const dir = repoDir(ctx.state.dataDir, p.key, slug);
  await mkdir(dir, { recursive: true });
  await git(['init', '--bare', '--quiet', '--initial-branch=master', dir], { cwd: dir });
  ctx.state.db.prepare('INSERT INTO repos (project_id, slug, name) VALUES (?, ?, ?)').run(p.id, slug, name);
  sendJson(ctx.res, 201, repoJson(ctx, findRepo(ctx.state.db, p.key, slug)!));
});
on('GET', '/rest/api/{v}/projects/:key/repos/:slug', (ctx) => {
  const r = repoParam(ctx);
  touchRecent(ctx, r);
  sendJson(ctx.res, 200, repoJson(ctx, r));
});
on('GET', '/rest/api/{v}/projects/:key/repos/:slug/branches', async (ctx) => {
  const r = repoParam(ctx);
  const dir = dirOf(ctx, r);
  const [branches, head] = await Promise.all([listBranches(dir), defaultBranch(dir)]);
  const filter = ctx.query.get('filterText') ?? '';
  const values = branches
    .filter((b) => b.name.includes(filter))
    .sort((a, b) => (a.name === head ? -1 : b.name === head ? 1 : a.name.localeCompare(b.name)))
    .map((b) => branchJson(b.name, b.commit, b.name === head));
  sendJson(ctx.res, 200, page(ctx.query, values));
});
on('GET', '/rest/api/{v}/projects/:key/repos/:slug/branches/default', async (ctx) => {
  const r = repoParam(ctx);
  const dir = dirOf(ctx, r);
  const head = await defaultBranch(dir);
  const commit = await resolveCommit(dir, `refs/heads/${head}`);
  if (!commit) fail(404, `Repository ${r.project_key}/${r.slug} has no default branch yet.`, 'com.atlassian.bitbucket.repository.NoDefaultBranchException');
  sendJson(ctx.res, 200, branchJson(head, commit, true));
});
on('GET', '/rest/api/{v}/projects/:key/repos/:slug/compare/changes', async (ctx) => {
  const r = repoParam(ctx);
  const dir = dirOf(ctx, r);
  const from = await commitOf(dir, ctx.query.get('from'), 'from');
  const to = await commitOf(dir, ctx.query.get('to'), 'to');
  const base = (await mergeBase(dir, to, from)) ?? to;
  const changes = await diffChanges(dir, base, from);
  sendJson(ctx.res, 200, { fromHash: from, toHash: to, ...page(ctx.query, changes.map(changeJson)) });
});
on('GET', '/rest/api/{v}/projects/:key/repos/:slug/compare/commits', async (ctx) => {
  const r = repoParam(ctx);
  const dir = dirOf(ctx, r);
  const from = await commitOf(dir, ctx.query.get('from'), 'from');
  const to = await commitOf(dir, ctx.query.get('to'), 'to');
  const commits = await logCommits(dir, from, to, 10_000);
  sendJson(ctx.res, 200, page(ctx.query, commits.map(commitJson)));
});
/** The document's `compare/diff{path}`: `{path}` is empty (the whole diff) or carries its leading slash. */
async function compareDiff(ctx: Ctx, path: string | undefined): Promise<void> {
  const r = repoParam(ctx);
  const dir = dirOf(ctx, r);
  const from = await commitOf(dir, ctx.query.get('from'), 'from');
  const to = await commitOf(dir, ctx.query.get('to'), 'to');
  const base = (await mergeBase(dir, to, from)) ?? to;
  const contextLines = parseIntParam(ctx.query.get('contextLines'), 10, -1, 10000);
  const files = await diffFiles(dir, { base, head: from, ...(path ? { path: safeRepoPath(path) } : {}), contextLines });
  sendJson(ctx.res, 200, diffJson(base, from, files, contextLines));
}
on('GET', '/rest/api/{v}/projects/:key/repos/:slug/compare/diff', (ctx) => compareDiff(ctx, undefined));
on('GET', '/rest/api/{v}/projects/:key/repos/:slug/compare/diff/*path', (ctx) => compareDiff(ctx, ctx.params.path));
on('GET', '/rest/api/{v}/projects/:key/repos/:slug/settings/pull-requests', (ctx) => {
  repoParam(ctx);
  sendJson(ctx.res, 200, {
    mergeConfig: { defaultStrategy: { id: 'no-ff', name: 'Merge commit', enabled: true, flag: '--no-ff' }, strategies: [{ id: 'no-ff', name: 'Merge commit', enabled: true, flag: '--no-ff' }], type: 'DEFAULT' },
    requiredAllApprovers: false,
    requiredAllTasksComplete: false,
    requiredApprovers: { count: '0', enabled: false },
    requiredSuccessfulBuilds: { count: '0', enabled: false },
  });
});

function safeRepoPath(p: string): string {
  if (p.startsWith('/') || p.split('/').some((s) => s === '..' || s === '.' || s === '') || p.includes('\0') || p.startsWith(':')) {
    fail(400, `'${p.slice(0, 100)}' is not a valid path in a repository.`, 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  }
  return `:(literal)${p}`;
}

// ---------------------------------------------------------------- REST: pull requests

on('GET', '/rest/api/{v}/projects/:key/repos/:slug/pull-requests', async (ctx) => {
  const r = repoParam(ctx);
  const state = (ctx.query.get('state') ?? 'OPEN').toUpperCase();
  if (!['OPEN', 'MERGED', 'DECLINED', 'ALL'].includes(state)) fail(400, `'${state.slice(0, 20)}' is not a valid pull request state.`, 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  const order = (ctx.query.get('order') ?? 'NEWEST').toUpperCase() === 'OLDEST' ? 'ASC' : 'DESC';
  const rows = ctx.state.db.prepare(`SELECT * FROM pull_requests WHERE repo_id = ? AND (? = 'ALL' OR state = ?) ORDER BY pr_id ${order}`).all(r.id, state, state) as PullRequestRow[];
  const p = page(ctx.query, rows);
  p.values = await Promise.all((p.values as PullRequestRow[]).map((row) => prJson(ctx, r, row)));
  sendJson(ctx.res, 200, p);
});
on('POST', '/rest/api/{v}/projects/:key/repos/:slug/pull-requests', async (ctx) => {
  const r = repoParam(ctx);
  const body = await readJson(ctx);
  const refId = (v: unknown): string => (typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string' ? (v as { id: string }).id : '');
  const pr = await createPullRequest(ctx, r, {
    fromRef: refId(body.fromRef),
    toRef: refId(body.toRef),
    title: typeof body.title === 'string' ? body.title : '',
    description: typeof body.description === 'string' ? body.description : '',
  });
  sendJson(ctx.res, 201, await prJson(ctx, r, pr));
});
on('GET', '/rest/api/{v}/projects/:key/repos/:slug/pull-requests/:id', async (ctx) => {
  const r = repoParam(ctx);
  sendJson(ctx.res, 200, await prJson(ctx, r, prRow(ctx, r)));
});
on('GET', '/rest/api/{v}/projects/:key/repos/:slug/pull-requests/:id/changes', async (ctx) => {
  const r = repoParam(ctx);
  const pr = prRow(ctx, r);
  const { from, base } = await prCommits(ctx, r, pr);
  const changes = await diffChanges(dirOf(ctx, r), base, from);
  sendJson(ctx.res, 200, { fromHash: from, toHash: base, properties: { changeScope: 'ALL' }, ...page(ctx.query, changes.map(changeJson)) });
});
on('GET', '/rest/api/{v}/projects/:key/repos/:slug/pull-requests/:id/commits', async (ctx) => {
  const r = repoParam(ctx);
  const pr = prRow(ctx, r);
  const { from, base } = await prCommits(ctx, r, pr);
  sendJson(ctx.res, 200, page(ctx.query, (await logCommits(dirOf(ctx, r), from, base, 10_000)).map(commitJson)));
});
on('GET', '/rest/api/{v}/projects/:key/repos/:slug/pull-requests/:id/diff/*path', async (ctx) => {
  const r = repoParam(ctx);
  const pr = prRow(ctx, r);
  const { from, base } = await prCommits(ctx, r, pr);
  const contextLines = parseIntParam(ctx.query.get('contextLines'), 10, -1, 10000);
  const files = await diffFiles(dirOf(ctx, r), { base, head: from, path: safeRepoPath(ctx.params.path!), contextLines });
  sendJson(ctx.res, 200, diffJson(base, from, files, contextLines));
});

async function mergeTree(dir: string, to: string, from: string): Promise<{ tree?: string; conflicts: boolean }> {
  const res = await runGit(['merge-tree', '--write-tree', '--no-messages', to, from], { cwd: dir });
  if (res.code === 0) return { tree: res.stdout.toString().split('\n')[0]!.trim(), conflicts: false };
  if (res.code === 1) return { conflicts: true };
  throw new Error(`git merge-tree failed: ${res.stderr.trim()}`);
}

async function mergeStatus(ctx: Ctx): Promise<void> {
  const r = repoParam(ctx);
  const pr = prRow(ctx, r);
  if (pr.state !== 'OPEN') fail(409, `Pull request #${pr.pr_id} is not open.`, 'com.atlassian.bitbucket.pull.IllegalPullRequestStateException');
  const { from, to } = await prCommits(ctx, r, pr);
  const { conflicts } = await mergeTree(dirOf(ctx, r), to, from);
  sendJson(ctx.res, 200, { canMerge: !conflicts, conflicted: conflicts, outcome: conflicts ? 'CONFLICTED' : 'CLEAN', vetoes: [] });
}
on('GET', '/rest/api/{v}/projects/:key/repos/:slug/pull-requests/:id/merge', mergeStatus);

on('POST', '/rest/api/{v}/projects/:key/repos/:slug/pull-requests/:id/merge', async (ctx) => {
  const r = repoParam(ctx);
  const body = await readJson(ctx);
  const dir = dirOf(ctx, r);
  const merged = await withRepoLock(ctx, r.id, async () => {
    const pr = prRow(ctx, r);
    if (pr.state !== 'OPEN') fail(409, `Pull request #${pr.pr_id} is not open.`, 'com.atlassian.bitbucket.pull.IllegalPullRequestStateException');
    checkVersion(ctx, pr);
    const from = await resolveCommit(dir, pr.from_ref);
    const to = await resolveCommit(dir, pr.to_ref);
    if (!from || !to) fail(409, `The source or target branch of pull request #${pr.pr_id} no longer exists.`, 'com.atlassian.bitbucket.pull.PullRequestMergeVetoedException', { conflicted: false, vetoes: [] });
    const { tree, conflicts } = await mergeTree(dir, to, from);
    if (conflicts || !tree) {
      fail(409, `Pull request #${pr.pr_id} can not be merged: the pull request has conflicts.`, 'com.atlassian.bitbucket.pull.PullRequestMergeVetoedException', {
        conflicted: true,
        vetoes: [{ summaryMessage: 'Merge conflicts', detailedMessage: 'The pull request has conflicts that must be resolved before it can be merged.' }],
      });
    }
    const user = ctx.user!;
    const extra = typeof body.message === 'string' && body.message ? `\n\n${body.message}` : '';
    const message = `Merge pull request #${pr.pr_id} in ${r.project_key}/${r.slug} from ${branchName(pr.from_ref)} to ${branchName(pr.to_ref)}\n\n* commit '${from}':${extra}\n`;
    const env = { GIT_AUTHOR_NAME: user.display_name, GIT_AUTHOR_EMAIL: user.email, GIT_COMMITTER_NAME: user.display_name, GIT_COMMITTER_EMAIL: user.email };
    const commit = (await git(['commit-tree', tree, '-p', to, '-p', from, '-F', '-'], { cwd: dir, input: message, env })).trim();
    const upd = await runGit(['update-ref', '-m', `pull request #${pr.pr_id} merged`, pr.to_ref, commit, to], { cwd: dir });
    if (upd.code !== 0) fail(409, `The target branch of pull request #${pr.pr_id} moved while merging; try again.`, 'com.atlassian.bitbucket.pull.PullRequestOutOfDateException');
    ctx.state.db
      .prepare("UPDATE pull_requests SET state = 'MERGED', version = version + 1, updated = ?, merge_commit = ?, from_commit = ?, to_commit = ? WHERE id = ?")
      .run(Date.now(), commit, from, to, pr.id);
    addAudit(ctx.state.db, { action: 'PullRequestMergedEvent', repoId: r.id, projectId: r.project_id, userId: user.id, details: `#${pr.pr_id}` });
    return prRow(ctx, r);
  });
  sendJson(ctx.res, 200, await prJson(ctx, r, merged));
});
on('POST', '/rest/api/{v}/projects/:key/repos/:slug/pull-requests/:id/decline', async (ctx) => {
  const r = repoParam(ctx);
  await readJson(ctx);
  const pr = prRow(ctx, r);
  if (pr.state !== 'OPEN') fail(409, `Pull request #${pr.pr_id} is not open.`, 'com.atlassian.bitbucket.pull.IllegalPullRequestStateException');
  checkVersion(ctx, pr);
  const { from, to } = await prCommits(ctx, r, pr);
  ctx.state.db.prepare("UPDATE pull_requests SET state = 'DECLINED', version = version + 1, updated = ?, from_commit = ?, to_commit = ? WHERE id = ?").run(Date.now(), from, to, pr.id);
  addAudit(ctx.state.db, { action: 'PullRequestDeclinedEvent', repoId: r.id, projectId: r.project_id, userId: ctx.user!.id, details: `#${pr.pr_id}` });
  sendJson(ctx.res, 200, await prJson(ctx, r, prRow(ctx, r)));
});
on('POST', '/rest/pull-request-source-branch-deletion/1.0/projects/:key/repos/:slug/pull-requests/:id', async (ctx) => {
  const r = repoParam(ctx);
  ctx.req.resume();
  const pr = prRow(ctx, r);
  const dryRun = (ctx.query.get('dryRun') ?? 'false') === 'true';
  const dir = dirOf(ctx, r);
  const head = await defaultBranch(dir);
  if (branchName(pr.from_ref) === head) fail(409, 'The default branch can not be deleted.', 'com.atlassian.bitbucket.repository.ref.RefDeletionVetoedException');
  if (!dryRun) {
    if (pr.state !== 'MERGED') fail(409, `Pull request #${pr.pr_id} is not merged, so its source branch is kept.`, 'com.atlassian.bitbucket.pull.IllegalPullRequestStateException');
    await withRepoLock(ctx, r.id, () => runGit(['update-ref', '-d', pr.from_ref], { cwd: dir }));
  }
  ctx.res.writeHead(204);
  ctx.res.end();
});
on('GET', '/rest/branch-utils/{v}/projects/:key/repos/:slug/automerge/path', async (ctx) => {
  const r = repoParam(ctx);
  const ref = ctx.query.get('branchRefId');
  await commitOf(dirOf(ctx, r), ref, 'branchRefId');
  sendJson(ctx.res, 200, { path: [] });
});
on('GET', '/rest/jira/{v}/projects/:key/repos/:slug/pull-requests/:id/issues', (ctx) => {
  prRow(ctx, repoParam(ctx));
  sendJson(ctx.res, 200, []);
});
on('GET', '/rest/build-status/{v}/commits/stats/:commit', (ctx) => {
  if (!/^[0-9a-f]{4,64}$/i.test(ctx.params.commit!)) fail(400, `'${ctx.params.commit!.slice(0, 80)}' is not a commit id.`, 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  sendJson(ctx.res, 200, { successful: 0, inProgress: 0, failed: 0, cancelled: 0, unknown: 0 });
});
on('GET', '/rest/default-reviewers/{v}/projects/:key/repos/:slug/reviewers', (ctx) => {
  repoParam(ctx);
  sendJson(ctx.res, 200, []);
});

// ---------------------------------------------------------------- REST: dashboard, profile, users

on('GET', '/rest/api/{v}/inbox/pull-requests/count', (ctx) => {
  const row = ctx.state.db.prepare("SELECT COUNT(*) AS n FROM pull_requests WHERE state = 'OPEN' AND author_id = ?").get(ctx.user!.id) as { n: number };
  sendJson(ctx.res, 200, { count: row.n });
});
on('GET', '/rest/api/{v}/inbox/pull-requests', async (ctx) => {
  const rows = ctx.state.db.prepare("SELECT * FROM pull_requests WHERE state = 'OPEN' AND author_id = ? ORDER BY updated DESC").all(ctx.user!.id) as PullRequestRow[];
  const p = page(ctx.query, rows);
  p.values = await Promise.all((p.values as PullRequestRow[]).map((row) => prJson(ctx, findRepoById(ctx.state.db, row.repo_id)!, row)));
  sendJson(ctx.res, 200, p);
});
on('GET', '/rest/api/{v}/profile/recent/repos', (ctx) => {
  const rows = ctx.state.db.prepare('SELECT repo_id FROM recent_repos WHERE user_id = ? ORDER BY ts DESC').all(ctx.user!.id) as { repo_id: number }[];
  const repos = listRepos(ctx.state.db);
  const byId = new Map(repos.map((r) => [r.id, r]));
  sendJson(ctx.res, 200, page(ctx.query, rows.map((x) => byId.get(x.repo_id)).filter((r): r is RepoRow => !!r).map((r) => repoJson(ctx, r))));
});
on('GET', '/rest/api/{v}/dashboard/pull-request-suggestions', (ctx) => {
  parseIntParam(ctx.query.get('changesSince'), 0, 0, Number.MAX_SAFE_INTEGER);
  sendJson(ctx.res, 200, page(ctx.query, [], { defaultLimit: 3 }));
});
on('GET', '/rest/api/{v}/users', (ctx) => {
  const filter = ctx.query.get('filter') ?? '';
  const rows = ctx.state.db.prepare("SELECT * FROM users WHERE active = 1 AND (name LIKE ? ESCAPE '\\' OR display_name LIKE ? ESCAPE '\\') ORDER BY name").all(...Array(2).fill(`%${filter.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)) as UserRow[];
  sendJson(ctx.res, 200, page(ctx.query, rows.map((u) => userJson(ctx, u))));
});
on('GET', '/rest/api/{v}/users/:name', (ctx) => {
  const u = findUser(ctx.state.db, ctx.params.name!);
  if (!u) fail(404, `User ${ctx.params.name!.slice(0, 100)} does not exist.`, 'com.atlassian.bitbucket.user.NoSuchUserException');
  sendJson(ctx.res, 200, userJson(ctx, u));
});
on('GET', '/rest/audit/1.0/projects/:key/repos/:slug/events', (ctx) => {
  const r = repoParam(ctx);
  const rows = ctx.state.db.prepare('SELECT * FROM audit_events WHERE repo_id = ? ORDER BY id DESC').all(r.id) as { action: string; ts: number; user_id: number | null; details: string }[];
  const users = new Map((ctx.state.db.prepare('SELECT * FROM users').all() as UserRow[]).map((u) => [u.id, u]));
  sendJson(
    ctx.res,
    200,
    page(
      ctx.query,
      rows.map((e) => ({ action: e.action, timestamp: e.ts, details: e.details, user: e.user_id && users.get(e.user_id) ? userJson(ctx, users.get(e.user_id)!) : null, repository: repoJson(ctx, r) })),
    ),
  );
});

interface AuditRow {
  id: number;
  repo_id: number | null;
  project_id: number | null;
  user_id: number | null;
  action: string;
  details: string;
  ts: number;
}

/** `affectedObject=TYPE,id[;TYPE,id…]` of the auditing API; 400 when an entry is not `TYPE,<integer>`. */
function affectedFilter(raw: string | null): { type: string; id: number }[] {
  if (!raw) return [];
  return raw.split(';').map((entry) => {
    const m = /^([A-Za-z_]+),(\d{1,15})$/.exec(entry.trim());
    if (!m) fail(400, `'${entry.slice(0, 80)}' is not an affected object (TYPE,id).`, 'com.atlassian.audit.rest.exception.InvalidParameterException');
    return { type: m[1]!.toUpperCase(), id: Number(m[2]) };
  });
}

function isoParam(ctx: Ctx, name: string): number | undefined {
  const raw = ctx.query.get(name);
  if (raw === null || raw === '') return undefined;
  const t = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw) || Number.isNaN(t)) fail(400, `'${raw.slice(0, 40)}' is not an ISO 8601 timestamp (${name}).`, 'com.atlassian.audit.rest.exception.InvalidParameterException');
  return t;
}

/** The same query with the next `offset`, as an absolute URL. */
function nextLink(ctx: Ctx, offset: number): string {
  const q = new URLSearchParams(ctx.query);
  q.set('offset', String(offset));
  return `${ctx.state.baseUrl}/rest/auditing/1.0/events?${q}`;
}

/** One event in the auditing API's shape (Atlassian's `AuditEntity` JSON). */
function auditEntity(ctx: Ctx, e: AuditRow, users: Map<number, UserRow>): Record<string, unknown> {
  const u = e.user_id === null ? undefined : users.get(e.user_id);
  const repo = e.repo_id === null ? undefined : findRepoById(ctx.state.db, e.repo_id);
  const affected: Record<string, unknown>[] = [];
  if (repo) {
    affected.push({ id: String(repo.id), name: repo.slug, type: 'REPOSITORY', uri: `${ctx.state.baseUrl}/projects/${repo.project_key}/repos/${repo.slug}` });
    affected.push({ id: String(repo.project_id), name: repo.project_key, type: 'PROJECT', uri: `${ctx.state.baseUrl}/projects/${repo.project_key}` });
  }
  const action = e.action.replace(/Event$/, '').replace(/([a-z])([A-Z])/g, '$1 $2');
  return {
    timestamp: new Date(e.ts).toISOString(),
    author: u
      ? { id: String(u.id), name: u.name, type: 'user', uri: `${ctx.state.baseUrl}/users/${encodeURIComponent(u.name.toLowerCase())}`, avatarUri: '' }
      : { id: '-1', name: 'System', type: 'system' },
    type: { category: 'Pull requests', categoryI18nKey: 'bitbucket.service.audit.category.pullrequests', action, actionI18nKey: e.action, area: 'LOCAL_CONFIG_AND_ADMINISTRATION', level: 'BASE' },
    affectedObjects: affected,
    changedValues: [],
    extraAttributes: e.details ? [{ name: 'Pull request', nameI18nKey: 'bitbucket.audit.attribute.pullrequest', value: e.details }] : [],
    source: '127.0.0.1',
    system: ctx.state.baseUrl,
    method: 'Browser',
  };
}

/**
 * The cross-product auditing API (Bitbucket ≥ 8.0, not in the REST document): newest first, `offset`/`limit`
 * paging, `from`/`to` (ISO 8601) and `affectedObject` filters; an event matches when it affects every listed object.
 */
on('GET', '/rest/auditing/1.0/events', (ctx) => {
  const offset = parseIntParam(ctx.query.get('offset'), 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = parseIntParam(ctx.query.get('limit'), 200, 1, 10000);
  const from = isoParam(ctx, 'from');
  const to = isoParam(ctx, 'to');
  const objects = affectedFilter(ctx.query.get('affectedObject'));
  const rows = (ctx.state.db.prepare('SELECT * FROM audit_events ORDER BY ts DESC, id DESC').all() as AuditRow[]).filter(
    (e) =>
      (from === undefined || e.ts >= from) &&
      (to === undefined || e.ts <= to) &&
      objects.every((o) => (o.type === 'REPOSITORY' ? e.repo_id === o.id : o.type === 'PROJECT' ? e.project_id === o.id : false)),
  );
  const users = new Map((ctx.state.db.prepare('SELECT * FROM users').all() as UserRow[]).map((u) => [u.id, u]));
  const slice = rows.slice(offset, offset + limit);
  const last = slice[slice.length - 1];
  const more = offset + slice.length < rows.length;
  sendJson(ctx.res, 200, {
    entities: slice.map((e) => auditEntity(ctx, e, users)),
    pagingInfo: { offset, limit, size: slice.length, ...(more && last ? { nextPageCursor: `${new Date(last.ts).toISOString()},${last.id}`, nextPageLink: nextLink(ctx, offset + slice.length) } : {}) },
  });
});

// ---------------------------------------------------------------- REST: admin

on('GET', '/rest/api/{v}/admin/users', (ctx) => {
  requireAdmin(ctx);
  const filter = ctx.query.get('filter') ?? '';
  const rows = ctx.state.db.prepare("SELECT * FROM users WHERE name LIKE ? ESCAPE '\\' ORDER BY name").all(`%${filter.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) as UserRow[];
  sendJson(ctx.res, 200, page(ctx.query, rows.map((u) => ({ ...userJson(ctx, u), directoryName: 'Bitbucket Internal Directory', deletable: !u.is_admin, mutableDetails: true, mutableGroups: true }))));
});
on('POST', '/rest/api/{v}/admin/users', async (ctx) => {
  requireAdmin(ctx);
  const body = ctx.req.headers['content-type']?.includes('json') ? await readJson(ctx) : (ctx.req.resume(), {});
  const get = (k: string): string => (typeof body[k] === 'string' ? (body[k] as string) : (ctx.query.get(k) ?? ''));
  const name = get('name');
  const password = get('password');
  if (!/^[A-Za-z0-9._@-]{1,255}$/.test(name)) fail(400, 'A user name is required and may contain only letters, digits, ".", "_", "@" and "-".', 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  if (!password) fail(400, 'A password is required.', 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  if (findUser(ctx.state.db, name)) fail(409, `A user with name ${name} already exists.`, 'com.atlassian.bitbucket.user.DuplicateUserException');
  createUser(ctx.state.db, { name, password, displayName: get('displayName') || name, email: get('emailAddress') || `${name}@example.com` });
  ctx.res.writeHead(204);
  ctx.res.end();
});
on('DELETE', '/rest/api/{v}/admin/users', (ctx) => {
  requireAdmin(ctx);
  const u = findUser(ctx.state.db, ctx.query.get('name') ?? '');
  if (!u) fail(404, `User ${(ctx.query.get('name') ?? '').slice(0, 100)} does not exist.`, 'com.atlassian.bitbucket.user.NoSuchUserException');
  if (u.is_admin) fail(409, 'The admin user can not be deleted.', 'com.atlassian.bitbucket.user.UserErasureException');
  ctx.state.db.prepare('UPDATE users SET active = 0 WHERE id = ?').run(u.id);
  ctx.state.authCache.clear();
  sendJson(ctx.res, 200, userJson(ctx, { ...u, active: 0 }));
});
on('PUT', '/rest/api/{v}/admin/users/credentials', async (ctx) => {
  requireAdmin(ctx);
  const body = await readJson(ctx);
  const u = findUser(ctx.state.db, typeof body.name === 'string' ? body.name : '');
  if (!u) fail(404, 'No such user.', 'com.atlassian.bitbucket.user.NoSuchUserException');
  if (typeof body.password !== 'string' || !body.password) fail(400, 'A password is required.', 'com.atlassian.bitbucket.validation.ArgumentValidationException');
  ctx.state.db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(hashPassword(body.password), u.id);
  ctx.state.authCache.clear();
  ctx.res.writeHead(204);
  ctx.res.end();
});

const GLOBAL_PERMS = ['LICENSED_USER', 'PROJECT_CREATE', 'ADMIN', 'SYS_ADMIN'];
const PROJECT_PERMS = ['PROJECT_READ', 'PROJECT_WRITE', 'PROJECT_ADMIN'];
for (const [pattern, scopeOf, allowed] of [
  ['/rest/api/{v}/admin/permissions/groups', () => 'global', GLOBAL_PERMS],
  ['/rest/api/{v}/projects/:key/permissions/groups', (ctx: Ctx) => `project:${projectParam(ctx).id}`, PROJECT_PERMS],
] as const) {
  on('GET', pattern, (ctx) => {
    requireAdmin(ctx);
    const rows = ctx.state.db.prepare('SELECT group_name, permission FROM group_permissions WHERE scope = ? ORDER BY group_name').all(scopeOf(ctx)) as { group_name: string; permission: string }[];
    sendJson(ctx.res, 200, page(ctx.query, rows.map((g) => ({ group: { name: g.group_name }, permission: g.permission }))));
  });
  on('PUT', pattern, (ctx) => {
    requireAdmin(ctx);
    ctx.req.resume();
    const permission = ctx.query.get('permission') ?? '';
    const names = ctx.query.getAll('name');
    if (!(allowed as readonly string[]).includes(permission)) fail(400, `'${permission.slice(0, 40)}' is not one of ${allowed.join(', ')}.`, 'com.atlassian.bitbucket.validation.ArgumentValidationException');
    if (names.length === 0 || names.some((n) => !/^[\w.@ -]{1,255}$/.test(n))) fail(400, 'At least one valid group name is required.', 'com.atlassian.bitbucket.validation.ArgumentValidationException');
    const scope = scopeOf(ctx);
    const stmt = ctx.state.db.prepare('INSERT INTO group_permissions (scope, group_name, permission) VALUES (?, ?, ?) ON CONFLICT(scope, group_name) DO UPDATE SET permission = excluded.permission');
    for (const n of names) stmt.run(scope, n, permission);
    ctx.res.writeHead(204);
    ctx.res.end();
  });
  on('DELETE', pattern, (ctx) => {
    requireAdmin(ctx);
    ctx.state.db.prepare('DELETE FROM group_permissions WHERE scope = ? AND group_name = ?').run(scopeOf(ctx), ctx.query.get('name') ?? '');
    ctx.res.writeHead(204);
    ctx.res.end();
  });
}

// ---------------------------------------------------------------- REST: SSH keys

function keyOwner(ctx: Ctx): UserRow {
  const name = ctx.query.get('user');
  if (!name || name.toLowerCase() === ctx.user!.name.toLowerCase()) return ctx.user!;
  requireAdmin(ctx);
  const u = findUser(ctx.state.db, name);
  if (!u) fail(404, `User ${name.slice(0, 100)} does not exist.`, 'com.atlassian.bitbucket.user.NoSuchUserException');
  return u;
}
on('GET', '/rest/ssh/{v}/keys', (ctx) => {
  const u = keyOwner(ctx);
  const rows = ctx.state.db.prepare('SELECT id, text, label FROM ssh_keys WHERE user_id = ? ORDER BY id').all(u.id);
  sendJson(ctx.res, 200, page(ctx.query, rows));
});
on('POST', '/rest/ssh/{v}/keys', async (ctx) => {
  const u = keyOwner(ctx);
  const body = await readJson(ctx);
  const text = typeof body.text === 'string' ? body.text.trim() : '';
  const parsed = parsePublicKey(text);
  if (!parsed) fail(400, 'The SSH key is not a valid RSA/DSA/ECDSA/Ed25519 public key.', 'com.atlassian.bitbucket.ssh.InvalidSshKeyException');
  if (ctx.state.db.prepare('SELECT 1 FROM ssh_keys WHERE key_data = ?').get(parsed.data)) fail(409, 'This SSH key is already registered.', 'com.atlassian.bitbucket.ssh.DuplicateSshKeyException');
  const label = typeof body.label === 'string' ? body.label.slice(0, 255) : '';
  const info = ctx.state.db.prepare('INSERT INTO ssh_keys (user_id, text, key_data, label) VALUES (?, ?, ?, ?)').run(u.id, text, parsed.data, label);
  sendJson(ctx.res, 201, { id: Number(info.lastInsertRowid), text, label });
});
on('DELETE', '/rest/ssh/{v}/keys/:id', (ctx) => {
  const row = ctx.state.db.prepare('SELECT * FROM ssh_keys WHERE id = ?').get(Number(ctx.params.id) || -1) as { id: number; user_id: number } | undefined;
  if (!row) fail(404, 'No such SSH key.', 'com.atlassian.bitbucket.ssh.NoSuchSshKeyException');
  if (row.user_id !== ctx.user!.id) requireAdmin(ctx);
  ctx.state.db.prepare('DELETE FROM ssh_keys WHERE id = ?').run(row.id);
  ctx.res.writeHead(204);
  ctx.res.end();
});

// ---------------------------------------------------------------- e3: state restore

on('POST', '/rest/e3/1.0/state/restore', async (ctx) => {
  requireAdmin(ctx);
  ctx.req.resume();
  const started = Date.now();
  await restoreLive(ctx.state);
  sendJson(ctx.res, 200, { restored: true, durationMs: Date.now() - started });
});
