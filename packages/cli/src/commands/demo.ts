import { formatAnalyzeResult } from '@e3/analyze';
import { COMMAND_HELP, defineCommand } from '@e3/model/cli';

import { formatOrchestrate, orchestrate, type OrchestrateResult } from './orchestrate.js';

export interface DemoArgs {
  experiment: string;
  retain: boolean;
}

/** git calls that reach the server (and take a hosting ticket there); local ones like `git commit` do not. */
const SERVER_GIT_OP = /^git (clone|ls-remote|push|pull|fetch)(?! \(local\))/;

export interface TopStage {
  thread: string;
  load?: string;
  /** Transactions (whole script passes) per second, every test. */
  tps: number;
  /** git operations (clone, ls-remote, push, …) per second: the load hosting tickets govern. */
  gitOps: number;
}

/** At the top stage, each thread's throughput and git operations per second, most git operations first. */
export function topStageThroughput(r: OrchestrateResult): TopStage[] {
  const summary = r.analysis?.summary;
  if (!summary) return [];
  return summary.threads
    .map((t) => {
      const top = [...t.stages].reverse().find((s) => s.tps !== null && s.tps !== undefined);
      const gitOps = summary.rows
        .filter((row) => row.thread === t.index && row.stage === top?.index && row.kind === 'request' && SERVER_GIT_OP.test(row.op))
        .reduce((a, row) => a + (row.tps ?? 0), 0);
      return { thread: t.name, ...(top?.load !== undefined ? { load: String(top.load) } : {}), tps: top?.tps ?? 0, gitOps };
    })
    .sort((a, b) => b.gitOps - a.gitOps);
}

/** One line per measure (git operations, then every transaction): each thread's rate at the top stage and which held the most. */
export function formatTopStage(top: TopStage[]): string[] {
  if (top.length < 2) return [];
  const line = (what: string, key: 'gitOps' | 'tps') => {
    const [first, second, ...rest] = [...top].sort((a, b) => b[key] - a[key]);
    const rates = [first!, second!, ...rest].map((t) => `"${t.thread}" ${t[key].toFixed(2)}`).join(', ');
    const verdict =
      first![key] > second![key]
        ? `"${first!.thread}" held the most${second![key] > 0 ? `, ${(first![key] / second![key]).toFixed(2)}× "${second!.thread}"` : ''}`
        : 'no thread held more';
    return `top stage${first!.load !== undefined ? ` (load ${first!.load})` : ''}, ${what}: ${rates} — ${verdict}`;
  };
  return [line('git operations per second', 'gitOps'), line('transactions per second, every test', 'tps')];
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
    const lines: string[] = [];
    if (result.analysis) lines.push(formatAnalyzeResult(result.analysis), '');
    const top = topStageThroughput(result);
    const compared = formatTopStage(top);
    if (compared.length) lines.push(...compared, '');
    lines.push(formatOrchestrate(result));
    return { text: lines.join('\n'), data: { ...result, topStage: top }, exitCode: result.exitCode };
  },
});
