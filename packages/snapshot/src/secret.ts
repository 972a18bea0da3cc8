import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

import { E3Error } from '@e3/model';

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let muted = false;
    const output = new Writable({
      write(chunk, _enc, cb) {
        if (!muted) process.stderr.write(chunk);
        cb();
      },
    });
    const rl = createInterface({ input: process.stdin, output, terminal: true });
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    rl.on('SIGINT', () => {
      rl.close();
      reject(new E3Error('INTERRUPTED', 'interrupted'));
    });
    muted = true;
  });
}

/**
 * A secret from the environment variable named by `flag`'s value, or else from a hidden prompt when stdin is
 * a terminal. Never from a flag's own value (it would land in shell history). Throws E3_USAGE when neither.
 */
export async function readSecret(options: { varName?: string; flag: string; what: string; env: NodeJS.ProcessEnv; optional?: boolean }): Promise<string | undefined> {
  if (options.varName) {
    const value = options.env[options.varName];
    if (!value) {
      throw new E3Error('USAGE', `${options.flag} ${options.varName}: the environment variable ${options.varName} is not set or empty`, {
        hint: `Export it first: \`read -s ${options.varName} && export ${options.varName}\``,
      });
    }
    return value;
  }
  if (options.optional) return undefined;
  if (process.stdin.isTTY) {
    const value = await promptHidden(`${options.what}: `);
    if (value) return value;
  }
  throw new E3Error('USAGE', `no ${options.what} given`, { hint: `Pass ${options.flag} <VAR> naming an environment variable that holds it` });
}
