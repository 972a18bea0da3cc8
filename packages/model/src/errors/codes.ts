/**
 * The one catalogue of e3 error codes. Each code has a one-line meaning and its process exit code.
 *
 * Exit codes: 0 ok · 1 bug · 2 invalid input or usage · 3 environment or provisioning · 4 run failed ·
 * 5 thresholds failed · 6 regression flagged (`e3 compare --fail-on-regression`) · 130 interrupted.
 */
export const EXIT = {
  ok: 0,
  bug: 1,
  invalid: 2,
  environment: 3,
  runFailed: 4,
  thresholds: 5,
  regression: 6,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

interface CodeInfo {
  readonly exit: ExitCode;
  readonly doc: string;
}

export const ERROR_CODES = {
  E3_USAGE: { exit: EXIT.invalid, doc: 'The command line is wrong: unknown command, missing or bad option.' },
  E3_JSON_PARSE: { exit: EXIT.invalid, doc: 'A file is not valid JSON (or has repeated keys).' },
  E3_INVALID_FILE: { exit: EXIT.invalid, doc: 'A file does not match its schema or breaks a rule.' },
  E3_FILE_NOT_FOUND: { exit: EXIT.invalid, doc: 'A named file (experiment, workload, snapshot, instance, keys, run) does not exist.' },
  E3_HOME_NOT_FOUND: { exit: EXIT.invalid, doc: 'No e3-home folder could be found.' },
  E3_UNSAFE_NAME: { exit: EXIT.invalid, doc: 'A name that becomes a path in e3-home (workload, instance, snapshot, keys, run) has "/", ".." or other characters that could leave e3-home.' },
  E3_UNKNOWN_KIND: { exit: EXIT.invalid, doc: 'The kind of e3-home file is not one e3 knows.' },
  E3_RUN_DIR_INCOMPATIBLE: { exit: EXIT.invalid, doc: 'A run-directory file has a format version this e3 does not read.' },
  E3_RUN_NOT_FOUND: { exit: EXIT.invalid, doc: 'The run named is in neither e3-home/runs nor e3-home/archive, nor is it the path of a run folder.' },
  E3_PHASE_NOT_READY: { exit: EXIT.invalid, doc: 'A phase needs an earlier phase that failed, is still running or has not run (`--force` goes on anyway).' },
  E3_SAMPLES_FORMAT: { exit: EXIT.invalid, doc: 'A samples.csv file has a bad header or row.' },
  E3_PATH_ESCAPE: { exit: EXIT.invalid, doc: 'A path leaves the folder it must stay in.' },
  E3_IO: { exit: EXIT.environment, doc: 'Reading or writing a local file failed.' },
  E3_ENVIRONMENT: { exit: EXIT.environment, doc: 'A tool or service that e3 needs is missing or not working.' },
  E3_NODE_UNREACHABLE: { exit: EXIT.environment, doc: 'A node could not be reached over SSH.' },
  E3_NODE_AUTH: { exit: EXIT.environment, doc: 'SSH authentication to a node failed.' },
  E3_NODE_TIMEOUT: { exit: EXIT.environment, doc: 'A command on a node did not finish in time.' },
  E3_HOST_KEY_MISMATCH: { exit: EXIT.environment, doc: "A node's SSH host key differs from the one pinned in its instance file." },
  E3_PROVISION: { exit: EXIT.environment, doc: 'Creating or destroying machines failed.' },
  E3_TARGET: { exit: EXIT.environment, doc: 'The local target could not start, stop or answer.' },
  E3_HEALTH_TIMEOUT: { exit: EXIT.environment, doc: 'The system under test did not report RUNNING in time.' },
  E3_AGENT_PROTOCOL: { exit: EXIT.environment, doc: 'The agent speaks another control-protocol version than this e3 (e.g. an old --agent-bundle).' },
  E3_HTTP: { exit: EXIT.environment, doc: 'A server answered an e3 tool call with an error.' },
  E3_RUN_FAILED: { exit: EXIT.runFailed, doc: 'A stage of the run failed.' },
  E3_AGENT: { exit: EXIT.runFailed, doc: 'A load agent failed or broke the control protocol.' },
  E3_GATHER_PARTIAL: { exit: EXIT.runFailed, doc: 'Some nodes could not be gathered.' },
  E3_THRESHOLDS: { exit: EXIT.thresholds, doc: 'The run worked but its thresholds failed.' },
  E3_REGRESSION: { exit: EXIT.regression, doc: '`e3 compare --fail-on-regression` flagged a regression: a change worse than its tolerance, significant against the run-to-run spread (or the samples, with one run a side).' },
  E3_INTERRUPTED: { exit: EXIT.interrupted, doc: 'The command was interrupted (SIGINT/SIGTERM).' },
} as const satisfies Record<`E3_${string}`, CodeInfo>;

export type E3Code = keyof typeof ERROR_CODES;

/** The exit code for a catalogue code; unknown codes are bugs (1). */
export function exitCodeFor(code: string): ExitCode {
  return (ERROR_CODES as Record<string, CodeInfo>)[code]?.exit ?? EXIT.bug;
}
