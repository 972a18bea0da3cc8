/** What `e3 compare` prints (a short Rally-like table) and its compare.html page. */
import type { CompareResult, Comparison } from './compare.js';
import type { Finding, Metric } from './compare-stats.js';
import { DIGITS, formatMs, formatNumber, formatPercent, formatTps, roundTo } from './format.js';
import { chartJs, esc, scriptJson, STYLE } from './report.js';

const UNIT: Record<Metric, string> = { p50: 'ms', p95: 'ms', p99: 'ms', tps: 'TPS', errorRate: '', 'peak tps': 'TPS', 'break load': '' };

const num = (x: number | null, m: Metric): string => {
  if (x === null || Number.isNaN(x)) return 'n/a';
  if (!Number.isFinite(x)) return m === 'break load' ? 'none' : 'n/a';
  if (m === 'errorRate') return formatPercent(x);
  if (m === 'tps' || m === 'peak tps') return formatTps(x);
  return m === 'break load' ? formatNumber(x, 0) : formatMs(x);
};

/** A relative change or tolerance (fraction) in % with one decimal; error rates in points with two. */
const pctOf = (x: number) => formatNumber(x * 100, DIGITS.change);
const ptOf = (x: number) => formatNumber(x * 100, DIGITS.percent);

const signed = (s: string) => (s.startsWith('-') || s === 'n/a' || s === 'none' ? s : `+${s}`);

/** Diff % (points for the error rate); insufficient data never shows a bare number. */
export function diffPercent(f: Finding): string {
  if (f.change === null || !Number.isFinite(f.change)) return 'n/a';
  if (f.metric === 'errorRate') return `${f.change >= 0 ? '+' : ''}${ptOf(f.change)} pt`;
  return `${f.change >= 0 ? '+' : ''}${pctOf(f.change)} %`;
}

const metricName = (f: Finding) => (UNIT[f.metric] ? `${f.metric} ${UNIT[f.metric]}` : f.metric);

/** How far beyond its tolerance a finding went (sort key: largest regressions first). */
const excess = (f: Finding) => Math.abs(f.judged ?? f.change ?? 0) - f.tolerance;

function tableLines(rows: Finding[]): string[] {
  const head = ['Metric', 'Thread/Stage/Test', 'Baseline', 'Contender', 'Diff', 'Diff %', 'Verdict'];
  const cells = rows.map((f) => [
    metricName(f),
    f.label.length > 48 ? `${f.label.slice(0, 47)}…` : f.label,
    num(f.baseline, f.metric),
    num(f.contender, f.metric),
    f.verdict === 'insufficient data' ? '–' : signed(num(f.diff, f.metric)),
    f.verdict === 'insufficient data' ? '–' : diffPercent(f),
    f.verdict === 'insufficient data' ? `insufficient data${f.note ? ` (${f.note})` : ''}` : f.verdict + (f.judged !== null && f.judged !== f.change ? ` (${pctOf(f.judged)} % beyond the common shift)` : ''),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i >= 2 && i <= 5 ? x.padStart(width[i]!) : x.padEnd(i === c.length - 1 ? 0 : width[i]!))).join('  ').trimEnd();
  return [line(head), ...cells.map(line)];
}

function formatComparison(c: Comparison): string[] {
  const lines: string[] = [];
  const who = (runs: string[]) => (runs.length > 3 ? `${runs.slice(0, 2).join(', ')} … (${runs.length} runs)` : runs.join(', '));
  lines.push(c.threads ? `${c.contender[0]}: thread ${c.threads.contender} vs thread ${c.threads.baseline}` : `contender ${who(c.contender)} vs baseline ${who(c.baseline)}`);
  lines.push(c.statement);
  const by = (v: Finding['verdict']) => c.findings.filter((f) => f.verdict === v).sort((a, b) => excess(b) - excess(a));
  const regressions = by('regression');
  const improvements = by('improvement');
  const insufficient = by('insufficient data');
  const shown = [...regressions.slice(0, 15), ...improvements.slice(0, 5), ...insufficient.slice(0, 5)];
  if (shown.length) lines.push(...tableLines(shown));
  const more = (n: number, shownN: number, what: string) => (n > shownN ? `${n - shownN} more ${what}` : undefined);
  const rest = [more(regressions.length, 15, 'regressions'), more(improvements.length, 5, 'improvements'), more(insufficient.length, 5, 'with insufficient data')].filter(Boolean);
  if (rest.length) lines.push(`(${rest.join(', ')}: see the report or --json)`);
  for (const s of c.common) {
    lines.push(`common latency shift of ${s.thread} (${s.metric}): ${s.change >= 0 ? '+' : ''}${pctOf(s.change)} %, ${s.verdict === 'within tolerance' ? 'within tolerance or the run-to-run spread' : s.verdict}`);
  }
  const within = c.findings.filter((f) => f.verdict === 'within tolerance').length;
  lines.push(`${c.findings.length + c.common.length} compared: ${c.regressions} regressions, ${c.improvements} improvements, ${within} within tolerance, ${c.insufficient} insufficient data`);
  if (c.unmatched.length) lines.push(`not compared (one side only): ${c.unmatched.slice(0, 3).join('; ')}${c.unmatched.length > 3 ? `; … ${c.unmatched.length - 3} more` : ''}`);
  return lines;
}

/** The text `e3 compare` prints: per comparison a short table, largest regressions first, the rest counted. */
export function formatCompare(r: CompareResult): string {
  const lines: string[] = [];
  for (const c of r.comparisons) lines.push(...formatComparison(c), '');
  const tol = Object.keys(r.tests).length ? ` (per-test: ${Object.keys(r.tests).join(', ')})` : '';
  lines.push(`tolerance ${pctOf(r.noiseFloor)} % latency and throughput, ${pctOf(r.errorFloor)} pt error rate${tol}; one-sided α = ${r.alpha}`);
  lines.push(r.regressions ? `${r.regressions} regression${r.regressions > 1 ? 's' : ''} flagged` : 'no regression beyond tolerance');
  if (r.htmlFile) lines.push(`report: ${r.htmlFile}`);
  return lines.join('\n');
}

const COLOR: Record<Finding['verdict'], string> = { regression: '#d62728', improvement: '#2ca02c', 'within tolerance': '#9aa5b1', 'insufficient data': '#dddddd' };

/** A bar chart of the judged changes (%), flagged ones and the largest others, with the value in each label. */
function chartOf(c: Comparison): { width: number; height: number; config: unknown } {
  const judged = c.findings.filter((f) => f.judged !== null && Number.isFinite(f.judged));
  const flagged = judged.filter((f) => f.verdict === 'regression' || f.verdict === 'improvement');
  const others = judged.filter((f) => !flagged.includes(f)).sort((a, b) => Math.abs(b.judged!) - Math.abs(a.judged!));
  const rows = [...flagged, ...others].slice(0, Math.max(25, flagged.length));
  const pct = (x: number) => roundTo(x * 100, DIGITS.change);
  return {
    width: 1400,
    height: Math.max(260, 90 + rows.length * 22),
    config: {
      type: 'bar',
      data: {
        labels: rows.map((f) => `${f.metric} · ${f.label}: ${pct(f.judged!) >= 0 ? '+' : ''}${pct(f.judged!)} % (tolerance ${pct(f.tolerance)} %)`),
        datasets: [{ label: 'judged change (%)', data: rows.map((f) => pct(f.judged!)), backgroundColor: rows.map((f) => COLOR[f.verdict]) }],
      },
      options: {
        animation: false,
        indexAxis: 'y',
        plugins: { legend: { display: false }, title: { display: true, text: 'Change judged per metric (%): red regression, green improvement, grey within tolerance' } },
        scales: {
          x: { title: { display: true, text: 'change of contender vs baseline (%; throughput: negative is worse)' }, ticks: { display: true } },
          y: { title: { display: true, text: 'metric · thread / stage / test / op' }, ticks: { autoSkip: false } },
        },
      },
    },
  };
}

function tableHtml(c: Comparison): string {
  const order: Finding['verdict'][] = ['regression', 'improvement', 'insufficient data', 'within tolerance'];
  const rows = [...c.findings].sort((a, b) => order.indexOf(a.verdict) - order.indexOf(b.verdict) || excess(b) - excess(a));
  const p = (x: number | null) => (x === null ? '' : x < 0.001 ? x.toExponential(1) : formatNumber(x, 3));
  return (
    '<table><thead><tr><th class="l">Metric</th><th class="l">Thread/Stage/Test</th><th>Baseline</th><th>Contender</th><th>Diff</th><th>Diff %</th><th>Judged</th><th>Tolerance</th><th>p (worse)</th><th>p (better)</th><th class="l">Verdict</th></tr></thead><tbody>' +
    rows
      .map(
        (f) =>
          `<tr class="${f.verdict === 'regression' ? 'bad' : ''}"><td class="l">${esc(metricName(f))}</td><td class="l">${esc(f.label)}</td><td>${num(f.baseline, f.metric)}</td><td>${num(f.contender, f.metric)}</td>` +
          `<td>${f.verdict === 'insufficient data' ? '–' : signed(num(f.diff, f.metric))}</td><td>${f.verdict === 'insufficient data' ? '–' : diffPercent(f)}</td><td>${f.judged === null ? '' : diffPercent({ ...f, change: f.judged })}</td><td>${f.metric === 'errorRate' ? `${pctOf(f.tolerance)} pt` : `${pctOf(f.tolerance)} %`}</td>` +
          `<td>${p(f.pWorse)}</td><td>${p(f.pBetter)}</td><td class="l"><strong>${esc(f.verdict)}</strong>${f.note ? ` <span class="muted">${esc(f.note)}</span>` : ''}</td></tr>`,
      )
      .join('') +
    '</tbody></table>'
  );
}

export function renderCompareHtml(r: CompareResult): string {
  const charts = r.comparisons.map(chartOf);
  const sections = r.comparisons.map((c, i) => {
    const title = c.threads ? `${c.contender[0]}: thread ${c.threads.contender} vs thread ${c.threads.baseline}` : `contender ${c.contender.join(', ')} vs baseline ${c.baseline.join(', ')}`;
    const common = c.common.map((s) => `<li>common latency shift of ${esc(s.thread)} (${s.metric}): ${pctOf(s.change)} % — ${esc(s.verdict)}</li>`).join('');
    return (
      `<h2>${esc(title)}</h2><p>${esc(c.statement)}</p>` +
      `<p>${c.regressions} regressions, ${c.improvements} improvements, ${c.insufficient} insufficient data.</p>` +
      (common ? `<ul>${common}</ul>` : '') +
      `<figure><canvas data-chart="${i}" style="width:100%;aspect-ratio:${charts[i]!.width}/${charts[i]!.height}"></canvas></figure>` +
      tableHtml(c) +
      (c.unmatched.length ? `<p class="muted">Not compared: ${c.unmatched.map(esc).join('<br>')}</p>` : '')
    );
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>e3 compare</title><style>${STYLE}</style></head><body>
<h1>e3 compare</h1><div class="verdict ${r.regressions ? 'fail' : 'pass'}">${r.regressions ? `${r.regressions} regressions flagged` : 'No regression beyond tolerance'}</div>
<p class="muted">Method: ${esc(r.method)}. Tolerance ${pctOf(r.noiseFloor)} % (latency, throughput), ${pctOf(r.errorFloor)} pt (error rate). Generated ${esc(r.generatedAt)}.</p>
${sections.join('\n')}
<script id="e3-charts" type="application/json">${scriptJson(charts)}</script>
<script>${chartJs()}</script>
<script>(function(){var specs=JSON.parse(document.getElementById('e3-charts').textContent);document.querySelectorAll('canvas[data-chart]').forEach(function(c){var s=specs[Number(c.dataset.chart)];s.config.options.aspectRatio=s.width/s.height;new Chart(c,s.config);});})();</script>
</body></html>\n`;
}
