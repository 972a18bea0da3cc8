import { runCli } from '@e3/model/cli';

import { analyzeCommand, version } from './analyze.js';

process.exitCode = await runCli({ scriptName: 'e3-analyze', version, single: true, commands: [analyzeCommand], argv: process.argv.slice(2) });
