import yargs, { type Argv } from 'yargs';

import { EXIT } from '../errors/codes.js';
import { E3Error } from '../errors/e3-error.js';
import { renderError } from '../errors/render.js';
import { abortActivePhasesSync } from '../run-dir/phase.js';
import { E3_VERSION } from '../version.js';
import type { CommandContext, CommandDef, CommandResult, LazyCommand } from './command.js';

export interface RunCliOptions {
  /** Program name shown in help: `e3` or `e3-gather`. */
  scriptName: string;
  /** Printed by `--version`; default E3_VERSION. */
  version?: string;
  /** Commands, loaded lazily: only the selected one is imported. */
  commands: Array<CommandDef | LazyCommand>;
  /** With a single command, its options are the program's (`npx @e3/gather -r <run>`). */
  single?: boolean;
  argv: string[];
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Signals closer than this to the first one are relays of the same interrupt, not a request to force. */
export const SAME_INTERRUPT_MS = 1000;

const commandWord = (name: string): string => name.split(' ')[0]!;
const isLazy = (c: CommandDef | LazyCommand): c is LazyCommand => 'load' in c && typeof c.load === 'function';

function addOptions(y: Argv, def: CommandDef): Argv {
  for (const [name, p] of Object.entries(def.positionals ?? {})) {
    y = y.positional(name, { describe: p.description, type: 'string', array: p.array, choices: p.choices as string[] | undefined });
  }
  for (const [name, o] of Object.entries(def.options ?? {})) {
    y = y.option(name, {
      describe: o.description,
      type: o.type === 'array' ? 'string' : o.type,
      array: o.type === 'array',
      alias: o.alias,
      default: o.default,
      choices: o.choices as string[] | undefined,
      demandOption: o.required,
      hidden: o.hidden,
    });
  }
  for (const [cmd, desc] of def.examples ?? []) y = y.example(cmd, desc);
  return y;
}

function register(y: Argv, def: CommandDef, invoke: (def: CommandDef, args: Record<string, unknown>) => Promise<void>, asDefault = false): Argv {
  return y.command(
    asDefault ? ['$0', ...positionalsOf(def)].join(' ').trim() : def.name,
    def.description,
    (sub) => {
      let s = addOptions(sub, def);
      for (const child of def.subcommands ?? []) s = register(s, child, invoke);
      if (def.subcommands?.length) s = s.demandCommand(1, `Choose a subcommand of ${commandWord(def.name)}`);
      return s;
    },
    def.run ? (args) => invoke(def, args as Record<string, unknown>) : undefined,
  );
}

function positionalsOf(def: CommandDef): string[] {
  return def.name.split(' ').slice(1);
}

/**
 * Runs a CLI built from command definitions and returns the exit code. Prints results (text, or JSON with
 * `--json`), and every error through `renderError`. Never calls process.exit.
 */
export async function runCli(options: RunCliOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const json = options.argv.includes('--json');
  const controller = new AbortController();
  let firstSignalAt: number | undefined;
  // A second signal quits at once; phases under way are marked aborted and their processes killed first,
  // synchronously. A signal within SAME_INTERRUPT_MS of the first is the same interrupt: wrappers such as
  // pnpm and tsx relay the terminal's Ctrl-C (tsx also sends SIGTERM), so one Ctrl-C arrives as two signals.
  const onSignal = () => {
    const at = Date.now();
    if (firstSignalAt !== undefined) {
      if (at - firstSignalAt < SAME_INTERRUPT_MS) return;
      abortActivePhasesSync();
      process.exit(EXIT.interrupted);
    }
    firstSignalAt = at;
    controller.abort(new E3Error('INTERRUPTED', 'interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const ctx: CommandContext = {
    json,
    log: (m) => {
      if (!json) stderr.write(m.endsWith('\n') ? m : `${m}\n`);
    },
    event: (e) => {
      if (json) stderr.write(JSON.stringify(e) + '\n');
    },
    progress: (text) => {
      stderr.write(text);
    },
    signal: controller.signal,
    tty: Boolean((stderr as NodeJS.WriteStream).isTTY),
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? process.env,
  };

  let result: CommandResult | undefined;
  let failure: unknown;
  let usage: string | undefined;
  const invoke = async (def: CommandDef, args: Record<string, unknown>) => {
    try {
      result = await def.run!({ ...args, json, home: args.home as string | undefined } as never, ctx);
    } catch (err) {
      failure = err;
    }
  };

  try {
    let y: Argv = yargs(options.argv)
      .scriptName(options.scriptName)
      .version(options.version ?? E3_VERSION)
      .option('home', { type: 'string', describe: 'e3-home folder (default: $E3_HOME, the nearest e3-home/ upwards, then the repository\'s)', global: true })
      .option('json', { type: 'boolean', default: false, describe: 'Print results and errors as JSON', global: true })
      .strict()
      .completion('completion', 'Print a bash/zsh completion script: `e3 completion >> ~/.bashrc` (or ~/.zshrc)')
      .help()
      .wrap(Math.min(110, process.stdout.columns ?? 100))
      .exitProcess(false)
      .fail((msg: string, err: Error) => {
        if (err) throw err;
        usage = msg;
      });

    if (options.single) {
      const def = await load(options.commands[0]!);
      y = register(y, def, invoke, true);
    } else {
      const word = options.argv.find((a) => !a.startsWith('-'));
      for (const c of options.commands) {
        if (word === commandWord(c.name)) y = register(y, await load(c), invoke);
        else y = y.command(c.name, c.description, () => undefined as never, () => undefined);
      }
      y = y.demandCommand(1, 'Choose a command');
    }

    let helpText = '';
    const out = await y.parseAsync(options.argv, {}, (_err, _argv, output) => {
      helpText = output;
    });
    void out;
    if (usage !== undefined) {
      const err = new E3Error('USAGE', usage, { hint: `Run \`${options.scriptName} --help\` to see the commands and options` });
      // As every error: on stdout as JSON with --json (docs/cli.md), else on stderr.
      (json ? stdout : stderr).write(renderError(err, { json }).text + '\n');
      return err.exitCode;
    }
    if (helpText && result === undefined && failure === undefined) stdout.write(helpText + '\n');
  } catch (err) {
    failure = err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  if (failure !== undefined) {
    const rendered = renderError(failure, { json });
    (json ? stdout : stderr).write(rendered.text + '\n');
    return controller.signal.aborted ? EXIT.interrupted : rendered.exitCode;
  }
  if (result) {
    if (json) {
      if (result.data !== undefined) stdout.write(JSON.stringify(result.data, null, 2) + '\n');
    } else if (result.text) stdout.write(result.text.endsWith('\n') ? result.text : `${result.text}\n`);
    return result.exitCode ?? EXIT.ok;
  }
  return controller.signal.aborted ? EXIT.interrupted : EXIT.ok;
}

async function load(c: CommandDef | LazyCommand): Promise<CommandDef> {
  return isLazy(c) ? c.load() : c;
}
