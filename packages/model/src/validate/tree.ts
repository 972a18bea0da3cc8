import { resolve } from 'node:path';

import { E3Error } from '../errors/e3-error.js';
import { findHomeFile, homeRuleContext } from '../home/home.js';
import type { Experiment } from '../schemas/experiment.js';
import type { Instance } from '../schemas/instance.js';
import type { RuleContext } from './rules.js';
import { assertValid, validateFile, type ValidationResult } from './validate.js';

type RefKind = 'workload' | 'instance' | 'snapshot' | 'keys';
interface Ref {
  kind: RefKind;
  name: string;
  at: string;
}

/** The e3-home names an experiment (or run file) refers to, with the JSON path that names each. */
function experimentRefs(e: Experiment): Ref[] {
  const refs: Ref[] = [];
  const add = (kind: RefKind, name: unknown, at: string) => {
    if (typeof name === 'string' && name) refs.push({ kind, name, at });
  };
  add('workload', e.workload, '/workload');
  (Array.isArray(e.threads) ? e.threads : []).forEach((t, ti) => {
    add('snapshot', t?.instance?.snapshot, `/threads/${ti}/instance/snapshot`);
    add('instance', t?.instance?.stack?.Name, `/threads/${ti}/instance/stack/Name`);
    add('instance', t?.worker?.stack?.Name, `/threads/${ti}/worker/stack/Name`);
    (Array.isArray(t?.stages) ? t.stages : []).forEach((s, si) => add('workload', s?.workload, `/threads/${ti}/stages/${si}/workload`));
  });
  return refs;
}

/**
 * Validates an experiment or run file together with every e3-home file it names: workloads (and their
 * scripts), instance files, the snapshots they and the threads name, and each snapshot's keys file. One
 * result per file, each file once, the experiment first; files that do not exist are reported by the
 * experiment's own reference rule. Never throws for bad content.
 */
export async function validateWithReferences(
  kind: 'experiment' | 'run',
  file: string,
  options: { home: string; context?: RuleContext; seen?: Set<string> },
): Promise<ValidationResult[]> {
  const context = options.context ?? homeRuleContext(options.home);
  const seen = options.seen ?? new Set<string>();
  const main = await validateFile<Experiment>(kind, file, context);
  seen.add(resolve(file));
  const results: ValidationResult[] = [main];
  const queue: Array<Ref & { from: string }> = main.value && typeof main.value === 'object' ? experimentRefs(main.value).map((r) => ({ ...r, from: file })) : [];
  while (queue.length) {
    const ref = queue.shift()!;
    const found = resolveRef(options.home, context, ref);
    if (!found || seen.has(resolve(found))) continue;
    seen.add(resolve(found));
    const r = await validateFile(ref.kind, found, context);
    r.namedBy = `${ref.from} ${ref.at}`;
    results.push(r);
    if (ref.kind === 'instance') {
      const snapshot = (r.value as Instance | undefined)?.snapshot;
      if (typeof snapshot === 'string' && snapshot) queue.push({ kind: 'snapshot', name: snapshot, at: '/snapshot', from: found });
    }
    if (ref.kind === 'snapshot') queue.push({ kind: 'keys', name: ref.name, at: '(the keys file of the same name)', from: found });
  }
  return results;
}

function resolveRef(home: string, context: RuleContext, ref: Ref): string | undefined {
  try {
    return ref.kind === 'keys' ? findHomeFile(home, 'keys', ref.name) : context.resolve(ref.kind, ref.name);
  } catch {
    return undefined; // an unsafe name: the experiment's reference rule reports it
  }
}

/** Throws E3_INVALID_FILE listing every error of every file (experiment first) unless there are none. */
export function assertAllValid(results: ValidationResult[], command: string): void {
  const bad = results.filter((r) => r.errors.length > 0);
  if (bad.length === 0) return;
  if (bad[0] === results[0] && results[0]!.errors.length === 1 && results[0]!.errors[0]!.endsWith(': file not found')) assertValid(results[0]!);
  const errors = bad.flatMap((r) => r.errors);
  const files = bad.map((r) => `${r.file}${r.namedBy ? ` (named by ${r.namedBy})` : ''}`);
  throw new E3Error('INVALID_FILE', `${results[0]!.file} and the files it names have ${errors.length} problem(s):\n  ${errors.join('\n  ')}`, {
    hint: `Fix ${files.join(', ')}, then check with \`e3 validate ${results[0]!.file}\` before \`${command}\``,
    details: { errors, warnings: results.flatMap((r) => r.warnings) },
  });
}
