import { describe, expect, it, jest } from '@jest/globals';

import { E3_VERSION } from '../version.js';
import { defineCommand } from './command.js';
import { SAME_INTERRUPT_MS, runCli } from './run-cli.js';

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

  describe('signals', () => {
    /** A command that runs until interrupted, then takes `cleanupMs` to stop cleanly. */
    const waiter = (cleanupMs: number, started: () => void) =>
      defineCommand({
        name: 'wait',
        description: 'waits',
        async run(_args, ctx) {
          started();
          await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
          await new Promise((r) => setTimeout(r, cleanupMs));
          return { text: 'stopped cleanly' };
        },
      });

    it('counts a relayed second signal (SIGINT then SIGTERM at once, as tsx sends) as the same interrupt', async () => {
      const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
      try {
        const stdout = sink();
        const code = runCli({
          scriptName: 'e3-wait', single: true, argv: [], stdout: stdout as never, stderr: sink() as never,
          commands: [waiter(200, () => setImmediate(() => (process.emit('SIGINT'), process.emit('SIGTERM'))))],
        });
        await code;
        expect(exit).not.toHaveBeenCalled();
        expect(stdout.text).toBe('stopped cleanly\n');
      } finally {
        exit.mockRestore();
      }
    });

    it('forces the exit (130) on a second signal later than SAME_INTERRUPT_MS after the first', async () => {
      const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
      try {
        const code = runCli({
          scriptName: 'e3-wait', single: true, argv: [], stdout: sink() as never, stderr: sink() as never,
          commands: [waiter(SAME_INTERRUPT_MS + 500, () => setImmediate(() => {
            process.emit('SIGINT');
            setTimeout(() => process.emit('SIGINT'), SAME_INTERRUPT_MS + 100);
          }))],
        });
        await code;
        expect(exit).toHaveBeenCalledWith(130);
      } finally {
        exit.mockRestore();
      }
    });
  });
});
