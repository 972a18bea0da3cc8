import { describe, expect, it } from '@jest/globals';

import { E3_VERSION } from '../version.js';
import { defineCommand } from './command.js';
import { runCli } from './run-cli.js';

const sink = () => {
  const out = { text: '', write: (t: string) => ((out.text += t), true) };
  return out;
};

describe('runCli', () => {
  it("sends a command's progress to the stderr it was given, as written", async () => {
    const stdout = sink();
    const stderr = sink();
    const cmd = defineCommand({
      name: 'work',
      description: 'works',
      async run(_args, ctx) {
        ctx.progress('\x1b[2Kthread 1: 10 s\n');
        ctx.log('note');
        return { text: 'done' };
      },
    });
    const code = await runCli({ scriptName: 'e3-work', single: true, commands: [cmd], argv: [], stdout: stdout as never, stderr: stderr as never });
    expect({ code, stdout: stdout.text, stderr: stderr.text }).toEqual({ code: 0, stdout: 'done\n', stderr: '\x1b[2Kthread 1: 10 s\nnote\n' });
  });

  it('prints E3_VERSION for --version unless told another', async () => {
    const stdout = sink();
    const cmd = defineCommand({ name: 'work', description: 'works', run: async () => ({}) });
    await runCli({ scriptName: 'e3-work', single: true, commands: [cmd], argv: ['--version'], stdout: stdout as never, stderr: sink() as never });
    expect(stdout.text.trim()).toBe(E3_VERSION);
  });
});
