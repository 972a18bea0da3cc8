/**
 * The shape of an e3 command. Each phase package exports one `CommandDef`; `@e3/cli` composes them and
 * each phase's own bin runs its one command with `runCli`. Handlers return data and never print or exit.
 */
export interface OptionDef {
  type: 'string' | 'number' | 'boolean' | 'array';
  description: string;
  alias?: string;
  default?: string | number | boolean | string[];
  choices?: readonly string[];
  /** Required unless set by a default. */
  required?: boolean;
  hidden?: boolean;
}

export interface PositionalDef {
  description: string;
  array?: boolean;
  required?: boolean;
  choices?: readonly string[];
}

/** Options every e3 command accepts. */
export interface GlobalOptions {
  home?: string;
  json: boolean;
}

export interface CommandContext {
  /** True with `--json`: the result's `data` is printed as JSON; progress goes to stderr as NDJSON. */
  json: boolean;
  /** Progress and notes for people (stderr). Never secrets. */
  log(message: string): void;
  /** Machine-readable progress events (NDJSON on stderr with --json, otherwise ignored). */
  event(event: Record<string, unknown>): void;
  /** Raw progress text to the command's stderr, as given (live views that redraw lines). Never secrets. */
  progress(text: string): void;
  /** Aborted on SIGINT/SIGTERM; long work stops and returns or throws E3_INTERRUPTED. */
  signal: AbortSignal;
  /** Whether stderr is a terminal (live progress lines may be redrawn). */
  tty: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface CommandResult {
  /** Printed to stdout without --json. */
  text?: string;
  /** Printed as JSON to stdout with --json. */
  data?: unknown;
  /** Exit code; 0 when absent. */
  exitCode?: number;
}

export interface CommandDef<A = Record<string, unknown>> {
  /** The word after `e3`, e.g. `gather`; with positionals in yargs form: `validate [paths..]`. */
  name: string;
  description: string;
  positionals?: Record<string, PositionalDef>;
  options?: Record<string, OptionDef>;
  examples?: Array<[command: string, description: string]>;
  /** Subcommands (e.g. `target start`); a command has either subcommands or run. */
  subcommands?: CommandDef[];
  run?(args: A & GlobalOptions, ctx: CommandContext): Promise<CommandResult>;
}

/** A command `@e3/cli` can list without importing its package. */
export interface LazyCommand {
  name: string;
  description: string;
  load(): Promise<CommandDef>;
}

/** Type helper: a command definition whose `run` receives typed args. */
export function defineCommand<A>(def: CommandDef<A>): CommandDef {
  return def as unknown as CommandDef;
}
