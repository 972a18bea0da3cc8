import { runCli } from '@e3/model/cli';

import { commands, version } from './commands.js';

process.exitCode = await runCli({ scriptName: 'e3', version, commands, argv: process.argv.slice(2) });
