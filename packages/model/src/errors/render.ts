import { EXIT, type ExitCode } from './codes.js';
import { isE3Error } from './e3-error.js';

export interface RenderedError {
  /** Text for stderr (human) or stdout (`--json`), without trailing newline. */
  text: string;
  exitCode: ExitCode;
}

/**
 * Renders any thrown value the way every e3 bin prints it.
 * E3Error → `[E3_CODE] message`, a blank line, the hint; no stack.
 * Anything else → the stack and a request to report the bug; exit 1.
 * With `json`, `{"error":{"code","message","hint"}}`.
 */
export function renderError(err: unknown, options: { json?: boolean } = {}): RenderedError {
  if (isE3Error(err)) {
    if (options.json) {
      const error: Record<string, unknown> = { code: err.code, message: err.message };
      if (err.hint) error.hint = err.hint;
      if (err.details !== undefined) error.details = err.details;
      return { text: JSON.stringify({ error }), exitCode: err.exitCode };
    }
    const text = `[${err.code}] ${err.message}` + (err.hint ? `\n\n${err.hint}` : '');
    return { text, exitCode: err.exitCode };
  }
  const stack = err instanceof Error ? (err.stack ?? String(err)) : String(err);
  if (options.json) {
    return {
      text: JSON.stringify({ error: { code: 'E3_BUG', message: err instanceof Error ? err.message : String(err), stack } }),
      exitCode: EXIT.bug,
    };
  }
  return {
    text: `${stack}\n\nThis is a bug in e3 — please report it with the output above.`,
    exitCode: EXIT.bug,
  };
}
