import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { User } from '../data/provider.js';
import { defineScript, type Script, type ScriptContext } from '../script/api.js';
import { REST, absolute, bitbucketMajor, exists, identity, json, login, logout, pickOne, randomRepoViaRest, randomWord, randomWords, randomlyEditFiles, repoPath, tempDir, type Page } from './helpers.js';

const RP = `${REST}/projects/{key}/repos/{slug}`;

/** E³ web/Status: `GET /status`, success iff `state` is RUNNING; then 500 ms think time. */
const status = defineScript({
  name: 'bitbucket.web.Status',
  async run(ctx: ScriptContext) {
    const res = await ctx.http.get('/status', { accept: 'json' });
    ctx.check(res.json<{ state?: string }>().state === 'RUNNING', 'status is not RUNNING');
    await ctx.sleep(500);
  },
});

/** E³ web/Dashboard; `dashboard(ctx, false)` skips login and logout (persona use). */
export async function dashboard(ctx: ScriptContext, withLogin: boolean): Promise<void> {
  if (withLogin) await login(ctx, ctx.httpUser());
  await ctx.http.get('/dashboard');
  const count = await ctx.http.get(`${REST}/inbox/pull-requests/count`, { accept: 'json' });
  ctx.check(typeof count.json<{ count?: number }>().count === 'number', 'inbox count has no "count"');
  await ctx.http.get(`${REST}/profile/recent/repos`, { accept: 'json' });
  await ctx.http.get(`${REST}/dashboard/pull-request-suggestions`, { accept: 'json', query: { changesSince: 86400, limit: 3, avatarSize: 16 } });
  if (withLogin) await logout(ctx);
}

const dashboardScript = defineScript({ name: 'bitbucket.web.Dashboard', run: (ctx: ScriptContext) => dashboard(ctx, true) });

/** E³ web/BrowseProjectsAndRepositories (fails a check instead of crashing when nothing is found). */
const browse = defineScript({
  name: 'bitbucket.web.BrowseProjectsAndRepositories',
  async run(ctx: ScriptContext) {
    await login(ctx, ctx.httpUser());
    await ctx.http.get('/projects');
    const projects = json<Page<{ key: string }>>(await ctx.http.get('/rest/api/1.0/projects', { accept: 'json' })).values;
    let branchPages = 0;
    for (let i = 0; i < 4 && projects.length > 0; i++) {
      const p = pickOne(ctx, projects)!;
      await ctx.http.get(`/projects/${p.key}/repos`, { op: 'GET /projects/{key}/repos' });
      const repos = json<Page<{ slug: string }>>(
        await ctx.http.get(`/rest/api/1.0/projects/${p.key}/repos`, { accept: 'json', op: 'GET /rest/api/1.0/projects/{key}/repos' }),
      ).values;
      for (let j = 0; j < 2 && repos.length > 0; j++) {
        const r = pickOne(ctx, repos)!;
        await ctx.http.get(`/projects/${p.key}/repos/${r.slug}/branches`, { op: 'GET /projects/{key}/repos/{slug}/branches' });
        await ctx.http.get(`/rest/api/1.0/projects/${p.key}/repos/${r.slug}/branches`, {
          accept: 'json',
          op: 'GET /rest/api/1.0/projects/{key}/repos/{slug}/branches',
        });
        branchPages++;
      }
    }
    ctx.check(branchPages > 0, 'no branch page was reached');
    await ctx.sleep(500);
  },
});

/** E³ web/ListPullRequests. */
const listPullRequests = defineScript({
  name: 'bitbucket.web.ListPullRequests',
  async run(ctx: ScriptContext) {
    await login(ctx, ctx.httpUser());
    const r = await randomRepoViaRest(ctx);
    await ctx.http.get(`${REST}/projects/${r.project}/repos/${r.slug}/pull-requests`, {
      accept: 'json',
      query: { start: 0, limit: 50 },
      op: `GET ${RP}/pull-requests`,
    });
  },
});

/**
 * E³ web/Audit (description ListAuditEvents): the audit events of a random repository. Bitbucket 8.0 removed
 * E³'s per-repository endpoint (BSERV-13610), so by default this asks the cross-product auditing API for the
 * first page of events whose affected object is the repository (what the repository's audit log page shows);
 * an instance whose `version` is below 8.0 gets E³'s `/rest/audit/1.0/…/events` call.
 */
const audit = defineScript({
  name: 'bitbucket.web.Audit',
  async run(ctx: ScriptContext) {
    await login(ctx, ctx.httpUser());
    const r = await randomRepoViaRest(ctx);
    if (bitbucketMajor(ctx) < 8) {
      await ctx.http.get(`/rest/audit/1.0/projects/${r.project}/repos/${r.slug}/events`, {
        accept: 'json',
        op: 'GET /rest/audit/1.0/projects/{key}/repos/{slug}/events',
      });
      return;
    }
    const id = r.id ?? json<{ id: number }>(await ctx.http.get(`${REST}/projects/${r.project}/repos/${r.slug}`, { accept: 'json', op: `GET ${RP}` })).id;
    const page = json<{ entities?: unknown }>(
      await ctx.http.get('/rest/auditing/1.0/events', { accept: 'json', query: { offset: 0, limit: 50, affectedObject: `REPOSITORY,${id}` } }),
    );
    ctx.check(Array.isArray(page.entities), 'the auditing API answered without "entities"');
  },
});

/** E³ web/ListUsers: as the admin (instance RunConfig.admin_password). */
const listUsers = defineScript({
  name: 'bitbucket.web.ListUsers',
  async run(ctx: ScriptContext) {
    ctx.check(ctx.data.adminPassword !== undefined, 'the instance has no RunConfig.admin_password');
    await login(ctx, { username: ctx.data.adminUser, password: ctx.data.adminPassword });
    await ctx.http.get(`${REST}/users`, { accept: 'json' });
  },
});

interface Change {
  path: { toString: string };
  type?: string;
}

/** E³ web/ViewPullRequest, fixed: the diff call gets the path of a changed file (E³ raised a TypeError). */
const viewPullRequest = defineScript({
  name: 'bitbucket.web.ViewPullRequest',
  async run(ctx: ScriptContext) {
    await login(ctx, ctx.httpUser());
    let found: { project: string; slug: string; id: number } | undefined;
    for (let attempt = 0; attempt < 10 && !found; attempt++) {
      const r = await randomRepoViaRest(ctx);
      const prs = json<Page<{ id: number }>>(
        await ctx.http.get(`${REST}/projects/${r.project}/repos/${r.slug}/pull-requests`, {
          accept: 'json',
          query: { start: 0, limit: 1000 },
          op: `GET ${RP}/pull-requests`,
        }),
      ).values;
      const pr = pickOne(ctx, prs);
      if (pr) found = { project: r.project, slug: r.slug, id: pr.id };
    }
    ctx.check(found, 'no pull request found in 10 random repositories');
    const base = `/projects/${found.project}/repos/${found.slug}/pull-requests/${found.id}`;
    await ctx.http.get(base, { op: 'GET /projects/{key}/repos/{slug}/pull-requests/{id}' });
    const changes = json<Page<Change>>(
      await ctx.http.get(`${REST}${base}/changes`, { accept: 'json', query: { start: 0, limit: 1000 }, op: `GET ${RP}/pull-requests/{id}/changes` }),
    ).values;
    const change = pickOne(ctx, changes);
    if (change) {
      await ctx.http.get(`${REST}${base}/diff/${encodePath(change.path.toString)}`, {
        accept: 'json',
        query: { avatarSize: 64, markup: 'true', whitespace: '', contextLines: -1, withComments: 'true', autoSrcPath: 'undefined' },
        op: `GET ${RP}/pull-requests/{id}/diff/{path}`,
      });
    }
  },
});

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

interface BranchJson {
  id: string;
  displayId: string;
  latestCommit: string;
}

/**
 * The per-worker repository cache (E³ RepositoryCache): `<sharedDir>/repo-cache/<base64url(url)>`, filled
 * by cloning into a temp folder and renaming. Returns the cache path.
 */
async function cachedRepo(ctx: ScriptContext, url: string, user: User): Promise<string> {
  const cache = join(ctx.sharedDir, 'repo-cache', Buffer.from(url).toString('base64url'));
  if (await exists(join(cache, '.git'))) return cache;
  const { mkdir, mkdtemp } = await import('node:fs/promises');
  await mkdir(join(ctx.sharedDir, 'repo-cache'), { recursive: true });
  const tmp = await mkdtemp(join(ctx.sharedDir, 'repo-cache', 'tmp-'));
  await ctx.git(['clone', '--quiet', url, tmp], { as: identity(user, 'http'), op: 'git clone (cache)' });
  try {
    await rename(tmp, cache);
  } catch {
    await rm(tmp, { recursive: true, force: true });
  }
  return cache;
}

/**
 * E³ web/PullRequestWorkflow: clone (via the worker cache), edit, push a feature branch, view the compare
 * page data, create the PR through the web form, view its diffs, then merge it (decline when the merge fails).
 */
export async function pullRequestWorkflow(ctx: ScriptContext, withLogin: boolean, given?: User): Promise<void> {
  const user = given ?? ctx.httpUser();
  if (withLogin) await login(ctx, user);
  const as = identity(user, 'http');

  let repo = ctx.data.repo(ctx.random);
  for (let attempt = 0; ; attempt++) {
    const page = await ctx.http.get(`${repoPath(repo)}/browse`, { op: 'GET /projects/{key}/repos/{slug}/browse' });
    if (!page.body.includes('empty-repository-instructions')) break;
    ctx.check(attempt < 10, 'only empty repositories found');
    repo = ctx.data.repo(ctx.random);
  }
  const target = ctx.data.defaultBranch(repo);
  const url = ctx.data.httpCloneUrl(repo);
  const cache = await cachedRepo(ctx, url, user);
  const dir = await tempDir(ctx, 'pr-');
  try {
    await ctx.git(['clone', '--quiet', cache, dir], { as, op: 'git clone (local)' });
    await ctx.git(['config', '--local', 'credential.helper', ''], { cwd: dir, as });
    await ctx.git(['remote', 'set-url', 'origin', url], { cwd: dir, as });
    for (let i = 0; i < 2; i++) {
      await ctx.git(['checkout', '--quiet', target], { cwd: dir, as });
      await ctx.git(['pull', '--quiet', '--no-rebase', 'origin', target], { cwd: dir, as });
    }
    const feature = `feature/${randomWord(ctx)}`;
    await ctx.git(['checkout', '--quiet', '-b', feature], { cwd: dir, as });
    await randomlyEditFiles(ctx, dir);
    await ctx.git(['add', '-A', '.'], { cwd: dir, as });
    await ctx.git(['commit', '--quiet', '-m', `Some changes at: ${new Date().toISOString()}`], { cwd: dir, as });
    await ctx.git(['push', '--quiet', '-u', 'origin', feature], { cwd: dir, as });

    const k = repo.project;
    const s = repo.slug;
    const restRepo = `${REST}/projects/${k}/repos/${s}`;
    const branches = json<Page<BranchJson>>(
      await ctx.http.get(`/rest/api/1.0/projects/${k}/repos/${s}/branches`, {
        accept: 'json',
        query: { filterText: feature },
        op: 'GET /rest/api/1.0/projects/{key}/repos/{slug}/branches',
      }),
    ).values;
    const src = branches.find((b) => b.id === `refs/heads/${feature}` || b.displayId === feature);
    ctx.check(src, `pushed branch ${feature} is not listed by the server`);
    const tgt = json<BranchJson>(
      await ctx.http.get(`/rest/api/1.0/projects/${k}/repos/${s}/branches/default`, { accept: 'json', op: 'GET /rest/api/1.0/projects/{key}/repos/{slug}/branches/default' }),
    );
    const repoId = json<{ id: number }>(await ctx.http.get(restRepo, { accept: 'json', op: `GET ${RP}` })).id;

    // view_diff
    await ctx.http.get(`${repoPath(repo)}/compare/diff`, {
      query: { targetBranch: tgt.id, sourceBranch: src.id, targetRepoId: repoId },
      op: 'GET /projects/{key}/repos/{slug}/compare/diff',
    });
    for (const commit of [tgt.latestCommit, src.latestCommit]) {
      await ctx.http.get(`/rest/build-status/latest/commits/stats/${commit}`, { accept: 'json', op: 'GET /rest/build-status/latest/commits/stats/{commit}' });
    }
    const changes = json<Page<Change>>(
      await ctx.http.get(`${restRepo}/compare/changes`, {
        accept: 'json',
        query: { start: 0, limit: 1000, from: src.id, to: tgt.id, fromRepo: repoId },
        op: `GET ${RP}/compare/changes`,
      }),
    ).values;
    await ctx.http.get(`${restRepo}/compare/commits`, {
      accept: 'json',
      query: { start: 0, limit: 10, from: src.id, to: tgt.id, secondaryRepositoryId: repoId },
      op: `GET ${RP}/compare/commits`,
    });
    await ctx.http.get(`/rest/default-reviewers/latest/projects/${k}/repos/${s}/reviewers`, {
      accept: 'json',
      query: { sourceRefId: src.id, targetRefId: tgt.id, sourceRepoId: repoId, targetRepoId: repoId },
      op: 'GET /rest/default-reviewers/latest/projects/{key}/repos/{slug}/reviewers',
    });
    await ctx.http.get(`${REST}/inbox/pull-requests/count`, { accept: 'json' });
    const firstFile = changes.find((c) => (c.type ?? 'FILE') !== 'DIRECTORY') ?? changes[0];
    if (firstFile) {
      // the document's template is `compare/diff{path}`: {path} carries its own leading slash
      await ctx.http.get(`${restRepo}/compare/diff/${encodePath(firstFile.path.toString)}`, {
        accept: 'json',
        query: { from: src.id, to: tgt.id, avatarSize: 64, markup: 'true', whitespace: '', contextLines: -1, withComments: 'false', autoSrcPath: 'undefined' },
        op: `GET ${RP}/compare/diff{path}`,
      });
    }

    // create_pull_request through the web form
    const form = await ctx.http.get(`${repoPath(repo)}/pull-requests`, {
      query: { create: '', sourceBranch: src.id, targetBranch: tgt.id, targetRepoId: repoId },
      op: 'GET /projects/{key}/repos/{slug}/pull-requests?create',
    });
    const token = /name="atl_token"\s+value="([^"]*)"/.exec(form.body)?.[1] ?? /value="([^"]*)"\s+name="atl_token"/.exec(form.body)?.[1];
    ctx.check(token !== undefined, 'the create page has no atl_token');
    const created = await ctx.http.post(`${repoPath(repo)}/pull-requests?create`, {
      form: {
        fromBranch: src.id, toBranch: tgt.id, title: randomWords(ctx, 3), description: randomWords(ctx, 10), reviewers: '',
        atl_token: token, fromRepoId: String(repoId), toRepoId: String(repoId),
      },
      expect: [200, 302, 303],
      op: 'POST /projects/{key}/repos/{slug}/pull-requests?create',
    });
    if (created.status === 200) {
      ctx.check(created.body.includes('is already up-to-date with branch'), 'the pull request was not created');
      return;
    }
    const id = Number(/\/pull-requests\/(\d+)/.exec(created.location ?? '')?.[1]);
    ctx.check(Number.isInteger(id), `no pull request id in the redirect ${created.location ?? ''}`);
    const first = await ctx.http.get(absolute(ctx, created.location!), { op: 'GET /projects/{key}/repos/{slug}/pull-requests/{id}', expect: [200, 302, 303] });
    if (first.status !== 200 && first.location) await ctx.http.get(absolute(ctx, first.location), { op: 'GET /projects/{key}/repos/{slug}/pull-requests/{id}/overview' });
    const prRest = `${restRepo}/pull-requests/${id}`;
    await ctx.http.get(`${prRest}/merge`, { accept: 'json', op: `GET ${RP}/pull-requests/{id}/merge` });
    await ctx.http.get(`/rest/jira/latest/projects/${k}/repos/${s}/pull-requests/${id}/issues`, { accept: 'json', op: 'GET /rest/jira/latest/projects/{key}/repos/{slug}/pull-requests/{id}/issues' });
    await ctx.http.get(`${restRepo}/settings/pull-requests`, { accept: 'json', op: `GET ${RP}/settings/pull-requests` });

    // diffs
    const prChanges = json<Page<Change>>(
      await ctx.http.get(`${prRest}/changes`, { accept: 'json', query: { start: 0, limit: 1000, changeScope: 'unreviewed' }, op: `GET ${RP}/pull-requests/{id}/changes` }),
    ).values;
    const k2 = prChanges.length === 0 ? 0 : 1 + Math.floor(ctx.random() * prChanges.length);
    for (let i = 0; i < k2 - 1; i++) {
      const c = pickOne(ctx, prChanges)!;
      await ctx.http.get(`${prRest}/diff/${encodePath(c.path.toString)}`, {
        accept: 'json',
        query: { avatarSize: 64, markup: 'true', whitespace: '', contextLines: -1, withComments: 'true', autoSrcPath: 'undefined' },
        op: `GET ${RP}/pull-requests/{id}/diff/{path}`,
      });
    }
    await ctx.http.get(`${repoPath(repo)}/pull-requests`, {
      query: { avatarSize: 64, order: 'newest', start: 0, state: 'OPEN' },
      op: 'GET /projects/{key}/repos/{slug}/pull-requests',
    });

    // merge (decline when it fails)
    const version = json<{ version: number }>(await ctx.http.get(prRest, { accept: 'json', op: `GET ${RP}/pull-requests/{id}` })).version;
    await ctx.http.get(`/rest/branch-utils/latest/projects/${k}/repos/${s}/automerge/path`, {
      accept: 'json',
      query: { branchRefId: src.id },
      op: 'GET /rest/branch-utils/latest/projects/{key}/repos/{slug}/automerge/path',
    });
    const deletion = `/rest/pull-request-source-branch-deletion/1.0/projects/${k}/repos/${s}/pull-requests/${id}`;
    const deletionOp = 'POST /rest/pull-request-source-branch-deletion/1.0/projects/{key}/repos/{slug}/pull-requests/{id}';
    await ctx.http.post(deletion, { accept: 'json', query: { dryRun: 'true' }, json: {}, op: deletionOp + '?dryRun=true' });
    const merged = await ctx.http.post(`${prRest}/merge`, {
      accept: 'json',
      query: { avatarSize: 16, version },
      json: { message: '' },
      throwOnFailure: false,
      op: `POST ${RP}/pull-requests/{id}/merge`,
    });
    const deleted = merged.status < 400
      ? await ctx.http.post(deletion, { accept: 'json', query: { dryRun: 'false' }, json: {}, throwOnFailure: false, op: deletionOp + '?dryRun=false' })
      : merged;
    if (deleted.status >= 400) {
      const v = json<{ version: number }>(await ctx.http.get(prRest, { accept: 'json', op: `GET ${RP}/pull-requests/{id}` })).version;
      await ctx.http.post(`${prRest}/decline`, { accept: 'json', query: { avatarSize: 16, version: v }, json: {}, op: `POST ${RP}/pull-requests/{id}/decline` });
      ctx.check(false, `pull request ${id} could not be merged (declined)`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (withLogin) await logout(ctx).catch(() => undefined);
  }
}

const pullRequestWorkflowScript = defineScript({ name: 'bitbucket.web.PullRequestWorkflow', run: (ctx: ScriptContext) => pullRequestWorkflow(ctx, true) });

export const webScripts: Script[] = [status, dashboardScript, browse, listPullRequests, audit, listUsers, viewPullRequest, pullRequestWorkflowScript];
