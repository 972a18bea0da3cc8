import { runCli } from '@e3/model/cli';

import { gatherCommand } from './command.js';

process.exitCode = await runCli({ scriptName: 'e3-gather', single: true, commands: [gatherCommand], argv: process.argv.slice(2) });
