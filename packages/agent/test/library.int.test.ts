import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LIBRARY, runStage, type StageResult } from '@e3/agent';
import { readSamples, type SampleRow } from '@e3/model';
import { e3OriginalHome } from '@e3/test-utils';

import { seededTarget, type SeededTarget } from './target.js';


const R = '/rest/api/latest';
const RP = `${R}/projects/{key}/repos/{slug}`;
const LOGIN = ['GET /login', 'POST /j_atl_security_check'];
const LOGOUT = ['GET /j_atl_security_logout', 'GET (logout redirect)'];
const PUSH = ['git branch', 'git checkout', 'git add', 'git commit', 'git push'];
const DASHBOARD = ['GET /dashboard', `GET ${R}/inbox/pull-requests/count`, `GET ${R}/profile/recent/repos`, `GET ${R}/dashboard/pull-request-suggestions`];
const PR_WORKFLOW = [
  'GET /projects/{key}/repos/{slug}/browse', 'git clone (local)', 'git config', 'git remote', 'git checkout', 'git pull', 'git add', 'git commit', 'git push',
  'GET /rest/api/1.0/projects/{key}/repos/{slug}/branches', 'GET /rest/api/1.0/projects/{key}/repos/{slug}/branches/default', `GET ${RP}`,
  'GET /projects/{key}/repos/{slug}/compare/diff', 'GET /rest/build-status/latest/commits/stats/{commit}', `GET ${RP}/compare/changes`,
  `GET ${RP}/compare/commits`, 'GET /rest/default-reviewers/latest/projects/{key}/repos/{slug}/reviewers', `GET ${R}/inbox/pull-requests/count`,
  `GET ${RP}/compare/diff{path}`, 'GET /projects/{key}/repos/{slug}/pull-requests?create', 'POST /projects/{key}/repos/{slug}/pull-requests?create',
  'GET /projects/{key}/repos/{slug}/pull-requests/{id}', `GET ${RP}/pull-requests/{id}/merge`, 'GET /rest/jira/latest/projects/{key}/repos/{slug}/pull-requests/{id}/issues',
  `GET ${RP}/settings/pull-requests`, `GET ${RP}/pull-requests/{id}/changes`, 'GET /projects/{key}/repos/{slug}/pull-requests', `GET ${RP}/pull-requests/{id}`,
  'GET /rest/branch-utils/latest/projects/{key}/repos/{slug}/automerge/path',
  'POST /rest/pull-request-source-branch-deletion/1.0/projects/{key}/repos/{slug}/pull-requests/{id}?dryRun=true', `POST ${RP}/pull-requests/{id}/merge`,
  'POST /rest/pull-request-source-branch-deletion/1.0/projects/{key}/repos/{slug}/pull-requests/{id}?dryRun=false',
];

/** The ops each E³ script makes (every one must appear; a few optional ones may too). */
const EXPECTED: Record<string, { ops: string[]; minPasses: number }> = {
  'bitbucket.scm.GitCloneOverSsh': { ops: ['git clone'], minPasses: 3 },
  'bitbucket.scm.GitCloneOverHttp': { ops: ['git clone'], minPasses: 3 },
  'bitbucket.scm.GitCloneOverHttpDirect': { ops: ['git clone'], minPasses: 3 },
  'bitbucket.scm.GitLsRemoteSsh': { ops: ['git ls-remote'], minPasses: 3 },
  'bitbucket.scm.GitLsRemoteHttp': { ops: ['git ls-remote'], minPasses: 3 },
  'bitbucket.scm.GitLsRemoteHttpDirect': { ops: ['git ls-remote'], minPasses: 3 },
  'bitbucket.scm.PushChangesSsh': { ops: ['git clone', ...PUSH], minPasses: 3 },
  'bitbucket.scm.PushChangesHttp': { ops: ['git clone', ...PUSH], minPasses: 3 },
  'bitbucket.scm.PushChangesHttpDirect': { ops: ['git clone', ...PUSH], minPasses: 3 },
  'bitbucket.web.Status': { ops: ['GET /status'], minPasses: 3 },
  'bitbucket.web.Dashboard': { ops: [...LOGIN, ...DASHBOARD, ...LOGOUT], minPasses: 3 },
  'bitbucket.web.BrowseProjectsAndRepositories': {
    ops: [...LOGIN, 'GET /projects', 'GET /rest/api/1.0/projects', 'GET /projects/{key}/repos', 'GET /rest/api/1.0/projects/{key}/repos',
      'GET /projects/{key}/repos/{slug}/branches', 'GET /rest/api/1.0/projects/{key}/repos/{slug}/branches'],
    minPasses: 3,
  },
  'bitbucket.web.ListPullRequests': { ops: [...LOGIN, `GET ${R}/projects`, `GET ${R}/projects/{key}/repos`, `GET ${RP}/pull-requests`], minPasses: 3 },
  'bitbucket.web.Audit': { ops: [...LOGIN, `GET ${R}/projects`, `GET ${R}/projects/{key}/repos`, 'GET /rest/auditing/1.0/events'], minPasses: 3 },
  'bitbucket.web.ListUsers': { ops: [...LOGIN, `GET ${R}/users`], minPasses: 3 },
  'bitbucket.web.ViewPullRequest': {
    ops: [...LOGIN, `GET ${R}/projects`, `GET ${R}/projects/{key}/repos`, `GET ${RP}/pull-requests`, 'GET /projects/{key}/repos/{slug}/pull-requests/{id}',
      `GET ${RP}/pull-requests/{id}/changes`, `GET ${RP}/pull-requests/{id}/diff/{path}`],
    minPasses: 3,
  },
  'bitbucket.web.PullRequestWorkflow': { ops: [...LOGIN, ...PR_WORKFLOW, ...LOGOUT], minPasses: 2 },
  'bitbucket.persona.DeveloperUsingPullRequests': { ops: [...LOGIN, ...DASHBOARD, ...PR_WORKFLOW, ...LOGOUT], minPasses: 2 },
  'bitbucket.persona.SshBuildAgent': { ops: ['git ls-remote', 'git clone'], minPasses: 3 },
  'bitbucket.persona.HttpBuildAgent': { ops: ['git ls-remote', 'git clone'], minPasses: 3 },
};

let target: SeededTarget;
let dir: string;

beforeAll(async () => {
  dir = await makeTmpDirOnce();
  target = await seededTarget({ data: join(dir, 'data'), home: join(dir, 'home'), contextPath: '/bitbucket' });
}, 180_000);

afterAll(async () => {
  await target?.stop();
  const { rm } = await import('node:fs/promises');
  if (process.env.E3_KEEP_TMP !== '1' && dir) await rm(dir, { recursive: true, force: true });
});

async function makeTmpDirOnce(): Promise<string> {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  return mkdtemp(join(tmpdir(), 'e3-agent-library-'));
}

async function runScripts(names: string[], stage: string, durationMs: number): Promise<{ result: StageResult; rows: SampleRow[] }> {
  const result = await runStage({
    // Build agents poll every 2 s and clone every 6 s here (E³: 5 s and 30 s), so a short stage sees both.
    workload: names.map((script) => ({
      script, description: script.split('.').pop()!, weight: 1 / names.length,
      ...(script.endsWith('BuildAgent') ? { options: { pollSeconds: 2, cloneSeconds: 6 } } : {}),
    })),
    instance: target.instance,
    snapshot: target.snapshot,
    stageDir: join(dir, stage),
    workDir: join(dir, 'work'),
    clients: names.length,
    durationMs,
    graceMs: 60_000,
  });
  const rows: SampleRow[] = [];
  for await (const r of readSamples(result.samplesFile)) rows.push(r);
  return { result, rows };
}

function check(names: string[], rows: SampleRow[]) {
  for (const name of names) {
    const test = name.split('.').pop()!;
    const mine = rows.filter((r) => r.test === test);
    // `cut` is not an error: a pass still in its think time (ctx.sleep) when the stage ended.
    const failures = mine.filter((r) => !r.ok && r.error !== 'cut').map((r) => `${r.op}: ${r.error}`);
    expect({ test, failures }).toEqual({ test, failures: [] });
    const passes = mine.filter((r) => r.kind === 'transaction');
    expect({ test, passes: passes.length >= EXPECTED[name]!.minPasses }).toEqual({ test, passes: true });
    const ops = new Set(mine.filter((r) => r.kind === 'request').map((r) => r.op));
    const missing = EXPECTED[name]!.ops.filter((op) => !ops.has(op));
    expect({ test, missing }).toEqual({ test, missing: [] });
  }
}

describe('every library script against a seeded @e3/target (context path /bitbucket)', () => {
  it('covers the whole library', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...LIBRARY.keys()].sort());
  });

  it("runs the scm scripts for several iterations with zero errors and E³'s git calls", async () => {
    const names = Object.keys(EXPECTED).filter((n) => n.includes('.scm.'));
    const { rows } = await runScripts(names, 'scm', 12_000);
    check(names, rows);
  }, 180_000);

  it("runs the web scripts for several iterations with zero errors and E³'s requests", async () => {
    const names = Object.keys(EXPECTED).filter((n) => n.includes('.web.'));
    const { rows } = await runScripts(names, 'web', 15_000);
    check(names, rows);
  }, 180_000);

  it("runs E³'s mixed workload through the bundled CLI (10 clients, one per job) with zero errors", async () => {
    const { execFileSync } = await import('node:child_process');
    const { readFileSync, writeFileSync } = await import('node:fs');
    const { dirname: dn, resolve: rs } = await import('node:path');
    const { fileURLToPath: f2p } = await import('node:url');
    const pkg = rs(dn(f2p(import.meta.url)), '..');
    execFileSync(process.execPath, [join(pkg, 'scripts', 'bundle.mjs')]);
    const mixed = join(e3OriginalHome, 'workloads', 'mixed.json');
    // an instance file in the seeded e3-home, so the snapshot is found next to it (snapshots/agent-test.json)
    const instanceFile = join(dir, 'home', 'instances', 'live.json');
    writeFileSync(instanceFile, JSON.stringify(target.instance));
    const out = join(dir, 'cli-stage');
    const stdout = execFileSync(process.execPath, [join(pkg, 'dist', 'e3-agent.cjs'), '--workload', mixed, '--instance', instanceFile,
      '--clients', '10', '--duration', '10s', '--grace', '60s', '--out', out, '--work-dir', join(dir, 'work'), '--quiet'], { timeout: 150_000 }).toString();
    expect(stdout).toContain('GitCloneOverSsh');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { jobs: { clients: number }[]; ops: { test: string; kind: string; count: number; errors: number }[] };
    expect(summary.jobs.map((j) => j.clients)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(summary.ops.filter((o) => o.errors > 0)).toEqual([]);
    const tested = new Set(summary.ops.filter((o) => o.kind === 'transaction' && o.count > 0).map((o) => o.test));
    expect(tested.size).toBe(10);
    // Bitbucket 8+ by default: ListAuditEvents asks the auditing API, never the legacy audit endpoint
    const rows: SampleRow[] = [];
    for await (const r of readSamples(join(out, 'samples.csv'))) rows.push(r);
    expect(rows.filter((r) => r.op.includes('/rest/audit/1.0/'))).toEqual([]);
    const audit = rows.filter((r) => r.test === 'ListAuditEvents');
    expect(audit.filter((r) => r.op === 'GET /rest/auditing/1.0/events').length).toBeGreaterThan(0);
    expect(audit.filter((r) => !r.ok && r.error !== 'cut')).toEqual([]);
  }, 180_000);

  it("runs the personas for several iterations with zero errors and E³'s operations", async () => {
    const names = Object.keys(EXPECTED).filter((n) => n.includes('.persona.'));
    const { rows } = await runScripts(names, 'persona', 16_000);
    check(names, rows);
  }, 180_000);
});
