import { COMMAND_HELP, defineCommand, type OptionDef } from '@e3/model/cli';

import { runMonitor } from '../monitor/proc.js';
import { formatSummary, RUN_FLAGS, runLocal, type LocalRunFlags } from './main.js';
import { parseDuration } from './args.js';

const BOOLEAN_FLAGS = new Set(['user-per-iteration', 'quiet']);

const runOptions: Record<string, OptionDef> = Object.fromEntries(
  Object.entries(RUN_FLAGS)
    .filter(([name]) => name !== 'quiet')
    .map(([name, description]) => [
      name,
      {
        type: BOOLEAN_FLAGS.has(name) ? 'boolean' : 'string',
        description,
        ...(['workload', 'instance', 'duration', 'out'].includes(name) ? { required: true } : {}),
        ...(name === 'assignment' ? { choices: ['weighted', 'bands'] } : {}),
      } satisfies OptionDef,
    ]),
);

/**
 * `e3 agent run|monitor`: the agent's local uses for `@e3/cli` (the same functions as the `e3-agent` bin).
 * `run` returns the stage summary as data and a table as text; ticks are progress events.
 */
export const agentCommand = defineCommand({
  name: 'agent',
  description: COMMAND_HELP.agent,
  subcommands: [
    defineCommand<Record<string, unknown>>({
      name: 'run',
      description: 'Run one stage of a workload from this machine and write samples.csv, summary.json and agent.log to --out',
      options: runOptions,
      examples: [['e3 agent run --workload e3-home/workloads/mixed.json --instance e3-home/instances/local.json --clients 8 --duration 30s --out /tmp/stage-000', 'a 30 s closed-model stage']],
      async run(args, ctx) {
        const flags: LocalRunFlags = {};
        for (const name of Object.keys(RUN_FLAGS) as (keyof typeof RUN_FLAGS)[]) {
          const v = args[name];
          if (v === true) flags[name] = true;
          else if (typeof v === 'string' || typeof v === 'number') flags[name] = String(v);
        }
        const result = await runLocal(flags, {
          signal: ctx.signal,
          onTick: (tick) => ctx.event({ type: 'tick', ...tick }),
          log: (level, message) => {
            if (level !== 'debug') ctx.log(`${level}: ${message}`);
          },
        });
        return { text: formatSummary(result.summary), data: result.summary };
      },
    }),
    defineCommand<{ out: string; interval?: string; duration?: string; host?: string }>({
      name: 'monitor',
      description: 'Sample /proc (cpu, memory, load, interfaces, disks, git/java/node processes) into the collectd CSV layout until stopped',
      options: {
        out: { type: 'string', description: 'collectd CSV root; files go to <out>/<host>/…', required: true },
        interval: { type: 'string', description: 'Sampling interval', default: '5s' },
        duration: { type: 'string', description: 'Stop after this long (default: until Ctrl-C)' },
        host: { type: 'string', description: 'Host folder name (default: this host name)' },
      },
      async run(args, ctx) {
        const ctl = new AbortController();
        ctx.signal.addEventListener('abort', () => ctl.abort(), { once: true });
        const timer = args.duration ? setTimeout(() => ctl.abort(), parseDuration(args.duration, '--duration')) : undefined;
        try {
          const r = await runMonitor({
            out: args.out,
            intervalMs: parseDuration(args.interval ?? '5s', '--interval'),
            signal: ctl.signal,
            ...(args.host ? { host: args.host } : {}),
          });
          return { text: `${r.rounds} rounds written to ${args.out}`, data: r };
        } finally {
          if (timer) clearTimeout(timer);
        }
      },
    }),
  ],
});
