// `@e3/model/cli`: the command shape every e3 bin uses, its runner (yargs) and the help catalogue.
// Kept out of `@e3/model` so that the contract (and the agent bundle built on it) carries no CLI tooling.
export {
  defineCommand,
  type CommandContext,
  type CommandDef,
  type CommandResult,
  type GlobalOptions,
  type LazyCommand,
  type OptionDef,
  type PositionalDef,
} from './command.js';
export { runCli, type RunCliOptions } from './run-cli.js';
export { COMMAND_HELP, type CommandWord } from './help.js';
