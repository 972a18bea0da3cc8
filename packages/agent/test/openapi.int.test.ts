import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LIBRARY, runStage } from '@e3/agent';
import { readSamples, type SampleRow } from '@e3/model';

import { asLatest, documentOperations, loadSpec, matchTemplate, outsideDocumentTable, restRequests, type Operation, type SentRequest } from './openapi.js';
import { seededTarget, type SeededTarget } from './target.js';

const CONTEXT = '/bitbucket';
let target: SeededTarget;
let dir: string;

beforeAll(async () => {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  dir = await mkdtemp(join(tmpdir(), 'e3-agent-openapi-'));
  target = await seededTarget({ data: join(dir, 'data'), home: join(dir, 'home'), contextPath: CONTEXT });
}, 180_000);

afterAll(async () => {
  await target?.stop();
  const { rm } = await import('node:fs/promises');
  if (process.env.E3_KEEP_TMP !== '1' && dir) await rm(dir, { recursive: true, force: true });
});

const accessLog = () => readFileSync(join(dir, 'data', 'log', 'atlassian-bitbucket-access.log'), 'utf8');

/** Runs `names` (one client each) against the target; returns the samples and the REST requests the target logged meanwhile. */
async function run(names: string[], stage: string, durationMs: number, instance: Record<string, unknown> = target.instance): Promise<{ rows: SampleRow[]; sent: SentRequest[] }> {
  const before = accessLog().length;
  const result = await runStage({
    workload: names.map((script) => ({ script, description: script.split('.').pop()!, weight: 1 / names.length })),
    instance,
    snapshot: target.snapshot,
    stageDir: join(dir, stage),
    workDir: join(dir, 'work'),
    clients: names.length,
    durationMs,
    graceMs: 60_000,
  });
  const rows: SampleRow[] = [];
  for await (const r of readSamples(result.samplesFile)) rows.push(r);
  return { rows, sent: restRequests(accessLog().slice(before), CONTEXT) };
}

const failures = (rows: SampleRow[], test: string) => rows.filter((r) => r.test === test && !r.ok && r.error !== 'cut').map((r) => `${r.op}: ${r.error}`);

/** Each distinct sent operation, as `METHOD template ?query` problems when neither the document nor the table allows it. */
function conformance(sent: SentRequest[], doc: Operation[], table: Operation[]): { used: Set<string>; problems: string[] } {
  const byDoc = new Map(doc.map((o) => [`${o.method} ${o.template}`, o]));
  const byTable = new Map(table.map((o) => [`${o.method} ${o.template}`, o]));
  const docTemplates = new Set(doc.map((o) => o.template));
  const tableTemplates = new Set(table.map((o) => o.template));
  const used = new Set<string>();
  const problems = new Set<string>();
  for (const req of sent) {
    const path = asLatest(req.path);
    const inDoc = matchTemplate(docTemplates, path);
    const inTable = matchTemplate(tableTemplates, path) ?? matchTemplate(tableTemplates, req.path);
    const docOp = inDoc ? byDoc.get(`${req.method} ${inDoc}`) : undefined;
    const tableOp = inTable ? byTable.get(`${req.method} ${inTable}`) : undefined;
    if (tableOp) used.add(`${tableOp.method} ${tableOp.template}`);
    if (!docOp && !tableOp) {
      problems.add(`${req.method} ${inDoc ?? req.path}: not in the document${inDoc ? ' (for this method)' : ''} nor in the table`);
      continue;
    }
    const allowed = new Set([...(docOp?.query ?? []), ...(tableOp?.query ?? [])]);
    const extra = req.query.filter((q) => !allowed.has(q));
    if (extra.length > 0) problems.add(`${req.method} ${docOp?.template ?? tableOp!.template}: query ${extra.join(', ')} not in the document nor in the table`);
  }
  return { used, problems: [...problems].sort() };
}

describe('every REST operation of the script library, against the Bitbucket DC 9.2 OpenAPI document', () => {
  let sent: SentRequest[] = [];
  let rows: SampleRow[] = [];

  it('runs every script that sends REST calls (Bitbucket 8+ by default): Audit with zero errors and no legacy audit call', async () => {
    const names = [...LIBRARY.keys()].filter((n) => n.includes('.web.') || n.endsWith('DeveloperUsingPullRequests'));
    ({ rows, sent } = await run(names, 'current', 15_000));
    // two pull request workflows on four repositories may conflict and decline (a check error): that is load, not conformance
    for (const name of names) expect({ name, passes: rows.some((r) => r.kind === 'transaction' && r.test === name.split('.').pop()) }).toEqual({ name, passes: true });
    expect(failures(rows, 'Audit')).toEqual([]);
    const audit = rows.filter((r) => r.test === 'Audit');
    expect(audit.filter((r) => r.kind === 'transaction' && r.ok).length).toBeGreaterThan(0);
    expect(audit.filter((r) => r.kind === 'request' && r.op === 'GET /rest/auditing/1.0/events' && r.ok).length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.op.includes('/rest/audit/1.0/'))).toEqual([]);
    expect(sent.filter((s) => s.path.startsWith('/rest/audit/1.0/'))).toEqual([]);
    expect(sent.some((s) => s.path === '/rest/auditing/1.0/events')).toBe(true);
  }, 180_000);

  it("sends E³'s legacy audit call only to an instance whose version is below 8.0", async () => {
    const old = await run(['bitbucket.web.Audit'], 'legacy', 4_000, { ...target.instance, version: '7.21.0' });
    expect(failures(old.rows, 'Audit')).toEqual([]);
    expect(old.rows.filter((r) => r.kind === 'request' && r.op === 'GET /rest/audit/1.0/projects/{key}/repos/{slug}/events' && r.ok).length).toBeGreaterThan(0);
    expect(old.sent.filter((s) => s.path.startsWith('/rest/auditing/'))).toEqual([]);
    sent = [...sent, ...old.sent];
  }, 120_000);

  it('sends only operations and query parameters of the document or of the table in docs/agent.md, and every operation of the table', () => {
    expect(sent.length).toBeGreaterThan(0);
    const doc = documentOperations(loadSpec());
    const table = outsideDocumentTable();
    const { used, problems } = conformance(sent, doc, table);
    expect(problems).toEqual([]);
    // rows that only add query parameters to a documented operation may be conditional (decline after a failed merge)
    const documented = new Set(doc.map((o) => `${o.method} ${o.template}`));
    const operations = table.map((o) => `${o.method} ${o.template}`).filter((k) => !documented.has(k));
    expect(operations.length).toBe(4);
    expect(operations.filter((k) => !used.has(k))).toEqual([]);
  });

  it('finds a new undocumented operation or query parameter', () => {
    const doc = documentOperations(loadSpec());
    const table = outsideDocumentTable();
    const { problems } = conformance(
      [
        { method: 'GET', path: '/rest/api/1.0/projects', query: ['start', 'limit'] },
        { method: 'GET', path: '/rest/api/latest/projects', query: ['bogus'] },
        { method: 'GET', path: '/rest/made-up/1.0/things', query: [] },
        { method: 'DELETE', path: '/rest/api/latest/inbox/pull-requests/count', query: [] },
        { method: 'GET', path: '/rest/api/latest/projects/K/repos/s/compare/diff/src/a.txt', query: ['from', 'to', 'markup'] },
      ],
      doc,
      table,
    );
    expect(problems).toEqual([
      'DELETE /rest/api/latest/inbox/pull-requests/count: not in the document (for this method) nor in the table',
      'GET /rest/api/latest/projects: query bogus not in the document nor in the table',
      'GET /rest/made-up/1.0/things: not in the document nor in the table',
    ]);
  });
});
