import { exitCodeFor, type E3Code, type ExitCode } from './codes.js';

const BRAND = Symbol.for('e3.E3Error');

type ShortCode = E3Code extends `E3_${infer S}` ? S : never;

export interface E3ErrorOptions {
  /** What to do next: the exact command to run or file to edit. Leave it out when there is none. */
  hint?: string;
  cause?: unknown;
  /** Extra machine-readable facts (e.g. every validation problem). Never secrets. */
  details?: unknown;
}

/** The one user-facing error. The code is prefixed with `E3_` when given without it. */
export class E3Error extends Error {
  readonly code: E3Code;
  readonly hint?: string;
  readonly details?: unknown;
  readonly [BRAND] = true;

  constructor(code: E3Code | ShortCode, message: string, options: E3ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'E3Error';
    this.code = (code.startsWith('E3_') ? code : `E3_${code}`) as E3Code;
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.details !== undefined) this.details = options.details;
  }

  get exitCode(): ExitCode {
    return exitCodeFor(this.code);
  }
}

/** True for an E3Error from any realm (jest runs tests in separate VM contexts, so no instanceof). */
export function isE3Error(err: unknown): err is E3Error {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
}
