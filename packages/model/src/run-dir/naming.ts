import { E3Error } from '../errors/e3-error.js';

/** Experiment names and run names: what may appear in a file name. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** True when `name` can be an e3-home file or run name (no slashes, no leading dot). */
export function isSafeName(name: string): boolean {
  return NAME.test(name) && !name.includes('..');
}

/**
 * Throws E3_UNSAFE_NAME unless `name` is a safe name: every name that becomes a path in e3-home passes
 * here, so nothing is read or written outside it. `what` says where the name came from (`--run`, a field).
 */
export function assertSafeName(name: string, what: string): void {
  if (isSafeName(name)) return;
  throw new E3Error('UNSAFE_NAME', `${what}: ${JSON.stringify(name)} is not a safe name: it must not contain "/", "\\" or "..", nor start with "." or "-"`, {
    hint: 'Use letters, digits, ".", "_", ":" and "-" only, e.g. my-workload; e3 finds the file in its e3-home folder by this name',
  });
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
