/** Experiment names and run names: what may appear in a file name. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** True when `name` can be an e3-home file or run name (no slashes, no leading dot). */
export function isSafeName(name: string): boolean {
  return NAME.test(name) && !name.includes('..');
}

/**
 * The run name for an experiment started at `date`: `<experiment>-<UTC yyyymmddThhmmssZ>` (no colons, so
 * it is a valid file name everywhere).
 */
export function runName(experiment: string, date: Date = new Date()): string {
  const stamp = date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${experiment}-${stamp}`;
}

/** Splits a run name (e3 or E³ form) into experiment and start time; undefined when it is neither. */
export function parseRunName(run: string): { experiment: string; startedAt: Date } | undefined {
  let m = /^(.+)-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(run);
  if (m) {
    const [, experiment, y, mo, d, h, mi, s] = m;
    return { experiment: experiment!, startedAt: new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!)) };
  }
  m = /^(.+)-(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(run);
  if (m) {
    const [, experiment, y, mo, d, h, mi, s] = m;
    // E³ used local time without a zone; it is read as local time here too.
    return { experiment: experiment!, startedAt: new Date(+y!, +mo! - 1, +d!, +h!, +mi!, +s!) };
  }
  return undefined;
}
