import { runCli } from '@e3/model/cli';

import { addUsersCommand, keygenCommand, snapshotCommand } from './command.js';

const argv = process.argv.slice(2);
// `npx @e3/snapshot …` is `e3 snapshot …`; `e3-snapshot keygen …` and `e3-snapshot add-users …` reach the other two.
const multi = argv[0] === 'keygen' || argv[0] === 'add-users' || argv[0] === 'snapshot';
process.exitCode = await runCli({
  scriptName: 'e3-snapshot',
  commands: multi ? [snapshotCommand, keygenCommand, addUsersCommand] : [snapshotCommand],
  single: !multi,
  argv,
});
