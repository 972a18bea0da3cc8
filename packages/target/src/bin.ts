import { readFileSync } from 'node:fs';

import { runCli } from '@e3/model/cli';

import { targetCommand } from './command.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
process.exitCode = await runCli({ scriptName: 'e3-target', version, commands: [targetCommand], single: true, argv: process.argv.slice(2) });
