import { runCli } from '@e3/model/cli';

import { analyzeCommand } from './analyze.js';

process.exitCode = await runCli({ scriptName: 'e3-analyze', single: true, commands: [analyzeCommand], argv: process.argv.slice(2) });
