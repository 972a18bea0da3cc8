import { topStageThroughput as topStageOf, type TopStage } from '@e3/analyze';
import { COMMAND_HELP, defineCommand } from '@e3/model/cli';

import { formatOutcome, orchestrate, type OrchestrateResult } from './orchestrate.js';

export interface DemoArgs {
  experiment: string;
  retain: boolean;
}

export { formatTopStage, type TopStage } from '@e3/analyze';

/** At the top stage, each thread's throughput and git operations per second, most git operations first. */
export function topStageThroughput(r: OrchestrateResult): TopStage[] {
  return topStageOf(r.analysis?.summary);
}

export const demoCommand = defineCommand<DemoArgs>({
  name: 'demo',
  description: COMMAND_HELP.demo,
  options: {
    experiment: { type: 'string', alias: 'e', description: 'Experiment to run (a local one)', default: 'local-demo' },
    retain: { type: 'boolean', description: 'Keep the local targets running afterwards', default: false },
  },
  examples: [['e3 demo', 'two threads (1 vs 8 concurrent git operations), three stages of rising clients, about 2 minutes']],
  async run(args, ctx) {
    const result = await orchestrate({ experiment: args.experiment, retain: args.retain, home: args.home }, ctx);
    return { text: formatOutcome(result), data: { ...result, topStage: topStageThroughput(result) }, exitCode: result.exitCode };
  },
});
