import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { e3OriginalHome, repoRoot } from '@e3/test-utils';

/** `shared/spec/bitbucket-dc-9.2-openapi.json`, beside `shared/fixtures` (found as the fixtures are). */
export const specFile = join(e3OriginalHome, '..', '..', 'spec', 'bitbucket-dc-9.2-openapi.json');

interface Parameter {
  in: string;
  name: string;
}
type PathItem = Record<string, { parameters?: Parameter[] } | Parameter[] | undefined> & { parameters?: Parameter[] };
export interface OpenApi {
  paths: Record<string, PathItem>;
  components: { schemas: Record<string, unknown> };
}

export const loadSpec = (): OpenApi => JSON.parse(readFileSync(specFile, 'utf8')) as OpenApi;

/** A concrete request the target logged: method, path below the context path, query parameter names. */
export interface SentRequest {
  method: string;
  path: string;
  query: string[];
}

/** An operation: a path template (document style, `{name}`), its method and the query parameter names it may carry. */
export interface Operation {
  method: string;
  template: string;
  query: Set<string>;
}

/** `{name}` matches one segment, `{path}` the rest (the document gives it `pattern: .*`). */
function templateRegex(template: string): RegExp {
  const src = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part === '{path}' ? '.*' : /^\{.+\}$/.test(part) ? '[^/]+' : part.replace(/[.+?^$()[\]{}|\\*]/g, (c) => `\\${c}`)))
    .join('');
  return new RegExp(`^${src}$`);
}

/** The most literal template matching `path` (fewest `{…}`), or undefined. */
export function matchTemplate(templates: Iterable<string>, path: string): string | undefined {
  let best: string | undefined;
  let bestParams = Infinity;
  for (const t of templates) {
    const params = (t.match(/\{/g) ?? []).length;
    if (params < bestParams && templateRegex(t).test(path)) {
      best = t;
      bestParams = params;
    }
  }
  return best;
}

/** The document's operations, with full paths (`/rest` + the document's path, its server URL ending in `/rest`). */
export function documentOperations(spec: OpenApi): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    const shared = (item.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters' || !op || Array.isArray(op)) continue;
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      ops.push({ method: method.toUpperCase(), template: `/rest${path}`, query: new Set([...shared, ...query]) });
    }
  }
  return ops;
}

/** Bitbucket serves each REST module under its version and under `latest`; the document writes `latest`. */
export const asLatest = (path: string): string => path.replace(/^\/rest\/([a-z-]+)\/1\.0\//, '/rest/$1/latest/');

/** The table of `docs/agent.md` between the `outside-document` markers. */
export function outsideDocumentTable(): Operation[] {
  const doc = readFileSync(join(repoRoot, 'docs', 'agent.md'), 'utf8');
  const start = doc.indexOf('<!-- outside-document:start -->');
  const end = doc.indexOf('<!-- outside-document:end -->');
  if (start < 0 || end < start) throw new Error('docs/agent.md has no outside-document table');
  return doc
    .slice(start, end)
    .split('\n')
    .filter((line) => /^\| (GET|POST|PUT|DELETE) \|/.test(line))
    .map((line) => {
      const cells = line.split('|').map((c) => c.trim());
      const query = [...cells[3]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      return { method: cells[1]!, template: cells[2]!.replace(/`/g, ''), query: new Set(query) };
    });
}

/**
 * The `"METHOD url HTTP/x"` requests of a target access log (Bitbucket's ` | `-separated layout) under
 * `/rest/`, with the context path removed.
 */
export function restRequests(accessLog: string, contextPath: string): SentRequest[] {
  const out: SentRequest[] = [];
  for (const line of accessLog.split('\n')) {
    const m = /\| "([A-Z]+) (\S+) HTTP\/[\d.]+" \|/.exec(line);
    if (!m) continue;
    const url = new URL(m[2]!, 'http://target.invalid');
    const path = url.pathname.startsWith(contextPath + '/') ? url.pathname.slice(contextPath.length) : url.pathname;
    if (!path.startsWith('/rest/')) continue;
    out.push({ method: m[1]!, path, query: [...new Set(url.searchParams.keys())].sort() });
  }
  return out;
}
