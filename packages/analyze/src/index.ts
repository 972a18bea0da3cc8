/**
 * @e3/analyze — reads a run folder (`<run>.json`, `thread-*\/stages.json`, every worker's
 * `stage-*\/samples.csv`, collectd CSV/RRD) and writes `analysis/`: PNG charts, `report.html`,
 * `summary.json`, then `phases/analyze.json`. See packages/model/README.md#run-directory.
 */

/** Analyse a run: `analyze({ run })` → summary, verdict and the files written; exit code 5 in the result when a threshold failed. */
export { analyze, analyzeCommand, computeAnalysis, formatAnalyzeResult, version, type Analysis, type AnalyzeArgs, type AnalyzeOptions, type AnalyzeResult } from './analyze.js';
