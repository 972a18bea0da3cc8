/** Starts a target (HTTP + SSH) on a data folder; see StartTargetOptions. Throws E3_TARGET, E3_USAGE. */
export { startTarget, readRuntimeInfo, type StartTargetOptions, type RunningTarget, type TargetRuntimeInfo } from './target.js';
/** Seeds a dataset and writes E³ snapshot and instance files into e3-home. Throws E3_TARGET, E3_USAGE, E3_FILE_NOT_FOUND. */
export { seedTarget, type SeedTargetOptions, type SeedResult } from './seed.js';
/** Save/restore of repos + database, stopping a detached target, waiting for `/status`. */
export { saveState, restoreState, stopTarget, waitForRunning, type DataOptions } from './control.js';
/** The `e3 target` command definition (start, stop, seed, save-state, restore-state). */
export { startDetachedTarget, targetCommand } from './command.js';
