import type { ErrorClass } from '@e3/model';

import { isOpFailure, redact } from '../recorder/errors.js';

/**
 * Timeouts raised by Node's own `fetch` (undici), which user scripts may call instead of `ctx.http`: an
 * AbortSignal.timeout() abort (`TimeoutError`) and undici's header and body timeouts.
 */
const FETCH_TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Classifies anything a script pass throws into a samples.csv error class and text: an OpFailure keeps its
 * own; a timeout (ours or fetch's) is `timeout`; anything else is `exception <code> <message>`, redacted.
 */
export function classify(err: unknown): { errorClass: ErrorClass; errorText: string } {
  if (isOpFailure(err)) return { errorClass: err.errorClass, errorText: err.errorText };
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === 'TimeoutError' || (typeof e?.code === 'string' && FETCH_TIMEOUT_CODES.has(e.code))) {
    return { errorClass: 'timeout', errorText: 'timeout' };
  }
  const msg = e?.code ? `${e.code} ${e.message ?? ''}` : String(e?.message ?? err);
  return { errorClass: 'exception', errorText: redact(`exception ${msg}`).slice(0, 300) };
}
