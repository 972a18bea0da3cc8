/**
 * File and folder names the analyze phase reads and writes (besides layout.ts).
 * The prose description lives in packages/model/README.md#run-directory.
 */
export const ANALYSIS_SUMMARY_FILE = 'summary.json';
export const ANALYSIS_REPORT_FILE = 'report.html';
export const ANALYSIS_SCREENSHOT_FILE = 'report.png';
/** collectd's CSV writer output inside a node folder: `collectd-csv/<host>/<plugin-instance>/<type-instance>-YYYY-MM-DD`. */
export { NODE_COLLECTD_CSV_DIR as COLLECTD_CSV_DIR } from './layout.js';
/** collectd's RRD writer output inside a node folder: `collectd-rrd/<host>/<plugin-instance>/<type-instance>.rrd`. */
export const COLLECTD_RRD_DIR = 'collectd-rrd';
/** Node folder names inside a thread folder: worker-node-NNN, cluster-node-NNN, file-server-NNN. */
export const NODE_DIR_PATTERN = /^(worker-node|cluster-node|file-server)-\d{3}$/;
/** `e3 compare` outputs, written to the analysis folder of the run compared (or `--out`). */
export const COMPARE_REPORT_FILE = 'compare.html';
export const COMPARE_JSON_FILE = 'compare.json';
