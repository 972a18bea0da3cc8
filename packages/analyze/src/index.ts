/**
 * @e3/analyze — reads a run folder (`<run>.json`, `thread-*\/stages.json`, every worker's
 * `stage-*\/samples.csv`, collectd CSV/RRD) and writes `analysis/`: PNG charts, `report.html`,
 * `summary.json`, then `phases/analyze.json`. See packages/model/README.md#run-directory.
 */

/**
 * `analyze({ run })`: one streaming pass over the samples, every chart, report.html, summary.json and the
 * thresholds verdict (exit code 5 in the result when one fails). `analyzeCommand` is `e3 analyze`;
 * `computeAnalysis(runDir)` computes the same without writing; `formatAnalyzeResult` is the CLI text.
 * Throws E3_RUN_NOT_FOUND, E3_PHASE_NOT_READY, E3_INVALID_FILE, E3_SAMPLES_FORMAT, E3_RUN_DIR_INCOMPATIBLE, E3_IO, E3_INTERRUPTED.
 */
export {
  analyze,
  analyzeCommand,
  computeAnalysis,
  formatAnalyzeResult,
  type Analysis,
  type AnalyzeArgs,
  type AnalyzeOptions,
  type AnalyzeResult,
} from './analyze.js';

/**
 * `compare({ baseline, contender })`: baseline runs against contender runs (replicates judged against the
 * run-to-run spread): per thread, stage, test and op the throughput, error rate and latency percentiles,
 * per thread the peak and break point; a regression is a one-sided significant change beyond tolerance.
 * Writes compare.html and compare.json. `compareCommand` is `e3 compare`; `compareStats` is the
 * statistics on analysis summaries alone (docs/analyze.md#comparing-runs).
 */
export {
  compare,
  compareCommand,
  formatCompare,
  locateRun,
  parseTestTolerances,
  readToleranceFile,
  type CompareArgs,
  type CompareOptions,
  type CompareResult,
  type Comparison,
} from './compare.js';
export { compareStats, type CommonShift, type Finding, type RunStats, type StatsResult, type Tolerance } from './compare-stats.js';

/** The experiment's question and answer (top-stage throughput per thread) and the verdict lines, shared by the report and the CLI. */
export { experimentAnswer, formatTopStage, topStageThroughput, verdictLines, type TopStage } from './answer.js';
/** The thresholds verdict as JUnit XML (`e3 analyze --junit <file>`). */
export { junitXml } from './junit.js';
/** Per-second series per thread from the samples, active clients from the agents' ticks (analysis/timeseries.csv). */
export { readTimeSeries, timeSeriesCsv, TIMESERIES_FILE, type SeriesPoint, type ThreadSeries } from './timeseries.js';

/** The one rounding of every number analyze and compare print or write (docs/analyze.md#rounding). */
export { DIGITS, formatMs, formatNumber, formatPercent, formatTps, roundTo } from './format.js';
/** The inline script that sorts report.html's detail tables by a clicked header. */
export { sortScript } from './report.js';

/** The Chart.js specification of one chart (rendered to PNG and inlined in report.html). */
export type { ChartSpec } from './charts.js';
/** System metrics read from collectd CSV or RRD. */
export type { MetricSeries, NodeMetrics, Strip } from './metrics.js';
