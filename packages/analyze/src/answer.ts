import { stageKey, type AnalysisSummary } from '@e3/model';

import { formatNumber, formatTps } from './format.js';

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
export function topStageThroughput(summary: AnalysisSummary | undefined): TopStage[] {
  if (!summary) return [];
  return summary.threads
    .map((t) => {
      const top = [...t.stages].reverse().find((s) => s.tps !== null && s.tps !== undefined);
      const gitOps = summary.rows
        .filter((row) => row.thread === t.index && row.stage === top?.index && row.kind === 'request' && SERVER_GIT_OP.test(row.op))
        .reduce((a, row) => a + (row.tps ?? 0), 0);
      return { thread: t.name, ...(top?.load !== undefined && top.load !== null ? { load: String(top.load) } : {}), tps: top?.tps ?? 0, gitOps };
    })
    .sort((a, b) => b.gitOps - a.gitOps);
}

/** One line per measure (git operations, then every transaction): each thread's rate at the top stage and which held the most. */
export function formatTopStage(top: TopStage[]): string[] {
  if (top.length < 2) return [];
  const line = (what: string, key: 'gitOps' | 'tps') => {
    const [first, second, ...rest] = [...top].sort((a, b) => b[key] - a[key]);
    const rates = [first!, second!, ...rest].map((t) => `"${t.thread}" ${formatTps(t[key])}`).join(', ');
    const verdict =
      first![key] > second![key]
        ? `"${first!.thread}" held the most${second![key] > 0 ? `, ${formatNumber(first![key] / second![key], 2)}× "${second!.thread}"` : ''}`
        : 'no thread held more';
    return `top stage${first!.load !== undefined ? ` (load ${first!.load})` : ''}, ${what}: ${rates} — ${verdict}`;
  };
  return [line('git operations per second', 'gitOps'), line('transactions per second, every test', 'tps')];
}

/** The verdict in one line, failed checks after it (as `e3 analyze`, `e3 demo` and `e3 orchestrate` print it). */
export function verdictLines(v: AnalysisSummary['verdict']): string[] {
  if (v.thresholds === 0) return ['verdict: no thresholds'];
  if (v.passed) return [`verdict: passed (${v.checks.length} checks of ${v.thresholds} thresholds)`];
  return [`verdict: FAILED (${v.failed.length} of ${v.checks.length} checks)`, ...v.failed.map((f) => `  ${f}`)];
}

/**
 * The experiment's question and its answer: the description, which thread held the most at the top stage
 * (git operations, every transaction; omitted with one thread or no gitOps) and each thread's peak.
 */
export function experimentAnswer(s: AnalysisSummary): { question: string; answer: string[] } {
  const question = s.description ?? `How much load does ${s.experiment ?? s.run} hold?`;
  const top = topStageThroughput(s);
  const lines = formatTopStage(top).filter((l, i) => i > 0 || top.some((t) => t.gitOps > 0));
  const peaks = s.threads.filter((t) => t.peak).map((t) => `"${t.name}" peak ${formatTps(t.peak!.tps)} TPS at load ${t.peak!.load ?? '?'}${t.breaksAt ? `, breaks at stage ${stageKey(t.breaksAt.stage)}` : ''}`);
  return { question, answer: [...lines, ...(peaks.length ? [peaks.join('; ')] : [])] };
}
