import { readFileSync } from 'node:fs';

import { runCli } from '@e3/model/cli';

import { deprovisionCommand, provisionCommand } from './commands.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const deprovisionBin = process.argv[2] === 'deprovision';

process.exitCode = await runCli({
  scriptName: 'e3-provision',
  version,
  single: !deprovisionBin,
  commands: deprovisionBin ? [provisionCommand, deprovisionCommand] : [provisionCommand],
  argv: process.argv.slice(2),
});
