import { EXIT } from '@e3/model';
import { COMMAND_HELP, defineCommand } from '@e3/model/cli';

import { gather } from './gather.js';

export interface GatherArgs {
  run: string;
  force: boolean;
  insecureHostKeys: boolean;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export const gatherCommand = defineCommand<GatherArgs>({
  name: 'gather',
  description: COMMAND_HELP.gather,
  options: {
    run: { type: 'string', alias: 'r', description: 'Run name (in e3-home/runs or archive), or the path of a run folder', required: true },
    force: { type: 'boolean', description: 'Gather even though the run failed or never started', default: false },
    'insecure-host-keys': { type: 'boolean', description: 'Do not check SSH host keys (never the default)', default: false },
  },
  examples: [['e3 gather -r local-demo-20261125T101500Z', 'gather a run (again: only what changed moves)']],
  async run(args, ctx) {
    const shown = new Map<string, number>();
    const result = await gather({
      run: args.run,
      force: args.force,
      home: args.home,
      cwd: ctx.cwd,
      insecureHostKeys: args.insecureHostKeys,
      signal: ctx.signal,
      log: ctx.log,
      onProgress: (p) => {
        ctx.event({ event: 'gather', ...p });
        const last = shown.get(p.dir) ?? 0;
        if (p.done || Date.now() - last > 2000) {
          shown.set(p.dir, Date.now());
          ctx.log(`${p.dir} (${p.node}): ${p.files} file(s), ${mb(p.bytes)}${p.done ? '' : ' …'}`);
        }
      },
    });
    const failed = result.nodes.filter((n) => n.error);
    const lines = [
      `gathered ${result.nodes.length - failed.length}/${result.nodes.length} node(s) of ${result.run}: ${result.filesMoved} file(s), ${mb(result.bytesMoved)} moved`,
      ...failed.map((n) => `  ${n.dir} (${n.node}): [${n.error!.code}] ${n.error!.message}`),
      failed.length ? `some nodes are missing: fix them and run \`e3 gather -r ${result.run}\` again (only what is missing moves)` : `next: e3 analyze -r ${result.run}`,
    ];
    return { text: lines.join('\n'), data: result, exitCode: failed.length ? EXIT.runFailed : EXIT.ok };
  },
});
