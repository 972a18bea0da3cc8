import { runCli } from '@e3/model/cli';

import { targetCommand } from './command.js';

process.exitCode = await runCli({ scriptName: 'e3-target', commands: [targetCommand], single: true, argv: process.argv.slice(2) });
