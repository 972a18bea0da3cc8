import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { stageKey, type AnalysisSummary, type SummaryRow } from '@e3/model';

import type { Analysis } from './analyze.js';
import { experimentAnswer } from './answer.js';
import { bandsPlugin, type ChartSpec } from './charts.js';
import { DIGITS, formatMs, formatNumber, formatPercent, formatTps } from './format.js';

let chartJsSource: string | undefined;

/** The Chart.js UMD bundle from node_modules, inlined so the report needs no network. */
export function chartJs(): string {
  if (chartJsSource === undefined) {
    const main = createRequire(import.meta.url).resolve('chart.js');
    chartJsSource = readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
  }
  return chartJsSource;
}

export const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON safe inside a <script> element. */
export const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const iso = (t?: number) => (t === undefined ? '–' : new Date(t).toISOString().replace('.000Z', 'Z'));

export const STYLE = `
:root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; }
body { margin: 0 auto; max-width: 1480px; padding: 16px 24px 64px; overflow-wrap: anywhere; }
h1 { font-size: 1.6rem; margin-bottom: 4px; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { margin-top: 1.4rem; } .muted { color: #666; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.86rem; display: block; max-width: 100%; overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; vertical-align: top; white-space: nowrap; }
td.wrap { white-space: normal; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
tr.tx td { background: #fafaf0; } tr.bad td { background: #fdecea; }
.verdict { padding: 10px 16px; border-radius: 6px; font-weight: 600; margin: 12px 0; }
.pass { background: #e6f4ea; color: #0b6b2b; } .fail { background: #fdecea; color: #a50e0e; } .none { background: #eef1f5; }
.warn { background: #fff7e0; padding: 8px 16px; border-radius: 6px; }
figure { margin: 12px 0 24px; } figure canvas { max-width: 100%; }
nav a { margin-right: 12px; } code { background: #f4f4f4; padding: 0 3px; }
details > summary { cursor: pointer; font-weight: 600; margin: 8px 0; }
th button.sort { all: unset; cursor: pointer; } th button.sort:focus-visible { outline: 2px solid #1f77b4; outline-offset: 2px; }
th[aria-sort="ascending"] button.sort::after { content: " ▲"; } th[aria-sort="descending"] button.sort::after { content: " ▼"; }
#answer { border: 1px solid #ddd; border-radius: 6px; padding: 4px 16px; margin: 12px 0; } #answer p { margin: 8px 0; }
@media print { details { display: block; } figure { break-inside: avoid; } nav { display: none; } }
`;

function verdictHtml(v: AnalysisSummary['verdict']): string {
  if (v.thresholds === 0) return `<div class="verdict none" id="verdict">Verdict: no thresholds in the experiment</div>`;
  if (v.passed) return `<div class="verdict pass" id="verdict">Verdict: passed — ${v.checks.length} checks of ${v.thresholds} thresholds</div>`;
  return `<div class="verdict fail" id="verdict">Verdict: FAILED — ${v.failed.length} of ${v.checks.length} checks<ul>${v.failed.map((f) => `<li>${esc(f)}</li>`).join('')}</ul></div>`;
}

/** Which thread held the most load, and where each one broke. */
function glanceHtml(s: AnalysisSummary): string {
  const rows = s.threads.filter((t) => t.peak);
  if (!rows.length) return '';
  const best = rows.reduce((a, b) => (b.peak!.tps > a.peak!.tps ? b : a));
  const lead = rows.length > 1 ? `<p><strong>${esc(best.name)}</strong> held the most load: ${formatTps(best.peak!.tps)} TPS at load ${best.peak!.load ?? '–'}.</p>` : '';
  return (
    `<div id="glance">${lead}<table><thead><tr><th class="l">thread</th><th>peak TPS</th><th>at load</th><th class="l">breaks at</th><th class="l">why</th></tr></thead><tbody>` +
    rows
      .map(
        (t) =>
          `<tr><td class="l">${esc(t.name)}</td><td>${formatTps(t.peak!.tps)}</td><td>${t.peak!.load ?? '–'}</td>` +
          `<td class="l">${t.breaksAt ? `stage ${stageKey(t.breaksAt.stage)} (load ${t.breaksAt.load ?? '–'})` : 'did not break'}</td><td class="l wrap">${esc(t.breaksAt?.reason ?? '')}</td></tr>`,
      )
      .join('') +
    `</tbody></table></div>`
  );
}

/** The first screen: the experiment's question (its description), the answer with its deciding numbers, the verdict. */
function answerHtml(s: AnalysisSummary): string {
  const { question, answer } = experimentAnswer(s);
  return (
    `<section id="answer"><p class="question"><strong>Question:</strong> ${esc(question)}</p>` +
    `<p class="answer"><strong>Answer:</strong> ${answer.length ? answer.map(esc).join('<br>') : 'no stage measured a throughput'}</p>${verdictHtml(s.verdict)}</section>`
  );
}

/** Per-second throughput, errors, active clients and percentiles per thread over the whole run (analysis/timeseries.csv). */
function timeSeriesHtml(specs: ChartSpec[], fig: (c: ChartSpec) => string): string {
  const cs = specs.filter((c) => c.group === 'timeseries');
  const intro = `<h2 id="over-time">Over time</h2><p class="muted">Per second, every worker of a thread, from the samples (active clients from the agents' ticks); shaded bands are the stages. The same series, per test too, are in <code>timeseries.csv</code>.</p>`;
  return intro + (cs.length ? `<div id="over-time-charts">${cs.map(fig).join('')}</div>` : `<p class="muted">No per-second ticks were gathered (the workers' stage summary.json).</p>`);
}

function rowsTable(rows: SummaryRow[]): string {
  const head = ['test', 'op', 'kind', 'count', 'errors', 'error rate', 'cut', 'in drain', 'TPS', 'mean ms', 'p50', 'p90', 'p95', 'p99', 'max'];
  return `<table class="sortable"><thead><tr>${head.map((h, i) => `<th class="${i < 3 ? 'l' : ''}" aria-sort="none"><button type="button" class="sort" title="sort by ${h}">${h}</button></th>`).join('')}</tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr class="${r.kind === 'transaction' || r.op === '*' ? 'tx' : ''}${r.errors ? ' bad' : ''}"><td class="l">${esc(r.test)}</td><td class="l">${esc(r.op)}</td><td class="l">${r.kind}</td>` +
        `<td>${r.count}</td><td>${r.errors}</td><td>${formatPercent(r.errorRate)}</td><td>${r.cut ?? 0}</td><td>${r.drainCount ?? '–'}</td><td>${formatTps(r.tps)}</td><td>${formatMs(r.mean)}</td><td>${formatMs(r.p50)}</td><td>${formatMs(r.p90)}</td><td>${formatMs(r.p95)}</td><td>${formatMs(r.p99)}</td><td>${formatMs(r.max)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

/** Per stage, every worker agent's vital signs (summary.json `health`): one stage across the workers at once. */
function healthHtml(a: Analysis): string {
  const rows = a.info.threads.flatMap((t) =>
    t.stages.flatMap((st) =>
      st.agents.flatMap((ag) => {
        const h = ag.health;
        if (!h) return [];
        const bound = a.summary.generatorBound?.some((b) => b.thread === t.index && b.stage === st.index && b.worker === ag.worker);
        return [`<tr class="${bound ? 'bad' : ''}"><td class="l">${esc(t.name)}</td><td>${st.key}</td><td>${ag.worker + 1}</td><td>${h.hostCpuPercent}</td><td>${h.processCpuPercent}</td><td>${h.eventLoopDelayMs}</td><td>${h.maxEventLoopDelayMs}</td><td>${h.maxActive}</td><td class="l">${bound ? 'generator-bound' : ''}</td></tr>`];
      }),
    ),
  );
  if (!rows.length) return '';
  return (
    `<h3 id="agent-health">Load generators per stage</h3><p class="muted">Each worker agent's own vital signs over the stage: host CPU and agent CPU are means (agent: % of one core), event-loop delay the median and the largest per-second p99.</p>` +
    `<table><thead><tr><th class="l">thread</th><th>stage</th><th>worker</th><th>host CPU %</th><th>agent CPU %</th><th>loop delay ms</th><th>max loop delay ms</th><th>max in flight</th><th class="l"></th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function figure(spec: ChartSpec, index: number, pngs: boolean): string {
  return `<figure><canvas id="chart-${index}" data-chart="${index}" width="${spec.width}" height="${spec.height}" style="aspect-ratio:${spec.width}/${spec.height};width:100%"></canvas>${
    pngs ? `<noscript><img src="${esc(spec.file)}" alt="${esc(spec.title)}" width="${spec.width}" height="${spec.height}"></noscript>` : ''
  }</figure>`;
}

/** The script that draws every chart from the inlined data when the page loads. */
export function chartBootstrap(): string {
  return `
(function () {
  Chart.register({ id: 'e3Bands', ${bandsPlugin.beforeDatasetsDraw.toString()} });
  var specs = JSON.parse(document.getElementById('e3-charts').textContent);
  function draw(canvas) {
    if (canvas.dataset.drawn) return;
    canvas.dataset.drawn = '1';
    var spec = specs[Number(canvas.dataset.chart)];
    var cfg = spec.config;
    cfg.options = Object.assign({}, cfg.options, { responsive: true, maintainAspectRatio: true, aspectRatio: spec.width / spec.height });
    new Chart(canvas, cfg);
  }
  var canvases = Array.prototype.slice.call(document.querySelectorAll('canvas[data-chart]'));
  // Every chart is drawn at once, so that printing or saving as PDF has them all.
  canvases.forEach(draw);
  window.addEventListener('beforeprint', function () { canvases.forEach(draw); });
  window.e3DrawAll = function () { canvases.forEach(draw); return canvases.length; };
})();`;
}

/**
 * The script that makes every `table.sortable` sortable: a header is a button; a click sorts the rows by
 * its column (numbers as numbers, text as text, "–" or empty last either way), a second click reverses.
 */
export function sortScript(): string {
  return `
(function () {
  function key(td) {
    var t = td ? td.textContent.trim() : '';
    if (t === '' || t === '\\u2013') return null;
    var n = Number(t.replace(/[,%\\s]/g, ''));
    return isNaN(n) ? t.toLowerCase() : n;
  }
  function compare(a, b) {
    if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
    return typeof a === 'number' ? -1 : 1;
  }
  Array.prototype.slice.call(document.querySelectorAll('table.sortable')).forEach(function (table) {
    var ths = Array.prototype.slice.call(table.querySelectorAll('thead th'));
    ths.forEach(function (th, col) {
      var button = th.querySelector('button.sort');
      if (!button) return;
      button.addEventListener('click', function () {
        var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        ths.forEach(function (h) { h.setAttribute('aria-sort', 'none'); });
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        Array.prototype.slice.call(body.rows)
          .map(function (r, i) { return { r: r, i: i, k: key(r.cells[col]) }; })
          .sort(function (a, b) {
            if (a.k === null || b.k === null) return a.k === b.k ? a.i - b.i : a.k === null ? 1 : -1;
            return dir * compare(a.k, b.k) || a.i - b.i;
          })
          .forEach(function (x) { body.appendChild(x.r); });
      });
    });
  });
})();`;
}

/** report.html: one self-contained file (Chart.js and all data inlined; PNGs only as a no-script fallback). */
export function renderReport(a: Analysis, options: { pngs: boolean }): string {
  const s = a.summary;
  const specs = a.charts;
  const idx = new Map(specs.map((c, i) => [c, i]));
  const fig = (c: ChartSpec) => figure(c, idx.get(c)!, options.pngs);
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`);
  parts.push(`<title>e3 report: ${esc(s.run)}</title><style>${STYLE}</style></head><body>`);
  parts.push(`<h1>e3 report: ${esc(s.run)}</h1><div class="muted">${esc(s.description ?? '')} · experiment ${esc(s.experiment ?? '–')} · ${s.samples.toLocaleString('en-US')} samples · analysed ${esc(s.generatedAt)} by @e3/analyze ${esc(s.version)}</div>`);
  parts.push(answerHtml(s));
  parts.push(glanceHtml(s));
  if (!s.complete || s.warnings.length) {
    const notes = s.threads.flatMap((t) => t.stages.filter((st) => st.notes.length).map((st) => `${t.name} stage ${st.key}: ${st.notes.join('; ')}`));
    parts.push(`<div class="warn" id="partial"><strong>${s.complete ? 'Notes' : 'Partial run: the stages noted here are incomplete or their samples cannot be trusted'}</strong><ul>${[...notes, ...s.warnings].map((n) => `<li>${esc(n)}</li>`).join('')}</ul></div>`);
  }
  if (s.generatorBound?.length) {
    parts.push(`<div class="warn" id="generator-bound"><strong>Generator-bound: during these stages a worker, not the server, may have been the bottleneck (agent CPU above 85 % of a core or event-loop delay above 100 ms). Add workers or lower the load per worker.</strong><ul>${s.generatorBound.map((g) => `<li>${esc(g.message)}</li>`).join('')}</ul></div>`);
  }
  parts.push(`<nav><a href="#charts">Load charts</a><a href="#over-time">Over time</a><a href="#facts">Run</a><a href="#summary">Summary</a><a href="#stages">Stages</a><a href="#metrics">Nodes</a><a href="#errors">Errors</a><a href="#checks">Thresholds</a></nav>`);

  // The answer first: throughput against load, then times and the breakdown.
  parts.push(`<h2 id="charts">Load charts</h2>`);
  for (const c of specs.filter((c) => c.group === 'throughput' || c.group === 'time' || c.group === 'breakdown')) parts.push(fig(c));
  parts.push(timeSeriesHtml(specs, fig));

  // Run and experiment facts.
  parts.push(`<h2 id="facts">Run and experiment</h2>`);
  for (const t of s.threads) {
    parts.push(`<h3>${esc(t.name)} <span class="muted">(${t.dir}; nodes: ${esc(t.nodes.join(', ') || 'none gathered')})</span></h3>`);
    parts.push(
      `<table><thead><tr><th>stage</th><th class="l">status</th><th class="l">workload</th><th>load</th><th class="l">start</th><th class="l">end</th><th>window s</th><th>samples</th><th>TPS</th><th>in drain</th><th>cut</th><th>scheduled</th><th>late</th><th>dropped</th><th class="l">notes</th></tr></thead><tbody>` +
        t.stages
          .map(
            (st) =>
              `<tr class="${st.status === 'succeeded' ? '' : 'bad'}"><td>${st.key}</td><td class="l">${st.status}</td><td class="l">${esc(st.workload ?? '')}</td><td>${st.load ?? '–'}${st.rate !== undefined ? '/s' : ''}</td>` +
              `<td class="l">${iso(st.start)}</td><td class="l">${iso(st.end)}</td><td>${st.windowMs === null ? '–' : formatNumber(st.windowMs / 1000, DIGITS.seconds)}</td><td>${st.samples}</td><td>${formatTps(st.tps)}</td><td>${st.drainCount ?? '–'}</td><td>${st.cut ?? 0}</td><td>${st.scheduled ?? '–'}</td><td>${st.late ?? '–'}</td><td>${st.dropped ?? '–'}</td><td class="l wrap">${esc(st.notes.join('; '))}</td></tr>`,
          )
          .join('') +
        `</tbody></table>`,
    );
  }

  // Summary per thread and stage.
  parts.push(`<h2 id="summary">Summary per thread and stage</h2><p class="muted">Requests and transactions are never summed; shaded rows are the test level (transactions, or a test's requests merged as op *). Percentiles from HDR histograms (3 significant digits).</p>`);
  for (const t of s.threads) {
    for (const st of t.stages) {
      const rows = s.rows.filter((r) => r.thread === t.index && r.stage === st.index);
      if (!rows.length) continue;
      parts.push(`<details><summary>${esc(t.name)} · stage ${st.key} · load ${st.load ?? '–'} · ${formatTps(st.tps)} TPS</summary>${rowsTable(rows)}</details>`);
    }
  }

  parts.push(`<h2 id="stages">Stages: Gantt and response times</h2>`);
  for (const t of s.threads) {
    for (const st of t.stages) {
      const cs = specs.filter((c) => (c.group === 'gantt' || c.group === 'times') && c.thread === t.index && c.stage === st.index);
      if (!cs.length) continue;
      parts.push(`<h3>${esc(t.name)} stage ${st.key} (load ${st.load ?? '–'})</h3>`);
      for (const c of cs) parts.push(fig(c));
    }
  }

  parts.push(`<h2 id="metrics">Nodes: system metrics</h2><p class="muted">Shaded bands are the stage windows from stages.json.</p>`);
  const metricCharts = specs.filter((c) => c.group === 'metrics');
  if (!metricCharts.length) parts.push(`<p class="muted">No collectd CSV or RRD files were gathered for this run.</p>`);
  parts.push(healthHtml(a));
  const missing = s.metrics?.missing ?? [];
  if (missing.length) {
    parts.push(`<div class="warn" id="metrics-missing"><strong>Nodes without system metrics</strong><ul>${missing.map((m) => `<li>${esc(s.threads[m.thread]?.name ?? String(m.thread))} · ${esc(m.node)}: ${esc(m.reason)}</li>`).join('')}</ul></div>`);
  }
  for (const t of s.threads) {
    for (const node of t.nodes) {
      const cs = metricCharts.filter((c) => c.thread === t.index && c.node === node);
      if (!cs.length) continue;
      parts.push(`<details open><summary>${esc(t.name)} · ${esc(node)}</summary>${cs.map(fig).join('')}</details>`);
    }
  }

  parts.push(`<h2 id="errors">Errors</h2>`);
  if (!s.errors.length) parts.push(`<p>No failed samples.</p>`);
  else {
    parts.push(
      `<table><thead><tr><th class="l">thread</th><th>stage</th><th class="l">test</th><th class="l">op</th><th class="l">kind</th><th class="l">error</th><th>count</th><th class="l">examples</th></tr></thead><tbody>` +
        s.errors
          .map(
            (e) =>
              `<tr><td class="l">${esc(s.threads[e.thread]?.name ?? e.thread)}</td><td>${e.stage}</td><td class="l">${esc(e.test)}</td><td class="l">${esc(e.op)}</td><td class="l">${esc(e.kind)}</td><td class="l"><code>${esc(e.error)}</code></td><td>${e.count}</td><td class="l wrap">${e.examples.map((x) => `<div><code>${esc(x)}</code></div>`).join('')}</td></tr>`,
          )
          .join('') +
        `</tbody></table>`,
    );
  }

  parts.push(`<h2 id="checks">Thresholds</h2>${verdictHtml(s.verdict).replace('id="verdict"', '')}`);
  if (s.verdict.checks.length) {
    const sorted = [...s.verdict.checks].sort((x, y) => Number(x.passed) - Number(y.passed));
    parts.push(
      `<table><thead><tr><th class="l">result</th><th class="l">thread</th><th>stage</th><th class="l">test</th><th class="l">op</th><th class="l">metric</th><th>limit</th><th>actual</th></tr></thead><tbody>` +
        sorted
          .map(
            (c) =>
              `<tr class="${c.passed ? '' : 'bad'}"><td class="l">${c.passed ? 'ok' : 'FAILED'}</td><td class="l">${esc(c.thread)}</td><td>${c.stage < 0 ? '*' : c.stage}</td><td class="l">${esc(c.test)}</td><td class="l">${esc(c.op)}</td><td class="l">${c.metric}</td><td>${c.limit}</td><td>${c.metric === 'minTps' ? formatTps(c.actual) : c.metric.endsWith('Rate') ? formatPercent(c.actual) : formatMs(c.actual)}</td></tr>`,
          )
          .join('') +
        `</tbody></table>`,
    );
  }

  parts.push(`<script id="e3-charts" type="application/json">${scriptJson(specs.map((c) => ({ width: c.width, height: c.height, config: c.config })))}</script>`);
  parts.push(`<script>${chartJs()}</script><script>${chartBootstrap()}</script><script>${sortScript()}</script></body></html>\n`);
  return parts.join('\n');
}
