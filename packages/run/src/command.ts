import { EXIT, stageKey } from '@e3/model';
import { COMMAND_HELP, defineCommand } from '@e3/model/cli';

import { createProgressView } from './progress.js';
import { runExperiment, type RunResult } from './run.js';

export interface RunArgs {
  run: string;
  resume: boolean;
  force: boolean;
  failFast: boolean;
  insecureHostKeys: boolean;
  agentBundle?: string;
}

/**
 * `e3 run -r <run>`. The agent bundle comes from `--agent-bundle`, else from `defaultAgentBundle`
 * (set by the composing CLI, which knows where @e3/agent is installed).
 */
export function createRunCommand(defaultAgentBundle: () => string) {
  return defineCommand<RunArgs>({
    name: 'run',
    description: COMMAND_HELP.run,
    options: {
      run: { type: 'string', alias: 'r', description: 'Run name (in e3-home/runs or archive), or the path of a run folder', required: true },
      force: { type: 'boolean', description: 'Run even though provision failed or is still running', default: false },
      resume: { type: 'boolean', description: 'Start at the first stage that did not finish', default: false },
      'fail-fast': { type: 'boolean', description: 'Stop at the first lost worker instead of marking the stage degraded', default: false },
      'insecure-host-keys': { type: 'boolean', description: 'Do not check SSH host keys (never the default)', default: false },
      'agent-bundle': { type: 'string', description: 'The agent bundle to ship (default: the installed @e3/agent)' },
    },
    examples: [['e3 run -r local-demo-20261125T101500Z', 'run the stages of a provisioned run']],
    async run(args, ctx) {
      const view = createProgressView({ write: (t) => ctx.progress(t), tty: ctx.tty });
      const result: RunResult = await runExperiment({
        run: args.run,
        home: args.home,
        cwd: ctx.cwd,
        agentBundle: args.agentBundle ?? defaultAgentBundle(),
        resume: args.resume,
        force: args.force,
        failFast: args.failFast,
        insecureHostKeys: args.insecureHostKeys,
        signal: ctx.signal,
        log: (m) => (ctx.json ? ctx.event({ event: 'log', message: m }) : view.note(m)),
        onProgress: (p) => (ctx.json ? ctx.event({ event: 'progress', ...p }) : view.update(p, p.phase !== 'load' && p.phase !== 'stopping')),
      });
      const lines = result.threads.map(
        (t) => `${t.name}: ${t.stages.map((s) => `stage ${stageKey(s.index)} ${s.status}${s.clients !== undefined ? ` (${s.clients} clients)` : ''}`).join(', ')}`,
      );
      return {
        text: [`run ${result.run}: ${result.status}`, ...lines, `next: e3 gather -r ${result.run}`].join('\n'),
        data: result,
        exitCode: result.status === 'partial' ? EXIT.runFailed : EXIT.ok,
      };
    },
  });
}
