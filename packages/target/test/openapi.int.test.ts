import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { e3OriginalHome } from '@e3/test-utils';
import { Ajv, type ValidateFunction } from 'ajv';

import { cleanupTmp, http, seededTarget, type Fixture } from './helpers.js';

/** Atlassian's OpenAPI document for Bitbucket DC 9.2: `shared/spec/`, beside `shared/fixtures/`. */
const SPEC = join(e3OriginalHome, '..', '..', 'spec', 'bitbucket-dc-9.2-openapi.json');

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
const spec = JSON.parse(readFileSync(SPEC, 'utf8')) as { paths: Record<string, Record<string, Operation>>; components: Record<string, unknown> };

/** OpenAPI 3.0 schemas as JSON Schema: `nullable` is Ajv's, formats and examples are annotations here. */
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true, validateSchema: false });
ajv.addSchema({ $id: 'bitbucket', components: spec.components });

const rebase = (node: unknown): unknown =>
  Array.isArray(node)
    ? node.map(rebase)
    : node && typeof node === 'object'
      ? Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `bitbucket${v}` : rebase(v)]))
      : node;

/**
 * The document's JSON schema of `method path`'s `status` (else `default`) response, path as the document
 * writes it (under /rest). A JSON response the document gives no schema (`inbox/pull-requests/count`) only
 * has to be JSON.
 */
function responseValidator(method: string, path: string, status: number): ValidateFunction {
  const op = spec.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${path} is not in the document`);
  const content = (op.responses[String(status)] ?? op.responses.default)?.content ?? {};
  const json = Object.entries(content).find(([type]) => type.startsWith('application/json'));
  if (!json) throw new Error(`${method} ${path} has no JSON response for ${status}`);
  return ajv.compile(json[1].schema === undefined ? { not: { type: 'null' } } : (rebase(json[1].schema) as object));
}

/**
 * The auditing API's page, from Atlassian's auditing REST documentation ("Audit log improvements for
 * developers"): the API is not in the Bitbucket document, so its shape is written out here.
 */
const auditingPage = ajv.compile({
  type: 'object',
  required: ['entities', 'pagingInfo'],
  properties: {
    entities: {
      type: 'array',
      items: {
        type: 'object',
        required: ['timestamp', 'author', 'type', 'affectedObjects', 'changedValues', 'extraAttributes'],
        properties: {
          timestamp: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T' },
          author: { type: 'object', required: ['name', 'type'], properties: { id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' }, uri: { type: 'string' } } },
          type: { type: 'object', required: ['category', 'action'], properties: { category: { type: 'string' }, action: { type: 'string' }, area: { type: 'string' }, level: { type: 'string' } } },
          affectedObjects: { type: 'array', items: { type: 'object', required: ['name', 'type'], properties: { id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' }, uri: { type: 'string' } } } },
          changedValues: { type: 'array', items: { type: 'object' } },
          extraAttributes: { type: 'array', items: { type: 'object', required: ['name', 'value'] } },
          source: { type: 'string' },
          system: { type: 'string' },
          method: { type: 'string' },
        },
      },
    },
    pagingInfo: { type: 'object', properties: { nextPageCursor: { type: 'string' }, nextPageLink: { type: 'string' } } },
  },
});

let fx: Fixture;
let base: string;
const user: [string, string] = ['user-0001', 'test'];
const A = '/api/latest/projects/{projectKey}/repos/{repositorySlug}';

beforeAll(async () => {
  fx = await seededTarget({ contextPath: '/bitbucket' });
  base = fx.target.url;
});
afterAll(async () => {
  await fx.target.close();
  await cleanupTmp();
});

async function expectShape(method: string, template: string, url: string, status = 200): Promise<unknown> {
  const res = await http(`${base}${url}`, { method, auth: user, ...(method === 'POST' ? { json: {} } : {}) });
  expect({ url, status: res.status, json: res.json !== undefined }).toEqual({ url, status, json: true });
  const validate = responseValidator(method, template, status);
  validate(res.json);
  expect({ url, errors: validate.errors ?? [] }).toEqual({ url, errors: [] });
  return res.json;
}

describe("the target's answers, validated against the Bitbucket DC 9.2 OpenAPI document's schemas", () => {
  it('answers every documented operation the script library sends in the documented shape', async () => {
    const r = '/rest/api/latest/projects/PROJECT_1/repos/repo-1';
    const branches = (await expectShape('GET', `${A}/branches`, `${r}/branches?filterText=feature`)) as { values: { id: string }[] };
    const feature = branches.values[0]!.id;
    const cases: [string, string][] = [
      ['/api/latest/projects', '/rest/api/latest/projects?start=0&limit=1000'],
      ['/api/latest/projects/{projectKey}/repos', '/rest/api/1.0/projects/PROJECT_1/repos?start=0&limit=1000'],
      [A, r],
      [`${A}/branches/default`, `${r}/branches/default`],
      [`${A}/settings/pull-requests`, `${r}/settings/pull-requests`],
      [`${A}/pull-requests`, `${r}/pull-requests?start=0&limit=50`],
      [`${A}/pull-requests/{pullRequestId}`, `${r}/pull-requests/1`],
      [`${A}/pull-requests/{pullRequestId}/changes`, `${r}/pull-requests/1/changes?start=0&limit=1000&changeScope=unreviewed`],
      [`${A}/pull-requests/{pullRequestId}/diff/{path}`, `${r}/pull-requests/1/diff/README.md?contextLines=-1&withComments=true`],
      [`${A}/pull-requests/{pullRequestId}/merge`, `${r}/pull-requests/1/merge`],
      [`${A}/compare/changes`, `${r}/compare/changes?from=${feature}&to=refs/heads/master&start=0&limit=1000`],
      [`${A}/compare/commits`, `${r}/compare/commits?from=${feature}&to=refs/heads/master&start=0&limit=10`],
      [`${A}/compare/diff{path}`, `${r}/compare/diff/README.md?from=${feature}&to=refs/heads/master&contextLines=-1`],
      [`${A}/compare/diff{path}`, `${r}/compare/diff?from=${feature}&to=refs/heads/master`],
      ['/api/latest/inbox/pull-requests/count', '/rest/api/latest/inbox/pull-requests/count'],
      ['/api/latest/profile/recent/repos', '/rest/api/latest/profile/recent/repos'],
      ['/api/latest/dashboard/pull-request-suggestions', '/rest/api/latest/dashboard/pull-request-suggestions?changesSince=86400&limit=3'],
      ['/api/latest/users', '/rest/api/latest/users'],
      ['/default-reviewers/latest/projects/{projectKey}/repos/{repositorySlug}/reviewers', '/rest/default-reviewers/latest/projects/PROJECT_1/repos/repo-1/reviewers?sourceRefId=x&targetRefId=y&sourceRepoId=1&targetRepoId=1'],
      ['/jira/latest/projects/{projectKey}/repos/{repositorySlug}/pull-requests/{pullRequestId}/issues', '/rest/jira/latest/projects/PROJECT_1/repos/repo-1/pull-requests/1/issues'],
    ];
    const problems: unknown[] = [];
    for (const [template, url] of cases) await expectShape('GET', template, url).catch((err: Error) => problems.push(err.message.slice(0, 3000)));
    expect(problems).toEqual([]);
    const head = (await http(`${base}${r}/branches/default`, { auth: user })).json.latestCommit as string;
    await expectShape('GET', '/build-status/latest/commits/stats/{commitId}', `/rest/build-status/latest/commits/stats/${head}`);
  });

  it("the document's schemas refuse a wrong shape (E³-era pull request settings)", () => {
    const validate = responseValidator('GET', `${A}/settings/pull-requests`, 200);
    expect(validate({ requiredApprovers: 0, requiredSuccessfulBuilds: 0 })).toBe(false);
    expect(validate({ requiredApprovers: { count: '0', enabled: false }, requiredSuccessfulBuilds: { count: '0', enabled: false } })).toBe(true);
  });

  it('compare/diff{path}: no path is the whole diff, a path narrows it to that file', async () => {
    const r = '/rest/api/latest/projects/PROJECT_1/repos/repo-1';
    const feature = (await http(`${base}${r}/branches?filterText=feature`, { auth: user })).json.values[0].id as string;
    const files = (await http(`${base}${r}/compare/changes?from=${feature}&to=refs/heads/master&limit=1000`, { auth: user })).json.values.map((c: { path: { toString: string } }) => c.path.toString).sort();
    expect(files.length).toBeGreaterThan(0);
    const whole = await http(`${base}${r}/compare/diff?from=${feature}&to=refs/heads/master`, { auth: user });
    expect(whole.json.diffs.map((d: { destination: { toString: string } }) => d.destination.toString).sort()).toEqual(files);
    const one = await http(`${base}${r}/compare/diff/${files[0]}?from=${feature}&to=refs/heads/master`, { auth: user });
    expect(one.json.diffs.map((d: { destination: { toString: string } }) => d.destination.toString)).toEqual([files[0]]);
  });

  it('merge and decline answer the documented pull request shape', async () => {
    const r = '/rest/api/latest/projects/PROJECT_2/repos/repo-1';
    await expectShape('POST', `${A}/pull-requests/{pullRequestId}/decline`, `${r}/pull-requests/1/decline?version=0`);
    const r2 = '/rest/api/latest/projects/PROJECT_2/repos/repo-2';
    const pr = (await http(`${base}${r2}/pull-requests/1`, { auth: user })).json as { version: number };
    await expectShape('POST', `${A}/pull-requests/{pullRequestId}/merge`, `${r2}/pull-requests/1/merge?version=${pr.version}`);
  });
});

describe('the auditing API (/rest/auditing/1.0/events, Bitbucket 8+)', () => {
  const events = (query: string) => http(`${base}/rest/auditing/1.0/events${query}`, { auth: user });
  const repoId = async (key: string, slug: string) => (await http(`${base}/rest/api/latest/projects/${key}/repos/${slug}`, { auth: user })).json.id as number;

  it('returns the events this test caused, newest first, filtered by affected object, time and page', async () => {
    // a repository no other test touches: its seeded pull request is declined once
    const r = '/rest/api/latest/projects/PROJECT_1/repos/repo-2';
    const id = await repoId('PROJECT_1', 'repo-2');
    const before = new Date().toISOString();
    expect((await events(`?affectedObject=REPOSITORY,${id}`)).json.entities).toEqual([]);
    expect((await http(`${base}${r}/pull-requests/1/decline?version=0`, { method: 'POST', auth: user, json: {} })).status).toBe(200);

    const mine = await events(`?offset=0&limit=50&affectedObject=REPOSITORY,${id}`);
    expect(mine.status).toBe(200);
    auditingPage(mine.json);
    expect(auditingPage.errors ?? []).toEqual([]);
    expect(mine.json.entities).toHaveLength(1);
    const e = mine.json.entities[0];
    expect(e).toMatchObject({ author: { name: 'user-0001', type: 'user' }, extraAttributes: [{ value: '#1' }] });
    expect(e.type.actionI18nKey).toBe('PullRequestDeclinedEvent');
    expect(e.affectedObjects).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'REPOSITORY', id: String(id), name: 'repo-2' }), expect.objectContaining({ type: 'PROJECT', name: 'PROJECT_1' })]));
    expect(Date.parse(e.timestamp)).toBeGreaterThanOrEqual(Date.parse(before));

    const projectId = e.affectedObjects.find((o: { type: string }) => o.type === 'PROJECT').id;
    expect((await events(`?affectedObject=PROJECT,${projectId};REPOSITORY,${id}`)).json.entities).toHaveLength(1);
    expect((await events(`?affectedObject=REPOSITORY,999999`)).json.entities).toEqual([]);
    expect((await events(`?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}&affectedObject=REPOSITORY,${id}`)).json.entities).toEqual([]);
    expect((await events(`?to=${encodeURIComponent(before)}&affectedObject=REPOSITORY,${id}`)).json.entities).toEqual([]);
  });

  it('pages with offset and limit over every event, newest first', async () => {
    const all = (await events('?limit=1000')).json.entities as { timestamp: string }[];
    expect(all.length).toBeGreaterThan(0);
    const stamps = all.map((x) => Date.parse(x.timestamp));
    expect([...stamps].sort((a, b) => b - a)).toEqual(stamps);
    const paged: unknown[] = [];
    for (let offset = 0; offset < 100; offset++) {
      const page = (await events(`?offset=${offset}&limit=1`)).json;
      if (page.entities.length === 0) break;
      expect(page.pagingInfo.nextPageCursor === undefined).toBe(offset === all.length - 1);
      if (page.pagingInfo.nextPageLink) expect(new URL(page.pagingInfo.nextPageLink).search).toBe(`?offset=${offset + 1}&limit=1`);
      paged.push(...page.entities);
    }
    expect(paged).toEqual(all);
  });

  it('refuses a malformed affected object or timestamp with 400 and a Bitbucket error body', async () => {
    for (const q of ['?affectedObject=REPOSITORY', '?affectedObject=REPOSITORY,abc', '?from=yesterday', '?limit=many']) {
      const res = await events(q);
      expect({ q, status: res.status }).toEqual({ q, status: 400 });
      expect(res.json.errors[0].message).toEqual(expect.any(String));
    }
  });

  it("keeps E³'s legacy endpoint for old servers", async () => {
    const res = await http(`${base}/rest/audit/1.0/projects/PROJECT_1/repos/repo-2/events`, { auth: user });
    expect(res.status).toBe(200);
    expect(res.json.values.map((v: { action: string }) => v.action)).toContain('PullRequestDeclinedEvent');
  });
});
