import { EXIT, E3Error } from '@e3/model';
import { COMMAND_HELP, defineCommand, type CommandDef, type OptionDef } from '@e3/model/cli';

import { checkNodes, type CheckResult, type NodeReport } from './check.js';
import type { NodeRole, Requirement } from './requirements.js';
import { setupNodes, type SetupResult } from './setup.js';

const common: Record<string, OptionDef> = {
  instance: { type: 'array', alias: 'i', description: 'Instance file: a name in e3-home/instances or a path (repeatable)' },
  experiment: { type: 'string', alias: 'e', description: "Every instance and worker stack an experiment's threads name" },
  role: { type: 'string', choices: ['worker', 'cluster'], description: 'Role of the -i nodes when the file does not tell (a URL means cluster nodes)' },
  'insecure-host-keys': { type: 'boolean', description: 'Do not check SSH host keys (never the default)', default: false },
};

interface NodesArgs {
  instance?: string[];
  experiment?: string;
  role?: NodeRole;
  insecureHostKeys: boolean;
}

const MARK: Record<Requirement['status'], string> = { ok: 'ok', missing: 'MISSING', wrong: 'WRONG', skipped: 'skipped' };

function requirementLines(requirements: readonly Requirement[]): string[] {
  const width = Math.max(...requirements.map((r) => r.id.length));
  return requirements.flatMap((r) => {
    const mark = r.optional && r.status !== 'ok' ? `${r.status} (optional)` : MARK[r.status];
    return [`  ${r.id.padEnd(width)}  ${mark.padEnd(7)}  ${r.detail}`, ...(r.fix && r.status !== 'ok' && r.status !== 'skipped' ? [`  ${' '.repeat(width)}  ${' '.repeat(7)}  fix: ${r.fix}`] : [])];
  });
}

function header(n: Pick<NodeReport, 'node' | 'instance' | 'role'>, verdict: string): string {
  return `${n.node} (${n.instance}, ${n.role === 'worker' ? 'worker' : 'cluster node'}): ${verdict}`;
}

/** Text of a check result: per node a header and one line per requirement, with fixes. */
export function formatCheck(result: CheckResult): string {
  const lines: string[] = [];
  for (const n of result.nodes) lines.push(header(n, n.ok ? 'ok' : 'FAILED'), ...requirementLines(n.requirements), '');
  const failed = result.nodes.filter((n) => !n.ok).length;
  lines.push(failed ? `${failed} of ${result.nodes.length} node(s) failed: apply the fixes above, then run the check again` : `all ${result.nodes.length} node(s) ok`);
  return lines.join('\n');
}

/** Text of a setup result: per node the steps (with --dry-run, the exact commands), problems and the outcome. */
export function formatSetup(result: SetupResult): string {
  const lines: string[] = [];
  for (const n of result.nodes) {
    const verdict = result.dryRun ? (n.steps.length ? `${n.steps.length} step(s) planned` : 'nothing to do') : n.error ? `FAILED at ${n.error.step}` : n.applied ? (n.ok ? 'set up' : 'set up, but the check still fails') : n.ok ? 'nothing to do' : 'FAILED';
    lines.push(header(n, verdict));
    for (const s of n.steps) {
      lines.push(`  - ${s.description}`);
      if (result.dryRun) {
        if (s.upload) lines.push(`      upload ${s.upload.from} -> ${s.upload.to}`);
        for (const c of s.commands) lines.push(`      $ ${c}`);
      }
    }
    for (const p of n.problems) lines.push(`  problem: ${p}`);
    if (n.error) lines.push(`  error: [${n.error.code}] ${n.error.message}`);
    if (!result.dryRun) {
      const bad = n.requirements.filter((r) => !r.optional && (r.status === 'missing' || r.status === 'wrong'));
      if (bad.length) lines.push(...requirementLines(bad));
    }
    lines.push('');
  }
  const failed = result.nodes.filter((n) => !n.ok).length;
  if (result.dryRun) lines.push('dry run: nothing was changed; run again without --dry-run to apply');
  else lines.push(failed ? `${failed} of ${result.nodes.length} node(s) are not ready` : result.changed ? `all ${result.nodes.length} node(s) set up` : `all ${result.nodes.length} node(s) already set up: nothing changed`);
  return lines.join('\n');
}

function nodesOptions(args: NodesArgs & { home?: string }, cwd: string) {
  const instances = (args.instance ?? []).filter((i) => i !== undefined && i !== null && String(i) !== '').map(String);
  if (!instances.length && !args.experiment) {
    throw new E3Error('USAGE', 'name the machines: -i <instance file> or -e <experiment>', { hint: 'Run `e3 nodes check -i <instance>` (a name in e3-home/instances) or `e3 nodes check -e <experiment>`' });
  }
  return {
    ...(instances.length ? { instances } : {}),
    ...(args.experiment ? { experiment: args.experiment } : {}),
    ...(args.role ? { role: args.role } : {}),
    home: args.home,
    cwd,
    insecureHostKeys: args.insecureHostKeys,
  };
}

const check = defineCommand<NodesArgs>({
  name: 'check',
  description: 'Check every node of instance files (or of an experiment): one line per requirement with ok / missing / wrong and the fix; exit 3 if a node fails',
  options: common,
  examples: [
    ['e3 nodes check -i byo-workers', 'check the workers of e3-home/instances/byo-workers.json'],
    ['e3 nodes check -e byo-example --json', 'check every machine of an experiment, as JSON'],
  ],
  async run(args, ctx) {
    const result = await checkNodes({ ...nodesOptions(args, ctx.cwd), signal: ctx.signal, log: ctx.log });
    return { text: formatCheck(result), data: result, exitCode: result.ok ? EXIT.ok : EXIT.environment };
  },
});

interface SetupArgs extends NodesArgs {
  dryRun: boolean;
}

const setup = defineCommand<SetupArgs>({
  name: 'setup',
  description: "Install and configure what check finds missing (git, Node 20, rsync, collectd with e3's config, the data dir) with each node's package manager; idempotent",
  options: { ...common, 'dry-run': { type: 'boolean', description: 'Print the exact commands per node and change nothing', default: false } },
  examples: [
    ['e3 nodes setup -i byo-workers --dry-run', 'show what setup would run on each worker'],
    ['e3 nodes setup -e byo-example', 'set up every machine of an experiment'],
  ],
  async run(args, ctx) {
    const result = await setupNodes({ ...nodesOptions(args, ctx.cwd), dryRun: args.dryRun, signal: ctx.signal, log: ctx.log });
    return { text: formatSetup(result), data: result, exitCode: result.ok ? EXIT.ok : EXIT.environment };
  },
});

/** The `e3 nodes` command: `check` and `setup`. */
export const nodesCommand: CommandDef = {
  name: 'nodes',
  description: COMMAND_HELP.nodes,
  subcommands: [check, setup],
};
