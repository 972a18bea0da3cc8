import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { ARCHIVE_DIR, HOME_DIRS, listHome, resolveHome, runFileName, type HomeKind } from '@e3/model';
import { COMMAND_HELP, defineCommand } from '@e3/model/cli';

const KINDS: Record<string, HomeKind> = {
  experiments: 'experiment',
  workloads: 'workload',
  snapshots: 'snapshot',
  keys: 'keys',
  instances: 'instance',
  runs: 'run',
};

export interface ListArgs {
  kind: keyof typeof KINDS;
}

/** A run of e3-home: in `runs/` (live), or in `archive/` after deprovision (`archived`). */
export interface ListedRun {
  name: string;
  archived: boolean;
}

/** The run folders (holding their run file) of `<home>/archive/`, sorted. */
export function archivedRuns(home: string): string[] {
  const dir = join(home, ARCHIVE_DIR);
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && existsSync(join(dir, e.name, runFileName(e.name))))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** Names of the files of one kind in e3-home; runs also lists the archived ones. */
export async function list(args: ListArgs & { home?: string; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<{ home: string; kind: string; names: string[]; runs?: ListedRun[] }> {
  const home = resolveHome({ home: args.home, cwd: args.cwd, env: args.env });
  const names = await listHome(home, KINDS[args.kind]!);
  if (args.kind !== 'runs') return { home, kind: args.kind, names };
  const runs = [...names.map((name) => ({ name, archived: false })), ...archivedRuns(home).map((name) => ({ name, archived: true }))];
  return { home, kind: args.kind, names: runs.map((r) => r.name), runs };
}

export const listCommand = defineCommand<ListArgs>({
  name: 'list <kind>',
  description: COMMAND_HELP.list,
  positionals: { kind: { description: 'What to list', choices: Object.keys(KINDS), required: true } },
  examples: [['e3 list runs --json', 'the runs, as JSON: [{"name", "archived"}] (archived: moved to archive/ by deprovision)']],
  async run(args, ctx) {
    const r = await list({ ...args, cwd: ctx.cwd, env: ctx.env });
    const dir = HOME_DIRS[KINDS[args.kind]!];
    if (r.runs) {
      const text = r.runs.length ? r.runs.map((run) => (run.archived ? `${run.name}  (archived)` : run.name)).join('\n') : `(no runs in ${r.home}/${dir} or ${r.home}/${ARCHIVE_DIR})`;
      return { data: r.runs, text };
    }
    return { data: r.names, text: r.names.length ? r.names.join('\n') : `(no ${args.kind} in ${r.home}/${dir})` };
  },
});
