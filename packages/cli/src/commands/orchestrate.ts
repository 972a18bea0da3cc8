import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';

import { analyze, formatAnalyzeResult, formatTopStage, topStageThroughput, type AnalyzeResult } from '@e3/analyze';
import { gather } from '@e3/gather';
import { EXIT, isE3Error, renderError, resolveHome, runName } from '@e3/model';
import { COMMAND_HELP, defineCommand, type CommandContext } from '@e3/model/cli';
import { deprovision, formatPlan, planProvision, provision } from '@e3/provision';
import { createProgressView, removeRunDirScratch, runExperiment } from '@e3/run';

import { agentBundlePath } from '../commands.js';
import { byoChecks } from '../providers/byo-checks.js';
import { localProvider } from '../providers/local.js';

export interface OrchestrateArgs {
  experiment: string;
  retain: boolean;
  run?: string;
  plan?: boolean;
}

export interface PhaseOutcome {
  phase: 'provision' | 'run' | 'gather' | 'analyze' | 'deprovision';
  exitCode: number;
  error?: { code: string; message: string; hint?: string };
}

export interface OrchestrateResult {
  run?: string;
  /** Where the run dir is at the end: runs/<run>, or archive/<run> after deprovision. */
  runDir?: string;
  phases: PhaseOutcome[];
  analysis?: AnalyzeResult;
  exitCode: number;
}

/** Worst first: interrupted, bug, invalid, environment, run failed, thresholds, ok. */
const SEVERITY = [EXIT.interrupted, EXIT.bug, EXIT.invalid, EXIT.environment, EXIT.runFailed, EXIT.thresholds, EXIT.ok];
export const worstExitCode = (codes: number[]): number =>
  codes.reduce((worst, c) => (SEVERITY.indexOf(c as never) < SEVERITY.indexOf(worst as never) ? c : worst), EXIT.ok as number);

/**
 * provision → run → gather → analyze → deprovision (unless `retain`). After a failed or interrupted run
 * it still gathers and analyses what exists; deprovision runs in any case unless retained. The exit code
 * is the worst phase's.
 */
export async function orchestrate(args: OrchestrateArgs & { home?: string }, ctx: CommandContext): Promise<OrchestrateResult> {
  const home = resolveHome({ home: args.home, cwd: ctx.cwd, env: ctx.env });
  const providers = { local: localProvider() };
  const phases: PhaseOutcome[] = [];
  const record = (phase: PhaseOutcome['phase'], err: unknown, exitCode?: number) => {
    if (err === undefined) {
      phases.push({ phase, exitCode: exitCode ?? 0 });
      return;
    }
    const rendered = renderError(err);
    const e = isE3Error(err) ? { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } : { code: 'E3_BUG', message: String(err) };
    phases.push({ phase, exitCode: rendered.exitCode, error: e });
    ctx.log(`${phase} failed: ${rendered.text}`);
  };
  const step = async <T>(phase: PhaseOutcome['phase'], fn: () => Promise<T>, exitOf?: (v: T) => number): Promise<T | undefined> => {
    ctx.log(`── ${phase}`);
    ctx.event({ event: 'phase', phase });
    try {
      const v = await fn();
      record(phase, undefined, exitOf?.(v));
      return v;
    } catch (err) {
      record(phase, err);
      return undefined;
    }
  };

  // Named here, so that deprovision can clean up after a provision that failed half-way.
  const run = args.run ?? runName(basename(args.experiment).replace(/\.json$/, ''));
  const provisioned = await step('provision', () =>
    provision({ experiment: args.experiment, run, home, cwd: ctx.cwd, env: ctx.env, providers, checks: byoChecks(), log: ctx.log, signal: ctx.signal }),
  );
  let analysis: AnalyzeResult | undefined;
  try {
    if (provisioned) {
      const view = createProgressView({ write: (t) => ctx.progress(t), tty: ctx.tty && !ctx.json });
      await step(
        'run',
        () =>
          runExperiment({
            run: provisioned.run, home, agentBundle: agentBundlePath(), signal: ctx.signal,
            log: (m) => (ctx.json ? ctx.event({ event: 'log', message: m }) : view.note(m)),
            onProgress: (p) => (ctx.json ? ctx.event({ event: 'progress', ...p }) : view.update(p, p.phase !== 'load' && p.phase !== 'stopping')),
          }),
        (r) => (r.status === 'partial' ? EXIT.runFailed : EXIT.ok),
      );
      // Whatever the run did, keep and analyse what it produced (forced: the run may have failed).
      await step('gather', () => gather({ run, home, force: true, log: ctx.log }), (g) => (g.status === 'partial' ? EXIT.runFailed : EXIT.ok));
      analysis = await step('analyze', () => analyze({ run, home, cwd: ctx.cwd, env: ctx.env, force: true, open: false, log: ctx.log }), (a) => a.exitCode);
    }
  } finally {
    // A provision that failed before creating anything leaves no run dir; after that, its ledger says what to delete.
    if (!args.retain && existsSync(join(home, 'runs', run))) {
      const cleanWorkers = (runDir: string, name: string) => removeRunDirScratch(home, runDir, name, ctx.log);
      await step('deprovision', () => deprovision({ run, home, cwd: ctx.cwd, env: ctx.env, providers, log: ctx.log, cleanWorkers }));
    }
  }
  const archived = phases.some((p) => p.phase === 'deprovision' && !p.error);
  const runDir = provisioned || archived ? join(home, archived ? 'archive' : 'runs', run) : undefined;
  if (analysis && archived && runDir) {
    const moved = (file: string) => join(runDir, file.slice(analysis!.runDir.length));
    analysis = {
      ...analysis,
      runDir,
      analysisDir: moved(analysis.analysisDir),
      summaryFile: moved(analysis.summaryFile),
      charts: analysis.charts.map(moved),
      ...(analysis.reportFile ? { reportFile: moved(analysis.reportFile) } : {}),
    };
  }
  return { run, runDir, phases, analysis, exitCode: worstExitCode(phases.map((p) => p.exitCode)) };
}

export function formatOrchestrate(r: OrchestrateResult): string {
  const lines = r.phases.map((p) => `${p.phase.padEnd(12)} ${p.error ? `failed [${p.error.code}] ${p.error.message.split('\n')[0]}` : p.exitCode ? `exit ${p.exitCode}` : 'ok'}`);
  if (r.analysis?.reportFile) lines.push('', `report: ${r.analysis.reportFile}`);
  if (r.runDir) lines.push(`run dir: ${r.runDir}`);
  return lines.join('\n');
}

/**
 * What `e3 demo` and `e3 orchestrate` print at the end: the analysis (stages, verdict and failed checks),
 * which thread held the most at the top stage, then each phase's outcome and where the report is.
 */
export function formatOutcome(r: OrchestrateResult): string {
  const lines: string[] = [];
  if (r.analysis) lines.push(formatAnalyzeResult(r.analysis), '');
  const compared = formatTopStage(topStageThroughput(r.analysis?.summary));
  if (compared.length) lines.push(...compared, '');
  lines.push(formatOrchestrate(r));
  return lines.join('\n');
}

export const orchestrateCommand = defineCommand<OrchestrateArgs>({
  name: 'orchestrate',
  description: COMMAND_HELP.orchestrate,
  options: {
    experiment: { type: 'string', alias: 'e', description: 'Experiment name in e3-home/experiments, or a path to one', required: true },
    run: { type: 'string', description: 'Run name (default: <experiment>-<UTC yyyymmddThhmmssZ>)' },
    retain: { type: 'boolean', description: 'Keep the machines (skip deprovision)', default: false },
    plan: { type: 'boolean', description: 'Only print what provision would create and its estimated hourly cost; create nothing', default: false },
  },
  examples: [['e3 orchestrate -e local-demo', 'everything, locally'], ['e3 orchestrate -e cluster-scaling-ssh --plan', 'what E³\'s quick start would create and cost'], ['e3 orchestrate -e mixed-test --retain', 'keep the machines for another run']],
  async run(args, ctx) {
    if (args.plan) {
      const plan = await planProvision({ experiment: args.experiment, home: (args as { home?: string }).home, cwd: ctx.cwd, env: ctx.env });
      return { text: formatPlan(plan), data: plan };
    }
    const result = await orchestrate(args, ctx);
    return { text: formatOutcome(result), data: result, exitCode: result.exitCode };
  },
});
