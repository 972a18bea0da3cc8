import { join, resolve } from 'node:path';

import { COMPARE_JSON_FILE, COMPARE_REPORT_FILE, E3Error, EXIT, writeFileAtomic, writeJsonAtomic } from '@e3/model';
import { COMMAND_HELP, defineCommand } from '@e3/model/cli';

import { aggregateRun, percentile, windowCount, type Cell } from './aggregate.js';
import { chartJs, esc, scriptJson, STYLE } from './report.js';
import { readRun, resolveRunDir, type RunInfo } from './run-dir.js';
import { bootstrapRelativeChange, mannWhitney, normalCdf, reservoirValues } from './stats.js';

export interface CompareOptions {
  /** Baseline run (name in e3-home/runs or path). */
  baseline: string;
  /** Runs compared with the baseline; none: the baseline's threads are compared with its first thread. */
  runs?: string[];
  home?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Smallest relative change of the median that counts (default 0.10 = 10 %). */
  noiseFloor?: number;
  /** Significance level of the Mann–Whitney test (default 0.01). */
  alpha?: number;
  /** Durations kept per aggregate for the tests (uniform reservoir, default 5000). */
  sampleSize?: number;
  /** Folder for compare.html and compare.json (default: the analysis folder of the first run compared). */
  out?: string;
  /** Write compare.html and compare.json (default true). */
  write?: boolean;
  signal?: AbortSignal;
}

/** One aggregate compared: stage × test × op × kind of one subject against the baseline. */
export interface CompareRow {
  stage: number;
  test: string;
  op: string;
  kind: Cell['kind'];
  /** count: completed samples; cut: cut ones (in neither count nor the latencies); tps: over the load window. */
  baseline: { count: number; errors: number; cut: number; median: number; mean: number; p95: number; tps: number | null };
  subject: { count: number; errors: number; cut: number; median: number; mean: number; p95: number; tps: number | null };
  /** Relative change of the median, with its bootstrap 95 % confidence interval. */
  median: { change: number; low: number; high: number };
  meanChange: number;
  p95Change: number;
  /** Mann–Whitney two-sided p of the durations. */
  p: number;
  /** Error rate difference (subject − baseline) and its two-proportion z-test p. */
  errorRate: { change: number; p: number };
  /** Set when significant (p < alpha, CI excludes 0) and larger than the noise floor. */
  flag?: 'slower' | 'faster' | 'more errors' | 'fewer errors';
}

export interface Subject {
  run: string;
  thread: string;
  threadIndex: number;
}

export interface Comparison {
  baseline: Subject;
  subject: Subject;
  rows: CompareRow[];
  /** Aggregates only one side has. */
  unmatched: string[];
}

export interface CompareResult {
  generatedAt: string;
  method: string;
  noiseFloor: number;
  alpha: number;
  comparisons: Comparison[];
  flagged: number;
  regressions: number;
  htmlFile?: string;
  jsonFile?: string;
}

interface Loaded {
  info: RunInfo;
  cells: Map<string, Cell>;
}

const key = (c: { thread: number; stage: number; test: string; op: string; kind: string }) => [c.thread, c.stage, c.kind, c.test, c.op].join('\u0000');

async function load(run: string, o: CompareOptions): Promise<Loaded> {
  const info = await readRun(resolveRunDir(run, o));
  const agg = await aggregateRun(info, { visuals: false, keepValues: o.sampleSize ?? 5000, signal: o.signal });
  return { info, cells: new Map(agg.cells.map((c) => [key(c), c])) };
}

const sideOf = (info: RunInfo, c: Cell) => {
  const w = info.threads[c.thread]!.stages[c.stage]!.windowMs;
  const sorted = Float64Array.from(reservoirValues(c.values!)).sort();
  return {
    count: c.count,
    errors: c.errors,
    cut: c.cut,
    median: sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! : 0,
    mean: c.count ? c.sum / c.count : 0,
    p95: percentile(c, 95),
    tps: w ? windowCount(c) / (w / 1000) : null,
  };
};

function twoProportion(e1: number, n1: number, e2: number, n2: number): number {
  if (!n1 || !n2) return 1;
  const p = (e1 + e2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  if (se === 0) return 1;
  const z = Math.abs(e2 / n2 - e1 / n1) / se;
  return 2 * (1 - normalCdf(z));
}

function compareThreads(a: Loaded, ta: number, b: Loaded, tb: number, o: Required<Pick<CompareOptions, 'noiseFloor' | 'alpha'>>): Comparison {
  const rows: CompareRow[] = [];
  const unmatched: string[] = [];
  const bKeys = new Set<string>();
  for (const cb of b.cells.values()) if (cb.thread === tb) bKeys.add(key({ ...cb, thread: ta }));
  for (const ca of a.cells.values()) {
    if (ca.thread !== ta) continue;
    const k = key(ca);
    const cb = b.cells.get(key({ ...ca, thread: tb }));
    const label = `stage ${ca.stage} ${ca.test} / ${ca.op} (${ca.kind})`;
    if (!cb) {
      unmatched.push(`${label}: only in the baseline`);
      continue;
    }
    bKeys.delete(k);
    const va = reservoirValues(ca.values!);
    const vb = reservoirValues(cb.values!);
    const base = sideOf(a.info, ca);
    const subj = sideOf(b.info, cb);
    const mw = mannWhitney(va, vb);
    const ci = va.length > 1 && vb.length > 1 ? bootstrapRelativeChange(va, vb, { iterations: 300 }) : { estimate: 0, low: 0, high: 0 };
    const errChange = subj.errors / Math.max(1, subj.count) - base.errors / Math.max(1, base.count);
    const errP = twoProportion(base.errors, base.count, subj.errors, subj.count);
    const row: CompareRow = {
      stage: ca.stage, test: ca.test, op: ca.op, kind: ca.kind, baseline: base, subject: subj,
      median: { change: ci.estimate, low: ci.low, high: ci.high },
      meanChange: base.mean ? (subj.mean - base.mean) / base.mean : 0,
      p95Change: base.p95 ? (subj.p95 - base.p95) / base.p95 : 0,
      p: mw.p,
      errorRate: { change: errChange, p: errP },
    };
    const significant = mw.p < o.alpha && (ci.low > 0 || ci.high < 0);
    if (significant && Math.abs(ci.estimate) >= o.noiseFloor) row.flag = ci.estimate > 0 ? 'slower' : 'faster';
    else if (errP < o.alpha && Math.abs(errChange) >= 0.01) row.flag = errChange > 0 ? 'more errors' : 'fewer errors';
    rows.push(row);
  }
  for (const k of bKeys) {
    const [, stage, kind, test, op] = k.split('\u0000');
    unmatched.push(`stage ${stage} ${test} / ${op} (${kind}): only in the compared run`);
  }
  return {
    baseline: { run: a.info.run, thread: a.info.threads[ta]!.name, threadIndex: ta },
    subject: { run: b.info.run, thread: b.info.threads[tb]!.name, threadIndex: tb },
    rows,
    unmatched,
  };
}

/**
 * Compares runs with a baseline (or, with no runs, the baseline's threads with its first thread):
 * per stage × test × op × kind, the relative change of the median with a bootstrap 95 % confidence
 * interval and a Mann–Whitney test on the durations. A change is flagged only when it is significant
 * (p < alpha and the interval excludes 0) and at least the noise floor. Reads each run's samples;
 * writes compare.html and compare.json. Throws E3_RUN_NOT_FOUND, E3_PHASE_NOT_READY, E3_SAMPLES_FORMAT, E3_USAGE.
 */
export async function compare(options: CompareOptions): Promise<CompareResult> {
  const o = { noiseFloor: options.noiseFloor ?? 0.1, alpha: options.alpha ?? 0.01 };
  if (!(o.noiseFloor >= 0) || !(o.alpha > 0 && o.alpha < 1)) {
    throw new E3Error('USAGE', `--noise-floor must be ≥ 0 and --alpha in (0, 1); got ${options.noiseFloor} and ${options.alpha}`, { hint: 'e.g. `e3 compare <baseline> <run> --noise-floor 0.1 --alpha 0.01`' });
  }
  const base = await load(options.baseline, options);
  const comparisons: Comparison[] = [];
  let outDir = options.out;
  if (!options.runs?.length) {
    if (base.info.threads.length < 2) {
      throw new E3Error('USAGE', `${base.info.run} has one thread; name a run to compare it with`, { hint: `e3 compare ${base.info.run} <other run>` });
    }
    for (let t = 1; t < base.info.threads.length; t++) comparisons.push(compareThreads(base, 0, base, t, o));
    outDir ??= base.info.paths.analysisDir;
  } else {
    for (const run of options.runs) {
      const other = await load(run, options);
      outDir ??= other.info.paths.analysisDir;
      for (const t of base.info.threads) {
        const match = other.info.threads.find((x) => x.name === t.name) ?? other.info.threads[t.index];
        if (match) comparisons.push(compareThreads(base, t.index, other, match.index, o));
      }
    }
  }
  const flagged = comparisons.reduce((n, c) => n + c.rows.filter((r) => r.flag).length, 0);
  const regressions = comparisons.reduce((n, c) => n + c.rows.filter((r) => r.flag === 'slower' || r.flag === 'more errors').length, 0);
  const result: CompareResult = {
    generatedAt: new Date().toISOString(),
    method: `median change with a bootstrap 95 % CI (300 resamples of up to ${options.sampleSize ?? 5000} durations per aggregate) and a two-sided Mann–Whitney U test; flagged when p < ${o.alpha}, the CI excludes 0 and |change| ≥ ${o.noiseFloor * 100} %; error rates by a two-proportion z-test (≥ 1 point)`,
    ...o,
    comparisons,
    flagged,
    regressions,
  };
  if (options.write !== false) {
    const dir = resolve(outDir!);
    result.htmlFile = join(dir, COMPARE_REPORT_FILE);
    result.jsonFile = join(dir, COMPARE_JSON_FILE);
    await writeJsonAtomic(result.jsonFile, result);
    await writeFileAtomic(result.htmlFile, renderCompareHtml(result));
  }
  return result;
}

const pc = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
const ms = (x: number) => x.toFixed(1);

/** The table `e3 compare` prints. */
export function formatCompare(r: CompareResult): string {
  const lines: string[] = [];
  for (const c of r.comparisons) {
    lines.push(`${c.subject.run} / ${c.subject.thread}  vs baseline  ${c.baseline.run} / ${c.baseline.thread}`);
    lines.push('  stage  test / op (kind)                                   median ms          change [95 % CI]            p        flag');
    for (const row of c.rows) {
      const what = `${row.test} / ${row.op} (${row.kind === 'transaction' ? 'tx' : 'req'})`;
      lines.push(
        `  ${String(row.stage).padStart(5)}  ${what.slice(0, 50).padEnd(50)} ${ms(row.baseline.median).padStart(8)} → ${ms(row.subject.median).padEnd(8)} ` +
          `${pc(row.median.change).padStart(8)} [${pc(row.median.low)}, ${pc(row.median.high)}]`.padEnd(34) +
          ` ${row.p.toExponential(1).padStart(8)}  ${row.flag ?? ''}`,
      );
    }
    for (const u of c.unmatched) lines.push(`  (${u})`);
  }
  lines.push(r.flagged ? `${r.flagged} flagged (${r.regressions} regressions)` : 'no significant difference beyond the noise floor');
  if (r.htmlFile) lines.push(`report: ${r.htmlFile}`);
  return lines.join('\n');
}

function renderCompareHtml(r: CompareResult): string {
  const charts: Array<{ width: number; height: number; config: unknown }> = [];
  const sections = r.comparisons.map((c, ci) => {
    const rows = c.rows;
    const labels = rows.map((x) => `${x.stage} ${x.test} / ${x.op} (${x.kind === 'transaction' ? 'tx' : 'req'})`);
    charts.push({
      width: 1400,
      height: Math.max(240, 80 + rows.length * 22),
      config: {
        type: 'bar',
        data: {
          labels,
          datasets: [
            {
              label: 'median change, 95 % CI (%)',
              data: rows.map((x) => [Math.round(x.median.low * 1000) / 10, Math.round(x.median.high * 1000) / 10]),
              backgroundColor: rows.map((x) => (x.flag === 'slower' || x.flag === 'more errors' ? '#d62728' : x.flag ? '#2ca02c' : '#9aa5b1')),
            },
          ],
        },
        options: { animation: false, indexAxis: 'y', plugins: { legend: { display: false }, title: { display: true, text: `${c.subject.run} / ${c.subject.thread} vs ${c.baseline.run} / ${c.baseline.thread}: median change (%)` } }, scales: { x: { title: { display: true, text: '% change of the median (bar = 95 % CI)' } } } },
      },
    });
    return (
      `<h2>${esc(c.subject.run)} / ${esc(c.subject.thread)} <span class="muted">vs baseline ${esc(c.baseline.run)} / ${esc(c.baseline.thread)}</span></h2>` +
      `<figure><canvas data-chart="${ci}" style="width:100%;aspect-ratio:${charts[ci]!.width}/${charts[ci]!.height}"></canvas></figure>` +
      `<table><thead><tr><th>stage</th><th class="l">test</th><th class="l">op</th><th class="l">kind</th><th>count</th><th>median ms</th><th>change</th><th>95 % CI</th><th>mean</th><th>p95</th><th>p</th><th>error rate Δ</th><th class="l">flag</th></tr></thead><tbody>` +
      rows
        .map(
          (x) =>
            `<tr class="${x.flag === 'slower' || x.flag === 'more errors' ? 'bad' : ''}"><td>${x.stage}</td><td class="l">${esc(x.test)}</td><td class="l">${esc(x.op)}</td><td class="l">${x.kind}</td><td>${x.baseline.count} → ${x.subject.count}</td>` +
            `<td>${ms(x.baseline.median)} → ${ms(x.subject.median)}</td><td>${pc(x.median.change)}</td><td>[${pc(x.median.low)}, ${pc(x.median.high)}]</td><td>${pc(x.meanChange)}</td><td>${pc(x.p95Change)}</td><td>${x.p.toExponential(1)}</td><td>${pc(x.errorRate.change)}</td><td class="l"><strong>${x.flag ?? ''}</strong></td></tr>`,
        )
        .join('') +
      `</tbody></table>` +
      (c.unmatched.length ? `<p class="muted">${c.unmatched.map(esc).join('<br>')}</p>` : '')
    );
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>e3 compare</title><style>${STYLE}</style></head><body>
<h1>e3 compare</h1><div class="verdict ${r.regressions ? 'fail' : r.flagged ? 'pass' : 'none'}">${r.flagged ? `${r.flagged} flagged, ${r.regressions} regressions` : 'No significant difference beyond the noise floor'}</div>
<p class="muted">Method: ${esc(r.method)}. Generated ${esc(r.generatedAt)}.</p>
${sections.join('\n')}
<script id="e3-charts" type="application/json">${scriptJson(charts)}</script>
<script>${chartJs()}</script>
<script>(function(){var specs=JSON.parse(document.getElementById('e3-charts').textContent);document.querySelectorAll('canvas[data-chart]').forEach(function(c){var s=specs[Number(c.dataset.chart)];s.config.options.aspectRatio=s.width/s.height;new Chart(c,s.config);});})();</script>
</body></html>\n`;
}

export interface CompareArgs {
  baseline: string;
  runs?: string[];
  noiseFloor: number;
  alpha: number;
  out?: string;
  failOnRegression: boolean;
}

/** `e3 compare <baseline> [runs..]`: exit 0, or 5 with --fail-on-regression when something got slower or failed more. */
export const compareCommand = defineCommand<CompareArgs>({
  name: 'compare <baseline> [runs..]',
  description: COMMAND_HELP.compare,
  positionals: {
    baseline: { description: 'Baseline run (name in e3-home/runs or path)', required: true },
    runs: { description: 'Runs to compare with it; none: compare the baseline\'s threads with its first thread', array: true },
  },
  options: {
    'noise-floor': { type: 'number', default: 0.1, description: 'Smallest relative change of the median that is flagged (0.1 = 10 %)' },
    alpha: { type: 'number', default: 0.01, description: 'Significance level of the Mann–Whitney test' },
    out: { type: 'string', description: 'Folder for compare.html and compare.json (default: analysis/ of the first run compared)' },
    'fail-on-regression': { type: 'boolean', default: false, description: 'Exit 5 when something is flagged slower or failing more' },
  },
  examples: [
    ['e3 compare demo-20261125T093000Z demo-20261126T093000Z', 'a run against its baseline'],
    ['e3 compare demo-20261125T093000Z', 'the threads of one run against its first thread'],
  ],
  async run(args, ctx) {
    const r = await compare({
      baseline: args.baseline, runs: args.runs ?? [], home: args.home, cwd: ctx.cwd, env: ctx.env,
      noiseFloor: args.noiseFloor, alpha: args.alpha, ...(args.out ? { out: args.out } : {}), signal: ctx.signal,
    });
    return { text: formatCompare(r), data: r, exitCode: args.failOnRegression && r.regressions ? EXIT.thresholds : EXIT.ok };
  },
});
