/** Run a provisioned run's stages on its workers (reads the run file; writes phases/run.json and thread-NNN/stages.json). */
export { checkWorker, runExperiment, type RunOptions, type RunResult } from './run.js';
/** The `e3 run` command, given where the agent bundle is. */
export { createRunCommand, type RunArgs } from './command.js';
/** Instance reset between stages and the health wait. */
export { resetInstance, resetMode, waitHealthy, DEFAULT_RESTART_COMMAND } from './reset.js';
/** Live progress lines. */
export { combineTicks, createProgressView, formatProgress, type ThreadProgress } from './progress.js';
export { removeRunDirScratch, removeRunScratch } from './scratch.js';
