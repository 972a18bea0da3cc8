import { runCli } from '@e3/model/cli';

import { commands } from './commands.js';

process.exitCode = await runCli({ scriptName: 'e3', commands, argv: process.argv.slice(2) });
