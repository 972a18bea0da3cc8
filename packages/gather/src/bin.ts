import { runCli } from '@e3/model/cli';

import { gatherCommand } from './command.js';

process.exitCode = await runCli({ scriptName: 'e3-gather', version: '0.1.0', single: true, commands: [gatherCommand], argv: process.argv.slice(2) });
