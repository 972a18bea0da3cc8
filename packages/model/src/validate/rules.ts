import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { bandCounts, jobCounts } from '../load/assign.js';
import { isSafeName } from '../run-dir/naming.js';
import { KNOWN_TEMPLATES, LIBRARY_SCRIPT_NAMES, libraryScriptName } from '../scripts/library-names.js';
import { isUserScriptPath } from '../scripts/user-script.js';
import { keyPairProblem } from './key-pairs.js';
import { durationMs, MAX_DURATION_MS, thinkTimeMs, type Duration, type ThinkTime } from '../schemas/common.js';
import type { Experiment } from '../schemas/experiment.js';
import type { Instance } from '../schemas/instance.js';
import type { KeyPool } from '../schemas/keys.js';
import type { Snapshot } from '../schemas/snapshot.js';
import type { Workload } from '../schemas/workload.js';

/** Where a rule reports: `path` is a JSON Pointer into the file. */
export interface Problems {
  error(path: string, message: string): void;
  warning(path: string, message: string): void;
}

/** Looks a named e3-home file up (own home, then e3's built-in library); undefined when absent. */
export interface RuleContext {
  resolve(kind: 'workload' | 'snapshot' | 'instance', name: string): string | undefined;
  names(kind: 'workload' | 'snapshot' | 'instance'): string[];
  readWorkload(name: string): Workload | undefined;
}

const WEIGHT_TOLERANCE = 1e-6;

export function workloadWeightsSumToOne(w: Workload, p: Problems, at = ''): void {
  const sum = w.reduce((a, j) => a + j.weight, 0);
  if (Math.abs(sum - 1) > WEIGHT_TOLERANCE) {
    p.error(at || '/', `job weights sum to ${+sum.toFixed(6)}, expected 1 (within ${WEIGHT_TOLERANCE})`);
  }
}

function thinkTimeOrdered(t: ThinkTime | undefined, p: Problems, at: string): void {
  if (t === undefined) return;
  const { min, max } = thinkTimeMs(t);
  if (min > max) p.error(`${at}/thinkTime`, `min (${min} ms) is more than max (${max} ms): expected {"min": <shorter>, "max": <longer>}`);
}

export function workloadThinkTimesOrdered(w: Workload, p: Problems, at = ''): void {
  w.forEach((j, i) => thinkTimeOrdered(j.thinkTime, p, `${at}/${i}`));
}

export function workloadDescriptionsUnique(w: Workload, p: Problems, at = ''): void {
  const seen = new Map<string, number>();
  w.forEach((j, i) => {
    const first = seen.get(j.description);
    if (first !== undefined) p.warning(`${at}/${i}/description`, `"${j.description}" is also job ${first}'s description: their samples will be merged`);
    else seen.set(j.description, i);
  });
}

export function stageHasLoad(e: Experiment, p: Problems): void {
  e.threads.forEach((t, ti) =>
    t.stages.forEach((s, si) => {
      const at = `/threads/${ti}/stages/${si}`;
      if (s.clients === undefined && s.rate === undefined) p.error(at, 'a stage needs "clients" (closed model) or "rate" (open model)');
      if (s.clients !== undefined && s.rate !== undefined) p.error(at, 'a stage has either "clients" or "rate", not both');
    }),
  );
}

export function stageFallbacksExist(e: Experiment, p: Problems): void {
  e.threads.forEach((t, ti) =>
    t.stages.forEach((s, si) => {
      const at = `/threads/${ti}/stages/${si}`;
      if (s.duration === undefined && e.duration === undefined) p.error(`${at}/duration`, 'no duration: set it on the stage or at the top level');
      if (s.workload === undefined && e.workload === undefined) p.error(`${at}/workload`, 'no workload: set it on the stage or at the top level');
    }),
  );
}

/** Durations written with a unit stay below what a timer can hold (the number form is bounded by the schema). */
export function durationsBounded(e: Experiment, p: Problems): void {
  const check = (d: Duration | undefined, at: string) => {
    if (d === undefined || typeof d === 'number') return;
    const ms = durationMs(d);
    if (ms > MAX_DURATION_MS) p.error(at, `${JSON.stringify(d)} is ${ms} ms, more than the longest stage e3 can time (${MAX_DURATION_MS} ms, about 24.9 days): split it into several stages`);
  };
  check(e.duration, '/duration');
  e.threads.forEach((t, ti) => t.stages.forEach((s, si) => check(s.duration, `/threads/${ti}/stages/${si}/duration`)));
}

/** Think time paces closed-model clients; an open-model stage starts passes by arrival, so a think time there is a mistake. */
export function thinkTimesValid(e: Experiment, p: Problems): void {
  thinkTimeOrdered(e.thinkTime, p, '');
  e.threads.forEach((t, ti) => {
    thinkTimeOrdered(t.thinkTime, p, `/threads/${ti}`);
    t.stages.forEach((s, si) => {
      const at = `/threads/${ti}/stages/${si}`;
      thinkTimeOrdered(s.thinkTime, p, at);
      if (s.thinkTime !== undefined && s.rate !== undefined) {
        p.error(`${at}/thinkTime`, 'think time paces the closed model ("clients"); an open-model stage ("rate") starts passes at its arrival rate: remove one of them');
      }
    });
  });
}

export function machinesDescribed(e: Experiment, p: Problems): void {
  e.threads.forEach((t, ti) => {
    for (const part of ['instance', 'worker'] as const) {
      const spec = t[part];
      if (!spec.template && !spec.stack) p.error(`/threads/${ti}/${part}`, `needs "template" (to provision) or "stack": {"Name": …} (an existing instance file)`);
    }
  });
}

/** Every job's script is a library script (by dotted name or unique suffix) or a .ts/.js file beside the workload that exists. */
export function scriptsKnown(w: Workload, p: Problems, at: string, workloadFile: string): void {
  w.forEach((j, i) => {
    const where = `${at}/${i}/script`;
    if (isUserScriptPath(j.script)) {
      const file = resolve(dirname(workloadFile), j.script);
      if (!existsSync(file)) p.error(where, `job "${j.description}": user script ${j.script} not found (looked for ${file})`);
    } else if (!libraryScriptName(j.script)) {
      p.error(where, `job "${j.description}": script "${j.script}" is not a library script nor a .ts/.js file${suggest(j.script, [...LIBRARY_SCRIPT_NAMES])}`);
    }
  });
}

/** Each provisioned part names a template the shipped providers know. */
export function templatesKnown(e: Experiment, p: Problems): void {
  e.threads.forEach((t, ti) => {
    for (const part of ['instance', 'worker'] as const) {
      const template = t[part].template;
      const known: readonly string[] = KNOWN_TEMPLATES[part];
      if (template === undefined || t[part].stack || known.includes(template)) continue;
      p.error(`/threads/${ti}/${part}/template`, `unknown ${part} template "${template}"${suggest(template, [...known])}`);
    }
  });
}

/** ` (did you mean "x"?)` for the closest of `names`, else ` (known: …)`, else ''. */
export function suggest(name: string, names: string[]): string {
  const close = names
    .map((n) => ({ n, d: editDistance(name.toLowerCase(), n.toLowerCase()) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(name.length / 3)))
    .sort((a, b) => a.d - b.d)[0];
  return close ? ` (did you mean "${close.n}"?)` : names.length ? ` (known: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''})` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

export function referencesExist(e: Experiment, p: Problems, ctx: RuleContext): void {
  const check = (kind: 'workload' | 'snapshot' | 'instance', name: string | undefined, at: string) => {
    if (name === undefined) return;
    if (!isSafeName(name)) {
      p.error(at, `${kind} name ${JSON.stringify(name)} is not a safe name (E3_UNSAFE_NAME): it must not contain "/" or "..": name a file in e3-home/${kind}s`);
      return;
    }
    if (ctx.resolve(kind, name)) return;
    const dir = { workload: 'workloads', snapshot: 'snapshots', instance: 'instances' }[kind];
    p.error(at, `${kind} "${name}" not found in e3-home/${dir}${suggest(name, ctx.names(kind))}`);
  };
  check('workload', e.workload, '/workload');
  e.threads.forEach((t, ti) => {
    // The local provider seeds the snapshot it names; every other snapshot must exist.
    if (t.instance.template !== 'local') check('snapshot', t.instance.snapshot, `/threads/${ti}/instance/snapshot`);
    // A stack holding ClusterNodes is a copy of its instance file (run files, archived runs): it needs no file.
    for (const part of ['instance', 'worker'] as const) {
      const stack = t[part].stack as { Name: string; ClusterNodes?: unknown } | undefined;
      if (!Array.isArray(stack?.ClusterNodes)) check('instance', stack?.Name, `/threads/${ti}/${part}/stack/Name`);
    }
    t.stages.forEach((s, si) => check('workload', s.workload, `/threads/${ti}/stages/${si}/workload`));
  });
}

export function everyJobGetsClients(e: Experiment, p: Problems, ctx: RuleContext): void {
  const mode = e.assignment ?? 'weighted';
  e.threads.forEach((t, ti) => {
    const byWorkload = new Map<string, { clients: number; si: number }>();
    t.stages.forEach((s, si) => {
      const name = s.workload ?? e.workload;
      if (name === undefined || s.clients === undefined) return;
      const cur = byWorkload.get(name);
      if (!cur || s.clients < cur.clients) byWorkload.set(name, { clients: s.clients, si });
    });
    for (const [name, { clients, si }] of byWorkload) {
      const w = ctx.readWorkload(name);
      if (!w) continue;
      const weights = w.map((j) => j.weight);
      const counts = mode === 'bands' ? bandCounts(weights, clients) : jobCounts(weights, clients);
      const starved = w.filter((j, k) => j.weight > 0 && counts[k] === 0).map((j) => j.description);
      if (starved.length) {
        p.warning(
          `/threads/${ti}/stages/${si}/clients`,
          `${clients} clients leave ${starved.length} job(s) of workload "${name}" without a client (${starved.join(', ')})`,
        );
      }
    }
  });
}

export function instanceHasAdminPassword(i: Instance, p: Problems): void {
  if (i.URL && !i.RunConfig?.admin_password) {
    p.warning('/RunConfig', 'no RunConfig.admin_password: web scripts that act as the admin will fail');
  }
}

export function snapshotUsersUsable(s: Snapshot, p: Problems): void {
  if (s.users.length === 0) p.error('/users', 'no users: every script acts as a user of the snapshot');
  const first = new Map<string, number>();
  s.users.forEach((u, i) => {
    const seen = first.get(u.username);
    if (seen !== undefined) p.error(`/users/${i}/username`, `user "${u.username}" is also /users/${seen}: each user once`);
    else first.set(u.username, i);
  });
  s.users.forEach((u, i) => {
    if (!u.password && !u.private_key) p.warning(`/users/${i}`, `user "${u.username}" has neither password nor private_key: no script can act as it`);
  });
  s.projects.forEach((pr, pi) =>
    pr.repos.forEach((r, ri) => {
      if (r.branches.length === 0) p.warning(`/projects/${pi}/repos/${ri}/branches`, `repo ${pr.name}/${r.name} has no branches`);
    }),
  );
}

/** Every private key parses, and each public key is its private key's public half. Keys are never quoted. */
export function keyPairsMatch(k: KeyPool, p: Problems): void {
  k.key_pairs.forEach((pair, i) => {
    const problem = keyPairProblem(pair.private_key, pair.public_key);
    if (problem) p.error(`/key_pairs/${i}`, problem);
  });
}

export function snapshotKeysMatch(s: Snapshot, p: Problems): void {
  s.users.forEach((u, i) => {
    if (typeof u.private_key !== 'string') return;
    const problem = keyPairProblem(u.private_key, u.public_key);
    if (problem) p.error(`/users/${i}`, `user "${u.username}": ${problem}`);
  });
}

export function keyCountMatches(k: KeyPool, p: Problems): void {
  if (k.count !== k.key_pairs.length) p.warning('/count', `count is ${k.count} but there are ${k.key_pairs.length} key pairs`);
}
