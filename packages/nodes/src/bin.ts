import { runCli } from '@e3/model/cli';

import { nodesCommand } from './command.js';

process.exitCode = await runCli({ scriptName: 'e3-nodes', single: true, commands: [nodesCommand], argv: process.argv.slice(2) });
