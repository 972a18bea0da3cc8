import type { ErrorClass } from '@e3/model';

/**
 * A failure raised inside a script pass. `errorText` is what goes into the samples.csv `error` column:
 * `<class>` or `<class> <detail>`; the class is its first word.
 */
export interface OpFailure extends Error {
  readonly errorClass: ErrorClass;
  readonly errorText: string;
  /** True when the failing sample is already recorded (a request), so the pass must not record it again. */
  readonly recorded: boolean;
}

const FAILURE = Symbol.for('e3.agent.OpFailure');

/** Makes an OpFailure (a plain Error with fields; E3Error is for user-facing errors, not samples). */
export function opFailure(errorClass: ErrorClass, detail: string, options: { recorded?: boolean; cause?: unknown } = {}): OpFailure {
  const errorText = redact(detail ? `${errorClass} ${detail}` : errorClass).slice(0, 300);
  const err = new Error(errorText, options.cause === undefined ? undefined : { cause: options.cause }) as Error & Record<string | symbol, unknown>;
  err.name = 'OpFailure';
  err.errorClass = errorClass;
  err.errorText = errorText;
  err.recorded = options.recorded ?? false;
  err[FAILURE] = true;
  return err as unknown as OpFailure;
}

export function isOpFailure(err: unknown): err is OpFailure {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[FAILURE] === true;
}

/** Removes credentials from URLs and Authorization values in a message. */
export function redact(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^@\s/]*@/gi, '$1:***@')
    .replace(/(authorization:\s*\w+\s+)\S+/gi, '$1***')
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[private key]');
}
