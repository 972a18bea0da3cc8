import { formatAnalyzeResult } from '@e3/analyze';
import { defineCommand } from '@e3/model';

import { formatOrchestrate, orchestrate, type OrchestrateResult } from './orchestrate.js';

export interface DemoArgs {
  experiment: string;
  retain: boolean;
}

/** At the top stage, each thread's throughput (transactions per second), highest first. */
export function topStageThroughput(r: OrchestrateResult): Array<{ thread: string; load?: string; tps: number }> {
  const summary = r.analysis?.summary;
  if (!summary) return [];
  return summary.threads
    .map((t) => {
      const top = [...t.stages].reverse().find((s) => s.tps !== null && s.tps !== undefined);
      return { thread: t.name, ...(top?.load !== undefined ? { load: String(top.load) } : {}), tps: top?.tps ?? 0 };
    })
    .sort((a, b) => b.tps - a.tps);
}

export const demoCommand = defineCommand<DemoArgs>({
  name: 'demo',
  description: "A full local experiment against e3's embedded Bitbucket-compatible target: seed, run, gather, analyze, report",
  options: {
    experiment: { type: 'string', alias: 'e', description: 'Experiment to run (a local one)', default: 'local-demo' },
    retain: { type: 'boolean', description: 'Keep the local targets running afterwards', default: false },
  },
  examples: [['e3 demo', 'two threads (2 vs 8 concurrent git operations), three stages of rising clients, about 2 minutes']],
  async run(args, ctx) {
    const result = await orchestrate({ experiment: args.experiment, retain: args.retain, home: args.home }, ctx);
    const lines: string[] = [];
    if (result.analysis) lines.push(formatAnalyzeResult(result.analysis), '');
    const top = topStageThroughput(result);
    if (top.length > 1) {
      lines.push(`top stage: ${top.map((t) => `${t.thread} ${t.tps.toFixed(2)} TPS`).join(' vs ')} — "${top[0]!.thread}" held the most load`, '');
    }
    lines.push(formatOrchestrate(result));
    return { text: lines.join('\n'), data: { ...result, topStage: top }, exitCode: result.exitCode };
  },
});
