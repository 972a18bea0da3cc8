import { EXIT, renderError } from '@e3/model';

import { runCli } from './cli/main.js';

const ctl = new AbortController();
let interrupts = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (++interrupts > 1) process.exit(EXIT.interrupted);
    ctl.abort();
  });
}
runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, signal: ctl.signal }).then(
  (code) => {
    process.exitCode = code;
    if (process.stdin.readable && process.argv.length > 2) process.stdin.destroy();
  },
  (err: unknown) => {
    const r = renderError(err, { json: process.argv.includes('--json') || process.argv.length <= 2 });
    process.stderr.write(r.text + '\n');
    process.exitCode = r.exitCode;
  },
);
