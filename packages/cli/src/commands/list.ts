import { HOME_DIRS, listHome, resolveHome, type HomeKind } from '@e3/model';
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

/** Names of the files of one kind in e3-home. */
export async function list(args: ListArgs & { home?: string; cwd?: string }): Promise<{ home: string; kind: string; names: string[] }> {
  const home = resolveHome({ home: args.home, cwd: args.cwd });
  return { home, kind: args.kind, names: await listHome(home, KINDS[args.kind]!) };
}

export const listCommand = defineCommand<ListArgs>({
  name: 'list <kind>',
  description: COMMAND_HELP.list,
  positionals: { kind: { description: 'What to list', choices: Object.keys(KINDS), required: true } },
  examples: [['e3 list runs --json', 'the runs, as JSON']],
  async run(args, ctx) {
    const r = await list({ ...args, cwd: ctx.cwd });
    const dir = HOME_DIRS[KINDS[args.kind]!];
    return { data: r.names, text: r.names.length ? r.names.join('\n') : `(no ${args.kind} in ${r.home}/${dir})` };
  },
});
