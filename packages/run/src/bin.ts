import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { runCli } from '@e3/model/cli';

import { createRunCommand } from './command.js';

const require = createRequire(import.meta.url);
const agentBundle = () => join(dirname(require.resolve('@e3/agent/package.json')), 'dist/e3-agent.cjs');

process.exitCode = await runCli({ scriptName: 'e3-run', single: true, commands: [createRunCommand(agentBundle)], argv: process.argv.slice(2) });
