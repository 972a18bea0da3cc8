/** Gather a run's files from its nodes into the run dir (reads the run file and stages.json; writes gather.json, phases/gather.json and the node folders). */
export {
  collectdDayGlobs,
  gather,
  DEFAULT_COLLECTD_CSV_DIR,
  DEFAULT_COLLECTD_RRD_DIR,
  DEFAULT_SERVER_LOG_DIR,
  type GatheredNodeResult,
  type GatherOptions,
  type GatherResult,
  type NodeProgress,
} from './gather.js';
/** The `e3 gather` command. */
export { gatherCommand, type GatherArgs } from './command.js';
