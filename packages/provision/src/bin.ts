import { runCli } from '@e3/model/cli';

import { deprovisionCommand, provisionCommand } from './commands.js';

const deprovisionBin = process.argv[2] === 'deprovision';

process.exitCode = await runCli({
  scriptName: 'e3-provision',
  single: !deprovisionBin,
  commands: deprovisionBin ? [provisionCommand, deprovisionCommand] : [provisionCommand],
  argv: process.argv.slice(2),
});
