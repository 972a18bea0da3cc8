import { runCli } from '@e3/model/cli';

import { callerCwd } from './caller-cwd.js';
import { commands } from './commands.js';

// Relative paths and the nearest e3-home are the caller's, also through `pnpm e3` (run from the repository root).
process.chdir(callerCwd(process.env, process.cwd()));
process.exitCode = await runCli({ scriptName: 'e3', commands, argv: process.argv.slice(2) });
