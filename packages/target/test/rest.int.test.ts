import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { KEYS_FILE, cleanupTmp, git, http, seededTarget, type Fixture } from './helpers.js';

let fx: Fixture;
let base: string;
const admin: [string, string] = ['admin', 'admin'];
const user: [string, string] = ['user-0001', 'test'];

beforeAll(async () => {
  fx = await seededTarget({ contextPath: '/bitbucket' });
  base = fx.target.url;
});
afterAll(async () => {
  await fx.target.close();
  await cleanupTmp();
});

/** E³'s Authentication.login: GET /login, POST the form, success iff Location has no /login. Returns the cookie. */
async function login(name: string, password: string): Promise<string> {
  expect((await http(`${base}/login`)).status).toBe(200);
  const res = await http(`${base}/j_atl_security_check`, { method: 'POST', body: new URLSearchParams({ j_username: name, j_password: password }) });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).not.toContain('/login');
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

async function allPages(url: string, cookie: string, limit: number): Promise<unknown[]> {
  const values: unknown[] = [];
  let start = 0;
  for (let i = 0; i < 1000; i++) {
    const sep = url.includes('?') ? '&' : '?';
    const res = await http(`${url}${sep}start=${start}&limit=${limit}`, { cookie });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ start, limit, size: res.json.values.length });
    values.push(...res.json.values);
    if (res.json.isLastPage) {
      expect(res.json.nextPageStart).toBeUndefined();
      return values;
    }
    start = res.json.nextPageStart;
  }
  throw new Error('paging did not end');
}

describe('REST and web endpoints, called as E³ scripts call them', () => {
  it('Status answers RUNNING without authentication', async () => {
    const res = await http(`${base}/status`);
    expect(res.json).toEqual({ state: 'RUNNING' });
  });

  it('login refuses bad credentials and logout ends the session', async () => {
    const bad = await http(`${base}/j_atl_security_check`, { method: 'POST', body: new URLSearchParams({ j_username: 'user-0001', j_password: 'nope' }) });
    expect(bad.status).toBe(302);
    expect(bad.headers.get('location')).toContain('/login');
    const cookie = await login(...user);
    expect((await http(`${base}/dashboard`, { cookie })).status).toBe(200);
    const out = await http(`${base}/j_atl_security_logout`, { cookie });
    expect(out.status).toBe(302);
    expect((await http(new URL(out.headers.get('location')!, base).href)).status).toBe(200);
    const after = await http(`${base}/dashboard`, { cookie });
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toContain('/login');
    const rest = await http(`${base}/rest/api/1.0/projects`, { cookie });
    expect(rest.status).toBe(401);
    expect(rest.json.errors[0].message).toMatch(/Authentication/);
  });

  it('Dashboard: page, inbox count, recent repos, suggestions', async () => {
    const cookie = await login(...user);
    expect((await http(`${base}/dashboard`, { cookie })).status).toBe(200);
    const count = await http(`${base}/rest/api/latest/inbox/pull-requests/count`, { cookie });
    expect(typeof count.json.count).toBe('number');
    await http(`${base}/rest/api/latest/projects/PROJECT_1/repos/repo-1`, { cookie });
    const recent = await http(`${base}/rest/api/latest/profile/recent/repos`, { cookie });
    expect(recent.json.values[0]).toMatchObject({ slug: 'repo-1', project: { key: 'PROJECT_1' } });
    const sugg = await http(`${base}/rest/api/latest/dashboard/pull-request-suggestions?changesSince=86400&limit=3&avatarSize=16`, { cookie });
    expect(sugg.status).toBe(200);
    expect(sugg.json).toMatchObject({ isLastPage: true, values: [] });
  });

  it('BrowseProjectsAndRepositories: projects, repos and branches, web and REST', async () => {
    const cookie = await login(...user);
    expect((await http(`${base}/projects`, { cookie })).status).toBe(200);
    const projects = await http(`${base}/rest/api/1.0/projects`, { cookie });
    expect(projects.json.values.map((p: { key: string }) => p.key)).toEqual(['PROJECT_1', 'PROJECT_2']);
    for (const p of projects.json.values as { key: string }[]) {
      expect((await http(`${base}/projects/${p.key}/repos`, { cookie })).status).toBe(200);
      const repos = await http(`${base}/rest/api/1.0/projects/${p.key}/repos`, { cookie });
      expect(repos.json.values).toHaveLength(2);
      for (const r of repos.json.values as { slug: string }[]) {
        expect((await http(`${base}/projects/${p.key}/repos/${r.slug}/branches`, { cookie })).text).toContain('master');
        const branches = await http(`${base}/rest/api/1.0/projects/${p.key}/repos/${r.slug}/branches`, { cookie });
        expect(branches.json.values[0]).toMatchObject({ id: 'refs/heads/master', displayId: 'master', type: 'BRANCH', isDefault: true });
        expect(branches.json.values[0].latestCommit).toMatch(/^[0-9a-f]{40}$/);
      }
    }
  });

  it('ListPullRequests, Audit, ViewPullRequest', async () => {
    const cookie = await login(...user);
    const projects = await http(`${base}/rest/api/latest/projects?start=0&limit=1000`, { cookie });
    const key = projects.json.values[0].key;
    const repos = await http(`${base}/rest/api/latest/projects/${key}/repos?start=0&limit=1000`, { cookie });
    const slug = repos.json.values[0].slug;
    const prs = await http(`${base}/rest/api/latest/projects/${key}/repos/${slug}/pull-requests?start=0&limit=50`, { cookie });
    expect(prs.status).toBe(200);
    expect(prs.json.values[0]).toMatchObject({ id: 1, state: 'OPEN', fromRef: { id: 'refs/heads/feature/seed-1' }, toRef: { id: 'refs/heads/master' } });
    const audit = await http(`${base}/rest/audit/1.0/projects/${key}/repos/${slug}/events`, { cookie });
    expect(audit.status).toBe(200);
    expect(Array.isArray(audit.json.values)).toBe(true);
    const view = await http(`${base}/projects/${key}/repos/${slug}/pull-requests/1`, { cookie });
    expect(view.status).toBe(302);
    const overview = await http(new URL(view.headers.get('location')!, base).href, { cookie });
    expect(overview.status).toBe(200);
    const changes = await http(`${base}/rest/api/latest/projects/${key}/repos/${slug}/pull-requests/1/changes?start=0&limit=1000&changeScope=unreviewed`, { cookie });
    const path = changes.json.values[0].path.toString;
    const diff = await http(`${base}/rest/api/latest/projects/${key}/repos/${slug}/pull-requests/1/diff/${path}?avatarSize=64&markup=true&whitespace=&contextLines=-1&withComments=true&autoSrcPath=undefined`, { cookie });
    expect(diff.json.diffs[0].hunks[0].segments.map((s: { type: string }) => s.type)).toContain('ADDED');
  });

  it('ListUsers needs admin; admin users, SSH keys and group permissions', async () => {
    const cookie = await login(...admin);
    const users = await http(`${base}/rest/api/latest/users`, { cookie });
    expect(users.json.values.map((u: { name: string }) => u.name)).toContain('user-0001');
    expect((await http(`${base}/rest/api/1.0/admin/users`, { auth: user })).status).toBe(403);
    const created = await http(`${base}/rest/api/1.0/admin/users?name=new-user&password=pw&displayName=New&emailAddress=n@e3.invalid`, { method: 'POST', auth: admin });
    expect(created.status).toBe(204);
    expect((await http(`${base}/rest/api/1.0/users`, { auth: ['new-user', 'pw'] })).status).toBe(200);
    const adminUsers = await http(`${base}/rest/api/1.0/admin/users?filter=new`, { auth: admin });
    expect(adminUsers.json.values).toEqual([expect.objectContaining({ name: 'new-user', displayName: 'New' })]);
    const pub = (JSON.parse(await readFile(KEYS_FILE, 'utf8')) as { key_pairs: { public_key: string }[] }).key_pairs[50]!.public_key;
    const added = await http(`${base}/rest/ssh/1.0/keys?user=new-user`, { method: 'POST', auth: admin, json: { text: pub } });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ id: expect.any(Number), text: pub });
    expect((await http(`${base}/rest/ssh/1.0/keys?user=new-user`, { method: 'POST', auth: admin, json: { text: pub } })).status).toBe(409);
    expect((await http(`${base}/rest/ssh/1.0/keys?user=new-user`, { auth: admin })).json.values).toHaveLength(1);
    expect((await http(`${base}/rest/ssh/1.0/keys?user=new-user`, { method: 'POST', auth: admin, json: { text: 'ssh-rsa garbage' } })).status).toBe(400);
    const put = await http(`${base}/rest/api/1.0/admin/permissions/groups?permission=LICENSED_USER&name=devs`, { method: 'PUT', auth: admin });
    expect(put.status).toBe(204);
    const groups = await http(`${base}/rest/api/1.0/admin/permissions/groups`, { auth: admin });
    expect(groups.json.values).toEqual([{ group: { name: 'devs' }, permission: 'LICENSED_USER' }]);
    const pput = await http(`${base}/rest/api/1.0/projects/PROJECT_1/permissions/groups?permission=PROJECT_WRITE&name=devs`, { method: 'PUT', auth: admin });
    expect(pput.status).toBe(204);
    expect((await http(`${base}/rest/api/1.0/projects/PROJECT_1/permissions/groups`, { auth: admin })).json.values).toHaveLength(1);
  });

  it('pages return every item across pages', async () => {
    for (let i = 0; i < 7; i++) await http(`${base}/rest/api/1.0/admin/users?name=pager-${i}&password=pw`, { method: 'POST', auth: admin });
    const cookie = await login(...admin);
    const everyone = (await http(`${base}/rest/api/1.0/users?limit=1000`, { cookie })).json.values.map((u: { name: string }) => u.name);
    expect(everyone.length).toBeGreaterThan(10);
    const paged = (await allPages(`${base}/rest/api/1.0/users`, cookie, 3)).map((u) => (u as { name: string }).name);
    expect(paged).toEqual(everyone);
    const branches = await allPages(`${base}/rest/api/1.0/projects/PROJECT_1/repos/repo-1/branches`, cookie, 1);
    expect(branches.length).toBe(3);
    const projects = await allPages(`${base}/rest/api/1.0/projects`, cookie, 1);
    expect(projects.length).toBe(2);
  });

  it('PullRequestWorkflow: push a feature, view the diff, create, review, merge with a real merge commit, delete the branch', async () => {
    const cookie = await login(...user);
    const [key, slug] = ['PROJECT_2', 'repo-2'];
    const browse = await http(`${base}/projects/${key}/repos/${slug}/browse`, { cookie });
    expect(browse.status).toBe(200);
    expect(browse.text).not.toContain('empty-repository-instructions');
    const dir = join(fx.work, 'prw');
    expect((await git(['clone', '-q', fx.httpUrl(...user, key, slug), dir])).code).toBe(0);
    await git(['checkout', '-q', '-b', 'feature/words'], { cwd: dir });
    await writeFile(join(dir, 'src', 'new-file.txt'), 'alpha\nbeta\n');
    const readme = join(dir, 'README.md');
    await writeFile(readme, (await readFile(readme, 'utf8')) + 'more words\n');
    await git(['add', '.'], { cwd: dir });
    await git(['commit', '-q', '-m', 'Some changes at: now'], { cwd: dir });
    expect((await git(['push', '-q', '-u', 'origin', 'feature/words'], { cwd: dir })).code).toBe(0);

    const api = `${base}/rest/api/latest/projects/${key}/repos/${slug}`;
    const branches = await http(`${base}/rest/api/1.0/projects/${key}/repos/${slug}/branches`, { cookie });
    const feature = branches.json.values.find((b: { displayId: string }) => b.displayId === 'feature/words');
    expect(feature).toBeDefined();
    const dflt = await http(`${base}/rest/api/1.0/projects/${key}/repos/${slug}/branches/default`, { cookie });
    expect(dflt.json).toMatchObject({ id: 'refs/heads/master', isDefault: true });
    const repo = await http(api, { cookie });
    const repoId = repo.json.id;
    expect(typeof repoId).toBe('number');
    const q = `targetBranch=refs/heads/master&sourceBranch=${feature.id}&targetRepoId=${repoId}`;
    expect((await http(`${base}/projects/${key}/repos/${slug}/compare/diff?${q}`, { cookie })).status).toBe(200);
    for (const c of [dflt.json.latestCommit, feature.latestCommit]) {
      expect((await http(`${base}/rest/build-status/latest/commits/stats/${c}`, { cookie })).json).toMatchObject({ successful: 0, failed: 0, inProgress: 0 });
    }
    const changes = await http(`${api}/compare/changes?start=0&limit=1000&from=${feature.id}&to=refs/heads/master&fromRepo=${repoId}`, { cookie });
    expect(changes.json.values.map((c: { path: { toString: string }; type: string }) => [c.path.toString, c.type]).sort()).toEqual([
      ['README.md', 'MODIFY'],
      ['src/new-file.txt', 'ADD'],
    ]);
    const commits = await http(`${api}/compare/commits?start=0&limit=10&from=${feature.id}&to=refs/heads/master&secondaryRepositoryId=${repoId}`, { cookie });
    expect(commits.json.values).toEqual([expect.objectContaining({ message: 'Some changes at: now' })]);
    const reviewers = await http(`${base}/rest/default-reviewers/latest/projects/${key}/repos/${slug}/reviewers?sourceRefId=${feature.id}&targetRefId=refs/heads/master&sourceRepoId=${repoId}&targetRepoId=${repoId}`, { cookie });
    expect(reviewers.json).toEqual([]);
    const fileDiff = await http(`${api}/compare/diff/src/new-file.txt?from=${feature.id}&to=refs/heads/master&avatarSize=64&markup=true&whitespace=&contextLines=-1&withComments=false&autoSrcPath=undefined`, { cookie });
    expect(fileDiff.json.diffs[0]).toMatchObject({ source: null, destination: { toString: 'src/new-file.txt' } });
    expect(fileDiff.json.diffs[0].hunks[0].segments[0]).toMatchObject({ type: 'ADDED', lines: [{ line: 'alpha' }, { line: 'beta' }] });

    const createPage = await http(`${base}/projects/${key}/repos/${slug}/pull-requests?create=&sourceBranch=${feature.id}&targetBranch=refs/heads/master&targetRepoId=${repoId}`, { cookie });
    const token = /name="atl_token" value="([^"]+)"/.exec(createPage.text)![1]!;
    const form = new URLSearchParams({ fromBranch: feature.id, toBranch: 'refs/heads/master', title: 'three random words', description: 'ten words', reviewers: '', atl_token: token, fromRepoId: String(repoId), toRepoId: String(repoId) });
    const created = await http(`${base}/projects/${key}/repos/${slug}/pull-requests?create`, { method: 'POST', cookie, body: form });
    expect(created.status).toBe(302);
    const prUrl = new URL(created.headers.get('location')!, base).href;
    const id = Number(/pull-requests\/(\d+)$/.exec(prUrl)![1]);
    const second = await http(prUrl, { cookie });
    expect(second.status).toBe(302);
    expect((await http(new URL(second.headers.get('location')!, base).href, { cookie })).status).toBe(200);
    expect((await http(`${api}/pull-requests/${id}/merge`, { cookie })).json).toMatchObject({ canMerge: true, conflicted: false, outcome: 'CLEAN' });
    expect((await http(`${base}/rest/jira/latest/projects/${key}/repos/${slug}/pull-requests/${id}/issues`, { cookie })).json).toEqual([]);
    expect((await http(`${base}/projects/${key}/repos/${slug}/settings/pull-requests`, { cookie })).status).toBe(200);
    expect((await http(`${api}/settings/pull-requests`, { cookie })).json.mergeConfig).toBeDefined();
    const prChanges = await http(`${api}/pull-requests/${id}/changes?start=0&limit=1000&changeScope=unreviewed`, { cookie });
    for (const c of prChanges.json.values as { path: { toString: string } }[]) {
      const d = await http(`${api}/pull-requests/${id}/diff/${c.path.toString}?avatarSize=64&markup=true&whitespace=&contextLines=-1&withComments=true&autoSrcPath=undefined`, { cookie });
      expect(d.json.diffs).toHaveLength(1);
    }
    const list = await http(`${base}/projects/${key}/repos/${slug}/pull-requests?avatarSize=64&order=newest&start=0&state=OPEN`, { cookie });
    expect(list.text).toContain(`data-pullrequestid="${id}"`);
    const pr = await http(`${api}/pull-requests/${id}`, { cookie });
    expect(pr.json).toMatchObject({ id, version: 0, state: 'OPEN', title: 'three random words' });
    expect((await http(`${base}/rest/branch-utils/latest/projects/${key}/repos/${slug}/automerge/path?branchRefId=${feature.id}`, { cookie })).status).toBe(200);
    const del = `${base}/rest/pull-request-source-branch-deletion/1.0/projects/${key}/repos/${slug}/pull-requests/${id}`;
    expect((await http(`${del}?dryRun=true`, { method: 'POST', cookie })).status).toBeLessThan(300);
    expect((await http(`${api}/pull-requests/${id}/merge?avatarSize=16&version=99`, { method: 'POST', cookie, json: { message: '' } })).status).toBe(409);
    const merged = await http(`${api}/pull-requests/${id}/merge?avatarSize=16&version=${pr.json.version}`, { method: 'POST', cookie, json: { message: '' } });
    expect(merged.status).toBe(200);
    expect(merged.json).toMatchObject({ state: 'MERGED', version: 1 });
    expect((await http(`${del}?dryRun=false`, { method: 'POST', cookie })).status).toBeLessThan(300);
    const repoDir = join(fx.data, 'repos', key, `${slug}.git`);
    const parents = (await git(['rev-list', '--parents', '-n', '1', 'master'], { cwd: repoDir })).stdout.trim().split(' ');
    expect(parents).toHaveLength(3);
    expect(parents[2]).toBe(feature.latestCommit);
    expect((await git(['rev-parse', '--verify', '--quiet', 'refs/heads/feature/words'], { cwd: repoDir })).code).not.toBe(0);
    expect((await git(['fsck', '--strict'], { cwd: repoDir })).code).toBe(0);
    const again = await http(`${base}/projects/${key}/repos/${slug}/pull-requests?create`, {
      method: 'POST',
      cookie,
      body: new URLSearchParams({ fromBranch: 'refs/heads/develop', toBranch: 'refs/heads/master', title: 'x', atl_token: token }),
    });
    expect(again.status).toBe(200);
    expect(again.text).toContain('is already up-to-date with branch');
  });

  it('a conflicting merge answers 409 conflicted as Bitbucket does, and decline works', async () => {
    const [key, slug] = ['PROJECT_1', 'repo-2'];
    const dir = join(fx.work, 'conflict');
    await git(['clone', '-q', fx.httpUrl(...user, key, slug), dir]);
    for (const b of ['one', 'two']) {
      await git(['checkout', '-q', '-B', `conflict/${b}`, 'origin/master'], { cwd: dir });
      await writeFile(join(dir, 'README.md'), `# ${b}\n`);
      await git(['commit', '-q', '-am', b], { cwd: dir });
      await git(['push', '-q', 'origin', `conflict/${b}`], { cwd: dir });
    }
    const api = `${base}/rest/api/1.0/projects/${key}/repos/${slug}/pull-requests`;
    const ids: number[] = [];
    for (const b of ['one', 'two']) {
      const res = await http(api, { method: 'POST', auth: user, json: { title: b, fromRef: { id: `refs/heads/conflict/${b}` }, toRef: { id: 'refs/heads/master' } } });
      expect(res.status).toBe(201);
      ids.push(res.json.id);
    }
    expect((await http(`${api}/${ids[0]}/merge?version=0`, { method: 'POST', auth: user, json: {} })).status).toBe(200);
    const status = await http(`${api}/${ids[1]}/merge`, { auth: user });
    expect(status.json).toMatchObject({ canMerge: false, conflicted: true, outcome: 'CONFLICTED' });
    const conflict = await http(`${api}/${ids[1]}/merge?version=0`, { method: 'POST', auth: user, json: { message: '' } });
    expect(conflict.status).toBe(409);
    expect(conflict.json.errors[0]).toMatchObject({ exceptionName: 'com.atlassian.bitbucket.pull.PullRequestMergeVetoedException', conflicted: true });
    const declined = await http(`${api}/${ids[1]}/decline?avatarSize=16&version=0`, { method: 'POST', auth: user });
    expect(declined.json).toMatchObject({ state: 'DECLINED', version: 1 });
  });

  it('restore puts repos and database back to the seeded state (admin only)', async () => {
    expect((await http(`${base}/rest/e3/1.0/state/restore`, { method: 'POST', auth: user })).status).toBe(403);
    const res = await http(`${base}/rest/e3/1.0/state/restore`, { method: 'POST', auth: admin });
    expect(res.status).toBe(200);
    const branches = await http(`${base}/rest/api/1.0/projects/PROJECT_1/repos/repo-2/branches`, { auth: admin });
    expect(branches.json.values.map((b: { displayId: string }) => b.displayId).sort()).toEqual(['develop', 'feature/seed-1', 'master']);
    const prs = await http(`${base}/rest/api/1.0/projects/PROJECT_1/repos/repo-2/pull-requests?state=ALL`, { auth: admin });
    expect(prs.json.values).toHaveLength(1);
    expect((await http(`${base}/rest/api/1.0/users`, { auth: ['new-user', 'pw'] })).status).toBe(401);
    const snapshot = JSON.parse(await readFile(fx.seed.snapshotFile, 'utf8'));
    const master = snapshot.projects[0].repos[1].branches[0];
    expect(branches.json.values.find((b: { displayId: string }) => b.displayId === 'master').latestCommit).toBe(master.latestCommit);
  });
});

describe('admin-created projects and empty repositories', () => {
  it('browse shows empty-repository-instructions until the first push; the default branch appears after it', async () => {
    const proj = await http(`${base}/rest/api/1.0/projects`, { method: 'POST', auth: admin, json: { key: 'EMPTY', name: 'Empty things' } });
    expect(proj.status).toBe(201);
    expect(proj.json).toMatchObject({ key: 'EMPTY', name: 'Empty things' });
    expect((await http(`${base}/rest/api/1.0/projects`, { method: 'POST', auth: user, json: { key: 'NOPE' } })).status).toBe(403);
    expect((await http(`${base}/rest/api/1.0/projects`, { method: 'POST', auth: admin, json: { key: 'EMPTY' } })).status).toBe(409);
    const repo = await http(`${base}/rest/api/1.0/projects/EMPTY/repos`, { method: 'POST', auth: admin, json: { name: 'Blank' } });
    expect(repo.status).toBe(201);
    expect(repo.json).toMatchObject({ slug: 'blank', name: 'Blank', project: { key: 'EMPTY' }, links: { clone: [{ name: 'http' }, { name: 'ssh' }] } });
    const cookie = await login(...user);
    expect((await http(`${base}/projects/EMPTY/repos/blank/browse`, { cookie })).text).toContain('empty-repository-instructions');
    expect((await http(`${base}/rest/api/1.0/projects/EMPTY/repos/blank/branches/default`, { cookie })).status).toBe(404);
    const dir = join(fx.work, 'blank');
    await git(['init', '-q', dir]);
    await writeFile(join(dir, 'a.txt'), 'a\n');
    await git(['add', '.'], { cwd: dir });
    await git(['commit', '-q', '-m', 'first'], { cwd: dir });
    const cloneHref = repo.json.links.clone[0].href.replace('http://', `http://${user[0]}:${user[1]}@`);
    expect((await git(['push', '-q', cloneHref, 'master'], { cwd: dir })).code).toBe(0);
    expect((await http(`${base}/projects/EMPTY/repos/blank/browse`, { cookie })).text).not.toContain('empty-repository-instructions');
    expect((await http(`${base}/rest/api/1.0/projects/EMPTY/repos/blank/branches/default`, { cookie })).json).toMatchObject({ displayId: 'master', isDefault: true });
    expect((await http(`${base}/rest/api/1.0/users/user-0001`, { cookie })).json).toMatchObject({ name: 'user-0001', slug: 'user-0001', active: true });
    const inbox = await http(`${base}/rest/api/latest/inbox/pull-requests`, { cookie });
    expect(inbox.status).toBe(200);
    expect(Array.isArray(inbox.json.values)).toBe(true);
  });
});

describe('remaining admin and listing endpoints', () => {
  it('deactivates users, resets passwords, deletes keys and group permissions, lists PR commits', async () => {
    await http(`${base}/rest/api/1.0/admin/users?name=short-lived&password=one`, { method: 'POST', auth: admin });
    const reset = await http(`${base}/rest/api/1.0/admin/users/credentials`, { method: 'PUT', auth: admin, json: { name: 'short-lived', password: 'two' } });
    expect(reset.status).toBe(204);
    expect((await http(`${base}/rest/api/1.0/users`, { auth: ['short-lived', 'one'] })).status).toBe(401);
    expect((await http(`${base}/rest/api/1.0/users`, { auth: ['short-lived', 'two'] })).status).toBe(200);
    const gone = await http(`${base}/rest/api/1.0/admin/users?name=short-lived`, { method: 'DELETE', auth: admin });
    expect(gone.json).toMatchObject({ name: 'short-lived', active: false });
    expect((await http(`${base}/rest/api/1.0/users`, { auth: ['short-lived', 'two'] })).status).toBe(401);
    expect((await http(`${base}/rest/api/1.0/admin/users?name=admin`, { method: 'DELETE', auth: admin })).status).toBe(409);

    const keys = await http(`${base}/rest/ssh/1.0/keys?user=ssh-user-0001`, { auth: admin });
    expect(keys.json.values).toHaveLength(1);
    expect((await http(`${base}/rest/ssh/1.0/keys?user=ssh-user-0001`, { auth: user })).status).toBe(403);
    expect((await http(`${base}/rest/ssh/1.0/keys/${keys.json.values[0].id}`, { method: 'DELETE', auth: user })).status).toBe(403);
    expect((await http(`${base}/rest/ssh/1.0/keys/${keys.json.values[0].id}`, { method: 'DELETE', auth: admin })).status).toBe(204);
    expect((await http(`${base}/rest/ssh/1.0/keys?user=ssh-user-0001`, { auth: admin })).json.values).toHaveLength(0);

    await http(`${base}/rest/api/1.0/admin/permissions/groups?permission=ADMIN&name=ops`, { method: 'PUT', auth: admin });
    expect((await http(`${base}/rest/api/1.0/admin/permissions/groups?permission=BOGUS&name=ops`, { method: 'PUT', auth: admin })).status).toBe(400);
    expect((await http(`${base}/rest/api/1.0/admin/permissions/groups?name=ops`, { method: 'DELETE', auth: admin })).status).toBe(204);
    expect((await http(`${base}/rest/api/1.0/admin/permissions/groups`, { auth: admin })).json.values.map((g: { group: { name: string } }) => g.group.name)).not.toContain('ops');

    const commits = await http(`${base}/rest/api/1.0/projects/PROJECT_1/repos/repo-1/pull-requests/1/commits`, { auth: user });
    expect(commits.json.values).toEqual([expect.objectContaining({ message: expect.stringMatching(/^Feature 1/), parents: [expect.objectContaining({ id: expect.any(String) })] })]);
    const cookie = await login(...user);
    expect((await http(`${base}/`, { cookie })).headers.get('location')).toBe('/bitbucket/dashboard');
    expect((await http(`${base}/projects/PROJECT_1`, { cookie })).headers.get('location')).toBe('/bitbucket/projects/PROJECT_1/repos');
    expect((await http(`${base}/projects/PROJECT_1/repos/repo-1/pull-requests?state=ALL`, { cookie })).text).toContain('data-pullrequestid="1"');
  });
});
